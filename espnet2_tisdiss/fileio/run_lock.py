"""One run at a time per output folder: an exclusive ``flock`` on a lock file in that folder.

Two runs writing into the same experiment folder (two ``run.sh`` started by
mistake, or a stage rerun while the first is still going) would overwrite each
other's checkpoints and decodes. Each run therefore takes an exclusive,
non-blocking ``fcntl.flock`` on a lock file before it writes; a second run is
refused at once with a message naming the folder and the holder (PID, host,
start time, command), which the holder writes into the lock file.

The kernel drops a ``flock`` when the last descriptor of the locked file is
closed, i.e. when the holder dies, however it dies (SIGKILL included), so a
stale lock never needs removing by hand. The lock file itself stays (empty
of meaning once nobody holds it).

Two ways to hold it:
    with hold_lock(folder / ".lock", "decoding"):   # in Python, for the block
        ...
    exec 9>>"$exp/.lock"                             # in a shell script, for its lifetime:
    python -m espnet2_tisdiss.fileio.run_lock --fd 9 --path "$exp/.lock" --pid $$
A lock taken on an inherited descriptor belongs to the open file, which the
shell keeps open, so it outlives the short Python process and is released
when the shell and every child that inherited descriptor 9 have ended.

flock works between processes of one machine, and on network file systems only
where they implement it (NFSv4 maps it to byte-range locks); runs on several
nodes of one training job share the folder on purpose, so only node 0 locks.
"""

import argparse
import fcntl
import os
import socket
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Optional, Union


class RunLockError(RuntimeError):
    """Another process holds the lock of the folder."""


def holder_description(lock_path: Path) -> str:
    """What the holder wrote into the lock file, or a placeholder when it wrote nothing yet."""
    try:
        text = lock_path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        text = ""
    return text or "a process that has not yet written its PID"


def lock_error(lock_path: Path, what: str) -> RunLockError:
    """The refusal message: the folder, the holder, and what to do."""
    return RunLockError(
        f"{lock_path.parent} is in use by another run ({holder_description(lock_path)}); "
        f"{what} was not started, so that the two runs do not overwrite each other's files. "
        f"Wait for that run to finish or stop it; its lock ({lock_path}) is released as soon as it "
        "ends, even if it is killed."
    )


def describe_holder(pid: int, command: str) -> str:
    """``pid <p> on <host> since <time>: <command>``, the text written into a held lock file."""
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    return f"pid {pid} on {socket.gethostname()} since {started}: {command}"


def lock_fd(fd: int, lock_path: Path, pid: int, command: str, what: str) -> None:
    """Lock the open file ``fd`` (of ``lock_path``) exclusively, then record the holder in it.

    Raises:
        RunLockError: another process holds it.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise lock_error(lock_path, what) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, (describe_holder(pid, command) + "\n").encode("utf-8"), 0)


@contextmanager
def hold_lock(lock_path: Union[str, Path], what: str, command: Optional[str] = None) -> Iterator[Path]:
    """Hold the lock ``lock_path`` (created, with its folder, if missing) for the block.

    Args:
        lock_path: the lock file, e.g. ``<exp>/.lock``.
        what: what the refused run was about to do, for the message ("decoding").
        command: how the holder is described (default: this process's command line).

    Raises:
        RunLockError: another process holds it.
    """
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        lock_fd(fd, lock_path, os.getpid(), command or " ".join(sys.argv), what)
        try:
            yield lock_path
        finally:
            os.ftruncate(fd, 0)  # nobody holds it any more
    finally:
        os.close(fd)  # releases the flock


def main(cmd=None) -> None:
    """Lock a descriptor the calling shell opened (``exec 9>>lockfile``), for the shell's lifetime."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--fd", type=int, required=True, help="the descriptor the shell opened on --path")
    parser.add_argument("--path", type=Path, required=True, help="the lock file (named in messages)")
    parser.add_argument("--pid", type=int, required=True, help="the PID of the shell that holds the lock")
    parser.add_argument("--command", default="", help="the holder's command line, for messages")
    parser.add_argument("--what", default="this run", help="what a refused run was about to do")
    args = parser.parse_args(cmd)
    try:
        lock_fd(args.fd, args.path, args.pid, args.command, args.what)
    except RunLockError as err:
        sys.exit(f"error: {err}")
    except OSError as err:
        sys.exit(f"error: cannot lock {args.path} (descriptor {args.fd}): {err}")


if __name__ == "__main__":
    main()
