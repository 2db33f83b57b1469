"""run.sh's long stages killed (SIGKILL of the whole process group) inside their work, then rerun.

- Decoding (stage 5) and scoring (stage 6), each killed twice in a row: the
  final rerun's outputs equal those of an uninterrupted run: the same samples in
  every wav (libsndfile stamps the write time into float wavs, so their bytes
  are not compared), the same lists, scores.tsv and summary.json byte for byte,
  and RESULTS.md but for its date line. Whatever a killed scoring run left is complete.
- Training (stage 4): the rerun resumes from the last finished epoch (ESPnet's
  --resume), reaches the last epoch, and its averaged model loads strictly, is
  finite, and decodes and scores (stages 5-6). Its weights are also compared
  with an uninterrupted run's (see ``test_training_killed_then_resumed``).

Each kill waits for a progress marker inside the stage's work (utterances in
the decode journal, the scoring's progress bar or its results step, an epoch
started in the training log), then for a random part of a step, and checks that
the run was still running and its final output absent; a run that ended first
fails the test. The moment and what was finished are printed (run with -s).
"""

import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf
import torch

from espnet2_tisdiss.fileio.checkpoint import load_state_dict_file
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask
from tests.recipes.conftest import copy_recipes, run_recipe
from tests.toy_corpus import write_set

TINY = ("--enh_config", "../../../conf/tisdiss_tiny.yaml", "--min_seconds", "0.1", "--inference_reps", "1 2",
        "--test_sets", "test")
TRAIN = ("--enh_args", "--max_epoch 3 --num_iters_per_epoch 2")
SCORED = {"scores.tsv", "summary.json", "RESULTS.md"}
TEST_UTTS = 12
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """A recipe copy with a toy corpus formatted (stages 2-3).

    Every run here uses one thread (OMP_NUM_THREADS=1): two threads spin-waiting on a loaded
    2-core machine make a stage's duration vary tenfold, and the kill moments are drawn from it.
    """
    threads = os.environ.get("OMP_NUM_THREADS")
    os.environ["OMP_NUM_THREADS"] = "1"
    root = tmp_path_factory.mktemp("killed")
    recipe = copy_recipes(root) / "mini_2mix/enh1"
    for name, count, seed in (("train", 4, 0), ("dev", 2, 1), ("test", TEST_UTTS, 2)):
        write_set(recipe / "data", name, count, seed, seconds=1.5)
    run_recipe(recipe, "--stage", "2", "--stop_stage", "3", *TINY)
    yield recipe
    if threads is None:
        del os.environ["OMP_NUM_THREADS"]
    else:
        os.environ["OMP_NUM_THREADS"] = threads


def exists(path: Path):
    return lambda: path.exists()


def missing(path: Path):
    return lambda: not path.exists()


