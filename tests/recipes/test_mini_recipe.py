"""The mini recipe end to end on a shrunken corpus: stages 1-8, re-decoding, resuming, baseline."""

import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from tests.recipes.conftest import SMALL, run_recipe


def results_rows(results: Path):
    return re.findall(r"^\| test \| (\d+) \|", results.read_text(), flags=re.M)


@pytest.mark.slow
def test_stages_1_to_8(recipe, tmp_path):
    run_recipe(recipe, "--stop_stage", "7", *SMALL, "--inference_reps", "1 2 3 4 auto")
    exp = recipe / "exp/tisdiss_tiny"
    assert results_rows(exp / "RESULTS.md") == ["1", "2", "3", "4"]
    results = (exp / "RESULTS.md").read_text()
    assert re.search(r"^\| test \| auto \(\d\.\d\d\) \|", results, flags=re.M)
    assert re.findall(r"^\| test_unseen \| (\d+) \|", results, flags=re.M) == ["1", "2", "3", "4"]
    # "auto" was calibrated on the dev set, and the threshold is packed with the model
    calibration = json.loads((exp / "auto_calibration.json").read_text())
    assert calibration["num_utts"] == 2 and len(calibration["fixed_si_snr"]) == 8
    with tarfile.open(exp / "packed_model.tar.gz") as tar:
        meta = yaml.safe_load(tar.extractfile("meta.yaml"))
    assert meta["auto_threshold"] == pytest.approx(calibration["threshold"])
    assert (exp / "quality_vs_depth.png").read_bytes()[:4] == b"\x89PNG"
    for stage in (1, 3, 4, 7):
        assert list((exp / "logs").glob(f"stage{stage}_*.log"))
    dump = recipe / "dump/test"
    lengths = read_scp(dump / "utt2num_samples")
    utts = sorted(lengths)
    for depth in (1, 4):
        for utt in utts:
            est = sf.info(exp / f"decode_valid.loss.ave/test/reps{depth}/wavs/2/{utt}.wav")
            assert est.frames == int(lengths[utt])

    # re-decode and re-score at depth 3 alone, without retraining
    checkpoint_time = (exp / "checkpoint.pth").stat().st_mtime
    proc = run_recipe(recipe, "--stage", "5", "--stop_stage", "6", "--inference_reps", "3", *SMALL)
    assert results_rows(exp / "RESULTS.md") == ["3"]
    assert (exp / "checkpoint.pth").stat().st_mtime == checkpoint_time
    assert "Stage 4" not in proc.stderr

    # a grid over N_sep and depth: one row per pair and test set, sep<n> decode folders
    run_recipe(recipe, "--stage", "5", "--stop_stage", "6", "--inference_sep_reps", "1 2",
               "--inference_reps", "1 2 3", *SMALL)
    results = (exp / "RESULTS.md").read_text()
    for test_set in ("test", "test_unseen"):
        pairs = re.findall(rf"^\| {test_set} \| (\d) \| (\d) \|", results, flags=re.M)
        assert pairs == [(n, k) for n in "12" for k in "123"]
    grid = exp / "decode_valid.loss.ave/test"
    for utt in utts:  # the trained N_sep (1) is the plain decode's; twice differs
        plain = sf.read(grid / f"reps3/wavs/1/{utt}.wav")[0]
        np.testing.assert_allclose(sf.read(grid / f"sep1/reps3/wavs/1/{utt}.wav")[0], plain, atol=1e-6)
        assert np.abs(sf.read(grid / f"sep2/reps3/wavs/1/{utt}.wav")[0] - plain).max() > 1e-4
    assert (exp / "quality_vs_depth.png").read_bytes()[:4] == b"\x89PNG"

    # the packed model separates a wav from anywhere
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    mixture = elsewhere / "my mix.wav"
    audio, fs = sf.read(read_scp(dump / "wav.scp")[utts[0]])
    sf.write(mixture, audio, fs)
    # stages 5-6 on the packed model (--packed_model): the same estimates as the trained one's
    run_recipe(recipe, "--stage", "5", "--stop_stage", "6", "--packed_model", "exp/tisdiss_tiny/packed_model.tar.gz",
               "--inference_reps", "3", "--test_sets", "test")
    packed = recipe / "exp/packed_model"
    assert results_rows(packed / "RESULTS.md") == ["3"]
    for utt in utts:
        ours = sf.read(packed / f"decode_packed/test/reps3/wavs/1/{utt}.wav")[0]
        trained = sf.read(exp / f"decode_valid.loss.ave/test/reps3/wavs/1/{utt}.wav")[0]
        np.testing.assert_allclose(ours, trained, atol=1e-6)

    done = subprocess.run([sys.executable, "-m", "espnet2_tisdiss.bin.separate_depths",
                           "--model_archive", str(exp / "packed_model.tar.gz"), "--wav", str(mixture),
                           "--output_dir", "out", "--inference_reps", "2"], cwd=elsewhere,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    separated = sf.read(elsewhere / "out/reps2/wavs/1/my_mix.wav")[0]
    assert separated.shape == audio.shape

    # stage 8 without credentials stops before uploading
    env_home = tmp_path / "hf_home"
    os.environ.pop("HF_TOKEN", None)
    os.environ["HF_HOME"] = str(env_home)
    try:
        proc = run_recipe(recipe, "--stage", "8", "--stop_stage", "8", "--hf_repo", "someone/tisdiss_mini",
                          *SMALL, check=False)
    finally:
        del os.environ["HF_HOME"]
    assert proc.returncode != 0
    assert "no Hugging Face token" in proc.stdout + proc.stderr


@pytest.mark.slow
def test_training_killed_midway_resumes(recipe):
    run_recipe(recipe, "--stop_stage", "3", *SMALL)
    args = ["./run.sh", "--stage", "4", "--stop_stage", "4", *SMALL[:4],
            "--enh_args", "--max_epoch 3"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.Popen(args, cwd=recipe, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    exp = recipe / "exp/tisdiss_tiny"
    deadline = time.time() + 300
    while not (exp / "1epoch.pth").exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.5)
    assert (exp / "1epoch.pth").exists(), "training never reached epoch 1"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_until_unlocked(exp / ".lock")  # released when the killed run's last process is gone
    assert not (exp / "3epoch.pth").exists()
    done = run_recipe(recipe, "--stage", "4", "--stop_stage", "4", *SMALL[:4], "--enh_args", "--max_epoch 3")
    assert "resumed" in (done.stdout + done.stderr)
    assert (exp / "3epoch.pth").exists() and (exp / "valid.loss.ave.pth").exists()


def wait_until_unlocked(lock_file, timeout=60.0):
    """Wait until no process holds the run lock (a killed group takes a moment to exit)."""
    deadline = time.time() + timeout
    with open(lock_file, "a") as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                return
            except BlockingIOError:
                if time.time() > deadline:
                    raise AssertionError(f"{lock_file} still locked {timeout} s after SIGKILL")
                time.sleep(0.2)


@pytest.mark.slow
def test_tfgridnet_baseline_runs_stages_4_to_6(recipe):
    run_recipe(recipe, "--stop_stage", "3", *SMALL)
    run_recipe(recipe, "--stage", "4", "--stop_stage", "6", "--local_data_opts", SMALL[1],
               "--enh_config", "../../../conf/tfgridnet_mini.yaml",
               "--enh_args", "--max_epoch 1 --num_iters_per_epoch 2")
    assert results_rows(recipe / "exp/tfgridnet_mini/RESULTS.md") == ["1"]


@pytest.mark.slow
def test_dynamic_mixing_trains_on_the_sources_and_validates_on_the_stored_mixtures(recipe):
    run_recipe(recipe, "--stop_stage", "4", *SMALL, "--dynamic_mixing", "true")
    sources = read_scp(recipe / "dump/train_sources/utt2spk")
    pairs = read_scp(recipe / "dump/train/utt2spk")
    assert sorted(sources) == sorted(f"{utt}_s{j}" for utt in pairs for j in (1, 2))
    assert all(sources[f"{utt}_s{j}"] == pair.split("_")[j - 1] for utt, pair in pairs.items() for j in (1, 2))
    assert (recipe / "exp/stats_8000_dm/train/speech_ref1_shape").is_file()
    exp = recipe / "exp/tisdiss_tiny"
    trained = yaml.safe_load((exp / "config.yaml").read_text())
    assert trained["dynamic_mixing"] is True and trained["preprocessor"] == "dynamic_mixing_crop"
    assert trained["utt2spk"] == "dump/train_sources/utt2spk"
    assert trained["train_data_path_and_name_and_type"] == [["dump/train_sources/spk1.scp", "speech_ref1", "sound"]]
    assert [row[:2] for row in trained["valid_data_path_and_name_and_type"]] == [
        ["dump/dev/wav.scp", "speech_mix"], ["dump/dev/spk1.scp", "speech_ref1"], ["dump/dev/spk2.scp", "speech_ref2"]]
    log = (exp / "logs/stage4_train.log").read_text()
    assert "1epoch results" in log and "Can not find speech source" not in log
