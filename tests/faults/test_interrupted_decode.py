"""The decode stage stopped half-way (a crash, a torn journal, a full disk), then rerun.

A rerun of the same model, depths and inputs decodes only the utterances that
were not finished, and its outputs are byte for byte those of a run that was
never interrupted; timing.json covers every utterance once. Anything that
changes what the outputs would be (another model, a changed input, a missing
output) is decoded again.
"""

import json
import os
from pathlib import Path

import pytest
import soundfile as sf

from espnet2_tisdiss.bin import separate_depths as cli
from espnet2_tisdiss.fileio import atomic_io
from espnet2_tisdiss.fileio.atomic_io import OutputWriteError
from espnet2_tisdiss.fileio.decode_journal import JOURNAL_NAME
from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from espnet2_tisdiss.fileio.run_lock import RunLockError, hold_lock
from espnet2_tisdiss.inference.model_loading import load_from_files
from espnet2_tisdiss.stages import decode
from tests.faults.injection import SimulatedCrash, WriteFault
from tests.inference.tiny_model import write_model
from tests.toy_corpus import write_set

DEPTHS = [1, 2]


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """(model, its files, {utt: wav path}, the outputs of an uninterrupted decode)."""
    root = tmp_path_factory.mktemp("decode")
    files = write_model(root / "model")
    model = load_from_files(files["config"], files["model"]).model
    data = write_set(root, "test", count=3, seed=3, seconds=0.2)
    wavs = read_scp(data / "wav.scp")
    reference = root / "reference"
    timing = decode.decode_set(model, wavs, reference, DEPTHS, fs=8000, model_id="m")
    return model, files, wavs, outputs(reference), timing


def outputs(folder: Path) -> dict:
    """{relative path: content} of every wav and list (not timing.json, whose seconds are measured).

    A wav's content is its rate, format and samples, bit for bit: libsndfile
    stamps the write time into float wavs (PEAK chunk), so their bytes differ.
    Lists hold absolute paths, compared relative to ``folder``.
    """
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "timing.json"):
        if path.suffix == ".wav":
            audio, rate = sf.read(path, dtype="float32")
            found[str(path.relative_to(folder))] = (rate, sf.info(path).subtype, audio.tobytes())
        else:
            found[str(path.relative_to(folder))] = path.read_text().replace(str(folder.resolve()), "<dir>")
    return found


def crash_after(monkeypatch, count: int) -> list:
    """Make decode.separate_depths crash on call number ``count + 1``; returns the list of calls."""
    calls, original = [], decode.separate_depths

    def separate(model, mixture, *args, **kwargs):
        calls.append(len(mixture))
        if len(calls) > count:
            raise SimulatedCrash("killed while separating")
        return original(model, mixture, *args, **kwargs)

    monkeypatch.setattr(decode, "separate_depths", separate)
    return calls


def assert_same_as_uninterrupted(out: Path, reference: dict, reference_timing: dict, timing: dict) -> None:
    assert outputs(out) == reference
    assert not (out / JOURNAL_NAME).exists() and not list(out.rglob(".*.partial"))
    assert timing["audio_seconds"] == reference_timing["audio_seconds"]
    assert list(timing["seconds"]) == list(reference_timing["seconds"])
    assert json.loads((out / "timing.json").read_text()) == timing


@pytest.mark.parametrize("finished", [0, 2])
def test_crash_between_utterances_then_the_rerun_continues(setup, tmp_path, monkeypatch, finished):
    model, _, wavs, reference, reference_timing = setup
    out = tmp_path / "out"
    crash_after(monkeypatch, finished)
    with pytest.raises(SimulatedCrash):
        decode.decode_set(model, wavs, out, DEPTHS, fs=8000, model_id="m")
    journal = (out / JOURNAL_NAME).read_text().splitlines()
    assert len(journal) == 1 + finished and not (out / "timing.json").exists()
    monkeypatch.undo()
    calls = crash_after(monkeypatch, len(wavs))  # counts, never crashes
    timing = decode.decode_set(model, wavs, out, DEPTHS, fs=8000, model_id="m")
    assert len(calls) == len(wavs) - finished  # only the unfinished utterances were separated
    assert_same_as_uninterrupted(out, reference, reference_timing, timing)


def test_a_torn_last_journal_line_is_decoded_again(setup, tmp_path, monkeypatch):
    model, _, wavs, reference, reference_timing = setup
    out = tmp_path / "out"
    crash_after(monkeypatch, 2)
    with pytest.raises(SimulatedCrash):
        decode.decode_set(model, wavs, out, DEPTHS, fs=8000, model_id="m")
    journal = out / JOURNAL_NAME
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:-1]) + lines[-1][:25])  # killed while appending record 2
    monkeypatch.undo()
    calls = crash_after(monkeypatch, len(wavs))
    timing = decode.decode_set(model, wavs, out, DEPTHS, fs=8000, model_id="m")
    assert len(calls) == len(wavs) - 1
    assert_same_as_uninterrupted(out, reference, reference_timing, timing)


