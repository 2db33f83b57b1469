"""A real ESPnet training run and inference through the plugin's entry points."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

from espnet2_tisdiss.bin import enh_inference
from tests.toy_corpus import write_set

REPO = Path(__file__).resolve().parents[2]


def run(args, cwd, log):
    proc = subprocess.run([sys.executable, "-m", *args], cwd=cwd, capture_output=True, text=True)
    (cwd / log).write_text(proc.stdout + proc.stderr)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout + proc.stderr


def data_args(split, data, prefix):
    return [
        arg
        for name, scp in (("speech_mix", "wav.scp"), ("speech_ref1", "spk1.scp"), ("speech_ref2", "spk2.scp"))
        for arg in (f"--{prefix}data_path_and_name_and_type", f"{data / split / scp},{name},sound")
    ]


def epoch_stats(log: str, epoch: int) -> dict:
    line = re.search(rf"{epoch}epoch results: \[train\] (.*?)\[valid\]", log).group(1)
    return {k: float(v) for k, v in re.findall(r"(\w+)=(-?[\d.]+)", line)}


@pytest.mark.slow
def test_two_epochs_then_inference_at_depth_1_and_8(tmp_path):
    data = tmp_path / "data"
    write_set(data, "train", 8, seed=0)
    write_set(data, "valid", 2, seed=1)
    write_set(data, "test", 2, seed=2, seconds=0.7)
    log = run(
        ["espnet2_tisdiss.bin.enh_train", "--config", str(REPO / "conf/tisdiss_tiny.yaml"),
         "--ngpu", "0", "--output_dir", "exp", "--seed", "0",
         *data_args("train", data, "train_"), *data_args("valid", data, "valid_"),
         "--train_shape_file", str(data / "train/speech_shape"),
         "--valid_shape_file", str(data / "valid/speech_shape")],
        tmp_path, "train.log",
    )
    first, second = epoch_stats(log, 1), epoch_stats(log, 2)
    for stage in ("si_snr_loss_split", "si_snr_loss_rep1", "si_snr_loss_rep2", "si_snr_loss"):
        assert stage in first
    assert second["loss"] < first["loss"]
    exp = tmp_path / "exp"
    assert (exp / "2epoch.pth").is_file() and (exp / "valid.loss.best.pth").is_file()

    outputs = {}
    for reps in (1, 8):
        run(["espnet2_tisdiss.bin.enh_inference", "--ngpu", "0",
             "--data_path_and_name_and_type", f"{data / 'test/wav.scp'},speech_mix,sound",
             "--train_config", str(exp / "config.yaml"), "--model_file", str(exp / "valid.loss.best.pth"),
             "--output_dir", f"out{reps}", "--inference_reps", str(reps)],
            tmp_path, f"infer{reps}.log")
        for utt in ("test_000", "test_001"):
            mix, fs = sf.read(data / "test/wav" / f"{utt}_mix.wav")
            for spk in (1, 2):
                est, est_fs = sf.read(tmp_path / f"out{reps}/wavs/{spk}/{utt}.wav")
                assert est_fs == fs and est.shape == mix.shape
                outputs[reps, utt, spk] = est
    assert abs(outputs[1, "test_000", 1] - outputs[8, "test_000", 1]).max() > 1e-4


@pytest.mark.parametrize("bad", ["0", "-2", "1.5", "two"])
def test_inference_reps_must_be_a_positive_integer(bad, capsys):
    with pytest.raises(SystemExit) as exit_info:
        enh_inference.main(["--inference_reps", bad, "--output_dir", "unused"])
    assert exit_info.value.code == 2
    assert "--inference_reps: must be an integer >= 1" in capsys.readouterr().err