def start(recipe: Path, args) -> subprocess.Popen:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    return subprocess.Popen(["./run.sh", *args], cwd=recipe, env=env, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def wait_until(proc: subprocess.Popen, ready) -> float:
    """Poll until ``ready()`` (the stage has started its work) or the run ends; returns the time."""
    while not ready() and proc.poll() is None:
        time.sleep(0.02)
    return time.monotonic()


def has_lines(path: Path, count: int):
    return lambda: path.exists() and len(path.read_text().splitlines()) >= count


def contains(path: Path, pattern: str):
    return lambda: path.exists() and re.search(pattern, path.read_text()) is not None


def timed_run(recipe: Path, ready, *args: str, finished=None) -> float:
    """Run to the end; returns the seconds of the stage's work: from ``ready()`` to ``finished()``
    (default: to the end of the run)."""
    proc = start(recipe, args)
    began = wait_until(proc, ready)
    ended = wait_until(proc, finished) if finished else None
    output = proc.communicate()[0]
    assert proc.returncode == 0, output[-3000:]
    return (ended or time.monotonic()) - began


def killed_run(recipe: Path, ready, finished, jitter: float, label: str, *args: str) -> None:
    """Start run.sh; once ``ready()`` and a random 0-``jitter`` s later, SIGKILL its process group.

    Fails unless the run was still running and ``finished()`` (its final output) false when killed.
    """
    delay = random.Random().uniform(0.0, jitter)
    proc = start(recipe, args)
    wait_until(proc, ready)
    time.sleep(delay)
    if proc.poll() is not None or finished():
        output = proc.communicate()[0]
        pytest.fail(f"{label}: the work ended before the kill ({delay:.2f} s after the marker)\n"
                    + output[-3000:])
    os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL and not finished()
    time.sleep(0.5)  # the rest of the group (enh.sh, python, tee) is gone too
    print(f"\n{label}: killed {delay:.2f} s after the progress marker")


def snapshot(folder: Path, names=None) -> dict:
    """{relative path: content}: wav samples and format; other files' lines with ``folder`` masked."""
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        if names is not None and path.name not in names:
            continue
        key = str(path.relative_to(folder))
        if path.suffix == ".wav":
            audio, rate = sf.read(path, dtype="float32")
            found[key] = (rate, sf.info(path).subtype, audio.tobytes())
        elif path.suffix != ".png" and path.name != "timing.json" and "logs" not in path.parts:
            lines = path.read_bytes().replace(str(folder.resolve()).encode(), b"<dir>").splitlines()
            found[key] = [line for line in lines if not line.startswith(b"- date: ")]  # RESULTS.md's
    return found


@pytest.fixture(scope="module")
def trained(prepared) -> None:
    """Stage 4 uninterrupted in exp/."""
    run_recipe(prepared, "--stage", "4", "--stop_stage", "4", *TINY, *TRAIN)


def test_decoding_killed_twice_then_rerun_gives_the_same_outputs(prepared, trained):
    decode = prepared / "exp/tisdiss_tiny/decode_valid.loss.ave/test"
    journal = decode / ".decode_progress.jsonl"
    args = ("--stage", "5", "--stop_stage", "5", *TINY)
    ended = missing(journal)  # removed once the lists are written
    work = timed_run(prepared, exists(journal), *args, finished=ended)
    reference = snapshot(decode)
    assert len([k for k in reference if k.endswith(".wav")]) == TEST_UTTS * 2 * 2
    for kill, records in ((1, 3), (2, 8)):  # the second run resumes the first, and is killed too
        # after `records` utterances (the header is line 1), within about one more
        marker = has_lines(journal, 1 + records)
        killed_run(prepared, marker, ended, work / TEST_UTTS, f"stage 5, kill {kill}", *args)
        done = len(journal.read_text().splitlines()) - 1
        print(f"stage 5, kill {kill}: utterances finished: {done} of {TEST_UTTS}")
        assert records <= done < TEST_UTTS
    proc = run_recipe(prepared, *args)
    assert f"{done} utterance(s) already done" in proc.stdout + proc.stderr
    assert snapshot(decode) == reference
    assert not journal.exists() and not list(decode.rglob(".*.partial"))


def remove_scores(exp: Path) -> None:
    """Delete the scoring outputs and log, so that what a killed run leaves is its own."""
    logs = [exp / "logs/stage6_score_test.log", exp / "logs/stage6_results.log"]
    for path in [p for p in exp.rglob("*") if p.name in SCORED] + logs:
        path.unlink(missing_ok=True)


def test_scoring_killed_twice_then_rerun_gives_the_same_outputs(prepared, trained):
    exp = prepared / "exp/tisdiss_tiny"
    if not (exp / "decode_valid.loss.ave/test/timing.json").exists():
        run_recipe(prepared, "--stage", "5", "--stop_stage", "5", *TINY)
    args = ("--stage", "6", "--stop_stage", "6", *TINY)
    remove_scores(exp)
    run_recipe(prepared, *args)
    reference = snapshot(exp, SCORED)
    assert len(reference) == 4  # 2 depths' scores.tsv, summary.json, RESULTS.md
    ended = exists(exp / "RESULTS.md")
    markers = (  # the scoring's progress bar is up (~1 s of scoring left); RESULTS.md's step began (~5 s)
        (contains(exp / "logs/stage6_score_test.log", r"\b0/12\b"), 0.5),
        (exists(exp / "logs/stage6_results.log"), 0.5),
    )
    for kill, (marker, jitter) in enumerate(markers, 1):
        remove_scores(exp)
        killed_run(prepared, marker, ended, jitter, f"stage 6, kill {kill}", *args)
        left = snapshot(exp, SCORED)
        print(f"stage 6, kill {kill}: outputs written before it: {sorted(left)}")
        assert "RESULTS.md" not in left
        for key, content in left.items():
            assert content == reference[key]  # present ones are complete
    assert len(left) == 3  # the second kill came after the scores and summary.json were written
    run_recipe(prepared, *args)
    assert snapshot(exp, SCORED) == reference
    assert (exp / "quality_vs_depth.png").read_bytes()[:4] == b"\x89PNG"


def test_training_killed_then_resumed(prepared, trained):
    """Compared: the resumed run finishes all epochs; its final model loads strictly, is finite, and
    decodes and scores. ESPnet reseeds every epoch (seed + epoch) and restores the model, optimizer
    and scheduler from checkpoint.pth, so the resumed run repeats the uninterrupted one: the final
    weights are checked equal to within float rounding (1e-6 relative)."""
    args = ("--stage", "4", "--stop_stage", "4", "--expdir", "exp_killed", *TINY, *TRAIN)
    shutil.copytree(prepared / "exp/stats_8000", prepared / "exp_killed/stats_8000")  # stage 3's output
    exp = prepared / "exp_killed/tisdiss_tiny"
    epoch = random.Random().choice((2, 3))  # killed within its first second, after 1-2 finished epochs
    started = contains(exp / "logs/stage4_train.log", rf"INFO: {epoch}/3epoch started")
    killed_run(prepared, started, exists(exp / "3epoch.pth"), 1.0, f"stage 4, epoch {epoch}", *args)
    print(f"stage 4: weights kept: {sorted(p.name for p in exp.glob('*epoch.pth'))}")
    assert (exp / "checkpoint.pth").exists()
    proc = run_recipe(prepared, *args)
    assert "resumed" in proc.stdout + proc.stderr
    assert (exp / "3epoch.pth").exists() and (exp / "valid.loss.ave.pth").exists()
    model, _ = TISDiSSEnhancementTask.build_model_from_file(exp / "config.yaml", None, "cpu")
    averaged = load_state_dict_file(exp / "valid.loss.ave.pth")
    model.load_state_dict(averaged, strict=True)
    assert all(torch.isfinite(v).all() for v in averaged.values() if v.is_floating_point())
    uninterrupted = load_state_dict_file(prepared / "exp/tisdiss_tiny/3epoch.pth")
    final = load_state_dict_file(exp / "3epoch.pth")
    worst = max(float((final[k].float() - v.float()).abs().max() / (v.float().abs().max() + 1e-12))
                for k, v in uninterrupted.items() if v.is_floating_point())
    print(f"stage 4: largest relative difference to the uninterrupted run's 3epoch.pth: {worst:.2e}")
    assert worst <= 1e-6
    run_recipe(prepared, "--stage", "5", "--stop_stage", "6", "--expdir", "exp_killed", *TINY)
    summary = (exp / "decode_valid.loss.ave/test/summary.json").read_text()
    assert '"si_snr": null' not in summary and "NaN" not in summary
