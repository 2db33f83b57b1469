"""tisdiss-separate: files, folders and wav.scp at any rate; bad files reported, the rest separated."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.bin.separate import main
from tests.inference.tiny_model import tiny_config, write_model

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return str(write_model(tmp_path_factory.mktemp("tiny"))["archive"])


def write(path: Path, seconds: float, fs: int, channels: int = 1, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = 0.1 * np.random.default_rng(seed).standard_normal((round(seconds * fs), channels))
    sf.write(path, audio, fs)
    return path


def run(capsys, *args):
    code = main(list(map(str, args)))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_folder_of_mixed_rates_and_channels_mirrored_into_output_dir(archive, tmp_path, capsys):
    data = tmp_path / "in"
    files = {"a8k.wav": (8000, 1), "sub/b16k.wav": (16000, 1), "sub/deeper/c44k.flac": (44100, 1),
             "st8k.wav": (8000, 2), "sub/st16k.wav": (16000, 2), "st44k.wav": (44100, 2)}
    for seed, (name, (fs, channels)) in enumerate(files.items()):
        write(data / name, 0.3, fs, channels, seed)
    (data / "notes.txt").write_text("not audio, and not picked up by extension")
    code, out, err = run(capsys, data, "--model", archive, "--output_dir", tmp_path / "out",
                         "--channel", 1, "--inference_reps", 2)
    assert code == 0, err
    for name, (fs, _) in files.items():
        for j in (1, 2):
            output = tmp_path / "out" / Path(name).with_suffix("").parent / f"{Path(name).stem}_spk{j}.wav"
            info = sf.info(output)
            assert (info.samplerate, info.frames, info.channels, info.subtype) == (fs, round(0.3 * fs), 1, "FLOAT")
        assert f"{data / name}: depth 2" in out
    assert "separated 6 of 6 file(s)" in err


def test_outputs_next_to_inputs_and_a_rerun_skips_them(archive, tmp_path, capsys):
    write(tmp_path / "mix.wav", 0.3, 16000)
    assert run(capsys, tmp_path, "--model", archive)[0] == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mix.wav", "mix_spk1.wav", "mix_spk2.wav"]
    code, out, err = run(capsys, tmp_path, "--model", archive)
    assert code == 0 and "separated 1 of 1 file(s)" in err


def test_wav_scp_named_by_utterance(archive, tmp_path, capsys):
    a, b = write(tmp_path / "x/a.wav", 0.3, 8000), write(tmp_path / "x/b.wav", 0.25, 16000)
    (tmp_path / "wav.scp").write_text(f"utt_a {a}\nutt_b {b}\n")
    code, out, err = run(capsys, tmp_path / "wav.scp", "--model", archive, "--output_dir", tmp_path / "sep")
    assert code == 0, err
    assert sf.info(tmp_path / "sep/utt_b_spk2.wav").frames == 4000
    assert sorted(p.name for p in (tmp_path / "sep").iterdir()) == [
        "utt_a_spk1.wav", "utt_a_spk2.wav", "utt_b_spk1.wav", "utt_b_spk2.wav"]


def test_bad_files_are_named_and_the_run_goes_on(archive, tmp_path, capsys):
    good = write(tmp_path / "good.wav", 0.3, 8000)
    assert run(capsys, good, "--model", archive)[0] == 0  # an earlier run's outputs
    earlier = sf.read(tmp_path / "good_spk1.wav")[0]
    (tmp_path / "empty.wav").write_bytes(b"")
    sf.write(tmp_path / "nan.wav", np.full(2400, np.nan), 8000, subtype="FLOAT")
    (tmp_path / "text.wav").write_text("hello\n" * 100)
    sf.write(tmp_path / "short.wav", np.zeros(40), 8000)
    sf.write(tmp_path / "stereo.wav", np.zeros((2400, 2)), 8000)
    late = write(tmp_path / "late.wav", 0.3, 16000)
    inputs = ["empty.wav", "nan.wav", "text.wav", "missing.wav", "short.wav", "stereo.wav", "good.wav", "late.wav"]
    code, out, err = run(capsys, *[tmp_path / name for name in inputs], "--model", archive)
    assert code == 1
    for name, message in [("empty.wav", "empty file"), ("nan.wav", "contains NaN"),
                          ("text.wav", "not an audio file"), ("missing.wav", "no such file"),
                          ("short.wav", "too short"), ("stereo.wav", "has 2 channels and the model is single-channel; pick one with --channel 0..1")]:
        assert f"error: {tmp_path / name}: {message}" in err
    assert "6 file(s) failed" in err and "separated 2 of 8 file(s)" in err
    assert sf.info(tmp_path / "late_spk2.wav").frames == sf.info(late).frames  # files after the bad ones
    np.testing.assert_allclose(sf.read(tmp_path / "good_spk1.wav")[0], earlier, atol=1e-7)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left
    assert not list(tmp_path.glob("nan_spk*")) and not list(tmp_path.glob("short_spk*"))


def test_auto_depth_is_reported_per_file(archive, tmp_path, capsys):
    write(tmp_path / "mix.wav", 0.4, 8000)
    code, out, err = run(capsys, tmp_path / "mix.wav", "--model", archive, "--inference_reps", "auto",
                         "--max_reps", 3, "--auto_threshold", 1e-9, "--chunk_seconds", 0.2,
                         "--overlap_seconds", 0.05)
    assert code == 0, err
    assert f"{tmp_path / 'mix.wav'}: depth 3.00 on average over 3 chunks (3-3)" in out


def test_train_config_and_model_file(tmp_path, capsys):
    files = write_model(tmp_path / "m")
    write(tmp_path / "mix.wav", 0.3, 8000)
    model = ["--train_config", files["config"], "--model_file", files["model"]]
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path / "mix.wav"), *map(str, model)])
    assert "sample rate of" in str(info.value.code) and "--model_fs 8000" in str(info.value.code)
    code, out, err = run(capsys, tmp_path / "mix.wav", *model, "--model_fs", 8000)
    assert code == 0 and (tmp_path / "mix_spk2.wav").is_file()


@pytest.mark.parametrize("args,message", [
    (["--inference_reps", "0"], "must be an integer >= 1"),
    (["--chunk_seconds", "2", "--overlap_seconds", "3"], "--overlap_seconds (3.0) must be below --chunk_seconds"),
    (["--dtype", "float16"], "invalid choice"),
])
def test_bad_options_stop_before_loading(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path), "--model", "x", *args])
    assert info.value.code != 0
    assert message in capsys.readouterr().err + str(info.value.code)


def test_model_errors(tmp_path, capsys):
    write(tmp_path / "mix.wav", 0.3, 8000)
    for args, message in [(["--model", "someone/not_cached", "--offline"], "not in the local Hugging Face cache"),
                          ([], "Shipped models:\n  mini_2mix: ")]:
        with pytest.raises(SystemExit) as info:
            main([str(tmp_path / "mix.wav"), *args])
        assert message in str(info.value.code)


def test_console_script_exit_status(archive, tmp_path):
    write(tmp_path / "mix.wav", 0.3, 8000)
    script = Path(sys.executable).with_name("tisdiss-separate")
    done = subprocess.run([str(script), "missing.wav", "mix.wav", "--model", archive, "--inference_reps", "1"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr[-2000:]
    assert "error: missing.wav: no such file" in done.stderr and "separated 1 of 2 file(s)" in done.stderr
    assert sf.info(tmp_path / "mix_spk1.wav").frames == 2400


MEASURE = """
import resource, runpy, sys, time
sys.argv = ["tisdiss-separate", *sys.argv[1:]]
start = time.perf_counter()
try:
    runpy.run_module("espnet2_tisdiss.bin.separate", run_name="__main__")
