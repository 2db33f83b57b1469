"""Two runs in one experiment folder: the second is refused by name, and a dead holder frees the folder."""

import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from espnet2_tisdiss.fileio.run_lock import RunLockError, hold_lock
from tests.recipes.conftest import recipe, run_recipe  # noqa: F401 (fixture)

HOLDER = """
import sys, time
from espnet2_tisdiss.fileio.run_lock import hold_lock
with hold_lock(sys.argv[1], "a test", command="the holder"):
    print("held", flush=True)
    time.sleep(600)
"""


def start_holder(lock_path) -> subprocess.Popen:
    """A process that holds ``lock_path`` until killed."""
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock_path)], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    return holder


def test_second_holder_is_refused_and_a_killed_holder_frees_the_lock(tmp_path):
    lock_path = tmp_path / "exp dir 'q' ü/.lock"
    holder = start_holder(lock_path)
    try:
        with pytest.raises(RunLockError) as caught:
            with hold_lock(lock_path, "decoding"):
                pass
        message = str(caught.value)
        assert message.startswith(f"{lock_path.parent} is in use by another run (pid {holder.pid} on "
                                  f"{socket.gethostname()} since ")
        assert "the holder); decoding was not started" in message
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with hold_lock(lock_path, "decoding", command="the second run"):  # no stale lock to remove
        assert "the second run" in lock_path.read_text()
    assert lock_path.read_text() == ""  # released: no holder described


def test_enh_sh_refuses_a_second_run_of_the_same_experiment(recipe):  # noqa: F811
    lock_path = recipe / "exp/tisdiss_tiny/.lock"
    args = ("--stage", "5", "--stop_stage", "5", "--enh_config", "../../../conf/tisdiss_tiny.yaml")
    with hold_lock(lock_path, "a test", command="./run.sh --stage 4 (the first run)"):
        proc = run_recipe(recipe, *args, check=False)
    assert proc.returncode != 0
    assert (f"error: exp/tisdiss_tiny is in use by another run (pid {os.getpid()} on {socket.gethostname()}"
            in proc.stderr)
    assert "./run.sh --stage 4 (the first run)" in proc.stderr and "Stage 5" not in proc.stderr
    proc = run_recipe(recipe, *args, check=False)  # the first run has ended
    assert "in use by another run" not in proc.stderr and "Stage 5" in proc.stderr


def test_enh_sh_data_stages_lock_the_dump_dir(recipe):  # noqa: F811
    with hold_lock(recipe / "dump/.lock", "a test", command="another corpus preparation"):
        proc = run_recipe(recipe, "--stage", "2", "--stop_stage", "2", check=False)
    assert proc.returncode != 0
    assert "error: dump is in use by another run" in proc.stderr and "Stage 2" not in proc.stderr


def test_enh_sh_lock_is_released_when_the_run_is_killed(recipe):  # noqa: F811
    """SIGKILL of run.sh's whole process group (mid-stage): the next run is not refused."""
    env = {**os.environ, "PATH": f"{os.path.dirname(sys.executable)}:{os.environ['PATH']}"}
    first = subprocess.Popen(["./run.sh", "--stage", "5", "--stop_stage", "5", "--enh_config",
                              "../../../conf/tisdiss_tiny.yaml"], cwd=recipe, env=env, start_new_session=True,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lock_path, log = recipe / "exp/tisdiss_tiny/.lock", recipe / "exp/tisdiss_tiny/logs/stage5_decode_test.log"
    deadline = time.time() + 60
    while time.time() < deadline and not log.exists():  # the decoder is starting (importing torch)
        time.sleep(0.05)
    assert first.poll() is None, first.stderr.read()
    assert "stages 5-5 (./enh.sh" in lock_path.read_text()
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    deadline = time.time() + 10  # the group's other processes (enh.sh, python, tee) are dying too
    while True:
        try:
            with hold_lock(lock_path, "a test"):
                break
        except RunLockError:
            assert time.time() < deadline, "the lock outlived the killed run"
            time.sleep(0.1)
