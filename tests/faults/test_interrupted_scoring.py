"""Scoring interrupted half-way (an exception, or SIGKILL), then rerun.

Whatever the point of interruption, each output is either absent or complete
(never truncated), and the rerun writes exactly the files, byte for byte, of a
run that was never interrupted.
"""

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from espnet2_tisdiss.stages import scoring
from tests.faults.injection import SimulatedCrash, WriteFault, crash
from tests.stages.test_scoring import make_set, write_depth

REPO = Path(__file__).resolve().parents[2]
OUTPUTS = ("reps1/scores.tsv", "reps3/scores.tsv", "summary.json")  # in the order scoring writes them


def decoded(root: Path, count: int = 1):
    """A data dir and a decode dir (depths 1 and 3, timing.json), the same for the same ``count``."""
    data, signals = make_set(root, count=count, seed=5)
    decode = root / "decode"
    write_depth(decode, 1, {u: [m, m] for u, (m, s) in signals.items()})
    write_depth(decode, 3, {u: [s[1] + 0.1 * s[0], s[0]] for u, (m, s) in signals.items()})
    (decode / "timing.json").write_text(json.dumps({"audio_seconds": 2.0, "seconds": {"1": 0.2, "3": 0.6}}))
    return data, decode


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The outputs of an uninterrupted run: {output: bytes}."""
    data, decode = decoded(tmp_path_factory.mktemp("uninterrupted"))
    scoring.score_test_set(data, decode, progress=False)
    return {name: (decode / name).read_bytes() for name in OUTPUTS}


def assert_absent_or_complete(decode: Path, reference: dict) -> None:
    for name in OUTPUTS:
        assert not (decode / name).exists() or (decode / name).read_bytes() == reference[name], name


def assert_rerun_matches(data: Path, decode: Path, reference: dict) -> None:
    scoring.score_test_set(data, decode, progress=False)
    assert {name: (decode / name).read_bytes() for name in OUTPUTS} == reference


@pytest.mark.parametrize("files_ok", range(len(OUTPUTS)))
def test_exception_while_writing_then_rerun(tmp_path, monkeypatch, reference, files_ok):
    data, decode = decoded(tmp_path)
    WriteFault(files_ok=files_ok, bytes_ok=7, make_error=crash).install(monkeypatch)
    with pytest.raises(SimulatedCrash):
        scoring.score_test_set(data, decode, progress=False)
    assert [name for name in OUTPUTS if (decode / name).exists()] == list(OUTPUTS[:files_ok])
    assert_absent_or_complete(decode, reference)
    assert not list(decode.rglob(".*.partial"))  # an exception cleans up its temporary file
    monkeypatch.undo()
    assert_rerun_matches(data, decode, reference)


def test_exception_between_utterances_then_rerun(tmp_path, monkeypatch):
    """A crash while scoring the second utterance, before any output is written."""
    data, decode = decoded(tmp_path / "uninterrupted", count=2)
    scoring.score_test_set(data, decode, progress=False)
    reference = {name: (decode / name).read_bytes() for name in OUTPUTS}
    data, decode = decoded(tmp_path / "interrupted", count=2)
    calls = []

    def score_then_crash(job):
        if calls:
            raise SimulatedCrash("crashed on the second utterance")
        calls.append(job[0])
        return original(job)

    original = scoring.score_job
    monkeypatch.setattr(scoring, "score_job", score_then_crash)
    with pytest.raises(SimulatedCrash):
        scoring.score_test_set(data, decode, progress=False)
    assert not any((decode / name).exists() for name in OUTPUTS)
    monkeypatch.undo()
    assert_rerun_matches(data, decode, reference)


KILLED_RUN = """
import sys
from tests.faults.injection import WriteFault, kill_self
from espnet2_tisdiss.bin import score_separation
WriteFault(files_ok=int(sys.argv[1]), bytes_ok=7, make_error=kill_self).install()
score_separation.main(sys.argv[2:])
"""


def score_command(data: Path, decode: Path) -> list:
    return ["--data_dir", str(data), "--decode_dir", str(decode), "--no_progress"]


@pytest.mark.parametrize("files_ok", range(len(OUTPUTS)))
def test_sigkill_in_the_middle_of_a_write_then_rerun(tmp_path, reference, files_ok):
    """The process kills itself (SIGKILL) after writing 7 bytes of output number files_ok."""
    data, decode = decoded(tmp_path)
    done = subprocess.run([sys.executable, "-c", KILLED_RUN, str(files_ok), *score_command(data, decode)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert [name for name in OUTPUTS if (decode / name).exists()] == list(OUTPUTS[:files_ok])
    assert_absent_or_complete(decode, reference)
    partial = [p for p in decode.rglob(".*") if p.is_file()]  # only a kill can leave its temporary file
    assert [p.read_bytes() for p in partial] == [reference[OUTPUTS[files_ok]][:7]]
    assert partial[0].name.startswith(f".{Path(OUTPUTS[files_ok]).name}.") and partial[0].suffix == ".partial"
    assert_rerun_matches(data, decode, reference)


def test_sigkill_after_a_random_delay_then_rerun(tmp_path, reference):
    data, decode = decoded(tmp_path)
    delay = random.Random().uniform(0.5, 6.0)
    process = subprocess.Popen([sys.executable, "-m", "espnet2_tisdiss.bin.score_separation",
                                *score_command(data, decode)], cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    written = [name for name in OUTPUTS if (decode / name).exists()]
    assert written == list(OUTPUTS[:len(written)]), f"killed after {delay:.2f} s"
    assert_absent_or_complete(decode, reference)
    assert_rerun_matches(data, decode, reference)