except SystemExit as done:
    code = done.code
print(f"MEASURED {time.perf_counter() - start:.1f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}", file=sys.stderr)
sys.exit(code)
"""


def separate_measured(*args, cwd):
    """Run ``python -m espnet2_tisdiss.bin.separate args`` in a fresh process; (seconds, peak RSS bytes)."""
    done = subprocess.run([sys.executable, "-c", MEASURE, *map(str, args)], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    seconds, kib = done.stderr.rsplit("MEASURED ", 1)[1].split()
    return float(seconds), int(kib) * 1024


@pytest.mark.slow
def test_ten_minutes_in_bounded_memory(tmp_path):
    # a still smaller model (C=4) so that ten minutes stay affordable on two CPU cores
    config = tiny_config(emb_dim=4, n_heads=1, ffn_hidden_dim=8, num_groups=1)
    archive = write_model(tmp_path / "micro", config)["archive"]
    short, long = write(tmp_path / "one_minute.wav", 60, 8000), write(tmp_path / "ten_minutes.wav", 600, 8000)
    options = ["--model", archive, "--inference_reps", "1", "--chunk_seconds", "20", "--overlap_seconds", "1"]
    _, short_peak = separate_measured(short, *options, cwd=tmp_path)
    seconds, long_peak = separate_measured(long, *options, cwd=tmp_path)
    for j in (1, 2):
        assert sf.info(tmp_path / f"ten_minutes_spk{j}.wav").frames == 600 * 8000
    # Only whole-signal buffers grow with the length (the input, the J outputs and their wav
    # encodings: a few float32 copies of the signal, 19 MB each); the model sees 20 s at a time.
    signal_bytes = 600 * 8000 * 4
    print(f"10 min at 8 kHz: {seconds:.0f} s, peak RSS {long_peak / 2**20:.0f} MiB "
          f"(1 min: {short_peak / 2**20:.0f} MiB)")
    assert long_peak - short_peak < 8 * signal_bytes


def test_int8_on_an_x86_cpu_and_refused_elsewhere(archive, tmp_path, capsys, monkeypatch):
    from espnet2_tisdiss import precision

    write(tmp_path / "mix.wav", 0.3, 8000)
    if precision.int8_available():
        code, _, err = run(capsys, tmp_path / "mix.wav", "--model", archive, "--dtype", "int8",
                           "--output_dir", tmp_path / "int8")
        assert code == 0 and "(int8)" in err
        run(capsys, tmp_path / "mix.wav", "--model", archive, "--dtype", "float32", "--output_dir", tmp_path / "f32")
        int8, f32 = (sf.read(tmp_path / f"{d}/mix_spk1.wav")[0] for d in ("int8", "f32"))
        assert int8.shape == f32.shape and 0 < np.linalg.norm(int8 - f32) < 0.2 * np.linalg.norm(f32)
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"asimd"}))  # as on an Arm CPU
    with pytest.raises(SystemExit) as info:
        main([str(tmp_path / "mix.wav"), "--model", archive, "--dtype", "int8", "--output_dir", str(tmp_path / "no")])
    assert "int8 cannot run on the CPU: it needs an x86 CPU with AVX2" in str(info.value.code)
    assert not (tmp_path / "no").exists()


def test_inference_sep_reps_option(archive, tmp_path, capsys):
    from espnet2_tisdiss.inference import Separator

    path = write(tmp_path / "mix.wav", 0.3, 8000)
    code, _, err = run(capsys, path, "--model", archive, "--output_dir", tmp_path / "out",
                       "--inference_reps", 2, "--inference_sep_reps", 3, "--dtype", "float32")
    assert code == 0, err
    audio = sf.read(path, dtype="float32")[0]
    expected = Separator.from_pretrained(archive, dtype="float32").separate(
        audio, 8000, inference_reps=2, inference_sep_reps=3).sources
    for j, source in enumerate(expected, start=1):
        np.testing.assert_allclose(sf.read(tmp_path / f"out/mix_spk{j}.wav")[0], source, atol=1e-6)
    with pytest.raises(SystemExit):
        run(capsys, path, "--model", archive, "--inference_sep_reps", 0)
    assert "argument --inference_sep_reps: must be an integer >= 1, got '0'" in capsys.readouterr().err