def test_a_kill_while_writing_a_wav_leaves_nothing_after_the_rerun(setup, tmp_path, monkeypatch):
    model, _, wavs, reference, reference_timing = setup
    out = tmp_path / "out"
    written = []

    def killed_on_third_rename(source, target):
        written.append(target)
        if len(written) == 3:  # the journal, one wav, then the first utterance's second wav
            raise SimulatedCrash("killed between writing a wav and renaming it")
        os.rename(source, target)

    monkeypatch.setattr(atomic_io.os, "replace", killed_on_third_rename)
    monkeypatch.setattr(atomic_io, "_remove", lambda path: None)  # a killed process cleans nothing
    with pytest.raises(SimulatedCrash):
        decode.decode_set(model, wavs, out, DEPTHS, fs=8000, model_id="m")
    monkeypatch.undo()
    assert len(list(out.rglob(".*.partial"))) == 1
    timing = decode.decode_set(model, wavs, out, DEPTHS, fs=8000, model_id="m")
    assert_same_as_uninterrupted(out, reference, reference_timing, timing)


@pytest.mark.parametrize("change", ["model", "depths", "input", "output", "no id"])  # after 2 of 3
def test_what_changes_the_outputs_is_decoded_again(setup, tmp_path, monkeypatch, change):
    model, _, wavs, reference, _ = setup
    out = tmp_path / "out"
    first_id = None if change == "no id" else "m"
    crash_after(monkeypatch, 2)
    with pytest.raises(SimulatedCrash):
        decode.decode_set(model, wavs, out, DEPTHS, fs=8000, model_id=first_id)
    monkeypatch.undo()
    first = sorted(wavs)[0]
    model_id, depths, expected_calls = "m", DEPTHS, len(wavs)
    if change == "model":
        model_id = "another model"
    elif change == "depths":
        depths = [2]
    elif change == "input":
        os.utime(wavs[first], ns=(0, 0))
        expected_calls = 2  # the changed one and the unfinished one
    elif change == "output":
        (out / f"reps2/wavs/1/{first}.wav").unlink()
        expected_calls = 2
    calls = crash_after(monkeypatch, len(wavs))
    decode.decode_set(model, wavs, out, depths, fs=8000, model_id=model_id)
    assert len(calls) == expected_calls
    expected = {k: v for k, v in reference.items() if change != "depths" or k.startswith("reps2/")}
    assert outputs(out) == expected


def test_a_second_decode_into_the_same_folder_is_refused(setup, tmp_path):
    model, _, wavs, _, _ = setup
    out = tmp_path / "out"
    with hold_lock(decode.lock_file(out), "a test", command="the first decode"):
        with pytest.raises(RunLockError) as caught:
            decode.decode_set(model, wavs, out, DEPTHS, fs=8000, model_id="m")
    message = str(caught.value)
    assert f"{tmp_path} is in use by another run (pid {os.getpid()} on " in message
    assert "the first decode" in message and "released as soon as it ends" in message
    assert not out.exists()


def run_cli(files, data: Path, out: Path, *extra) -> None:
    cli.main(["--train_config", str(files["config"]), "--model_file", str(files["model"]),
              "--data_dir", str(data), "--output_dir", str(out), "--inference_reps", "1", "2", *extra])


def test_disk_full_names_the_wav_and_a_rerun_completes(setup, tmp_path, monkeypatch):
    _, files, wavs, reference, _ = setup
    data = Path(next(iter(wavs.values()))).parents[1]
    out = tmp_path / "out"
    WriteFault(files_ok=7, bytes_ok=100).install(monkeypatch)  # the journal, then 6 wavs: utterances 1-2
    with pytest.raises(SystemExit) as caught:
        run_cli(files, data, out)
    assert str(caught.value).startswith("error: no space left on device while writing ")
    assert str(caught.value).split(" while writing ")[1].split(";")[0].endswith(".wav")
    assert not list(out.rglob(".*.partial"))
    monkeypatch.undo()
    run_cli(files, data, out)
    assert outputs(out) == reference


def test_journal_disk_full_is_named(setup, tmp_path, monkeypatch):
    model, _, wavs, _, _ = setup
    out = tmp_path / "out"

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("espnet2_tisdiss.fileio.decode_journal.os.fsync", full)
    with pytest.raises(OutputWriteError, match=f"no space left on device while writing {out / JOURNAL_NAME}"):
        decode.decode_set(model, wavs, out, DEPTHS, fs=8000, model_id="m")


@pytest.mark.parametrize("content,message", [
    ("a: [unclosed\n", "cannot read training config"),
    ("!!python/object/apply:os.system ['true']\n", "cannot read training config"),
    ("encoder: stft\n", "is not an ESPnet enhancement training config (no 'separator' key)"),
])
def test_bad_training_config_is_an_error_not_a_traceback(setup, tmp_path, content, message):
    _, files, wavs, _, _ = setup
    config = tmp_path / "config.yaml"
    config.write_text(content)
    data = Path(next(iter(wavs.values()))).parents[1]
    with pytest.raises(SystemExit) as caught:
        run_cli({**files, "config": config}, data, tmp_path / "out")
    assert str(caught.value).startswith("error: ") and message in str(caught.value)
