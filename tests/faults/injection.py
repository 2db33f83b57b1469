"""Inject faults into the files that ``espnet2_tisdiss.fileio.atomic_io`` writes.

``WriteFault`` replaces ``open`` inside atomic_io: the first ``files_ok``
files are written normally; the next one stops after ``bytes_ok`` bytes with
the fault: a full disk (``OSError(ENOSPC)``), a crash (any exception) or a
SIGKILL of the process itself. Every later file fails the same way.
"""

import builtins
import errno
import io
import os
import signal

from espnet2_tisdiss.fileio import atomic_io


def disk_full() -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


class SimulatedCrash(Exception):
    """Stands for any exception that stops a run half-way."""


def crash() -> Exception:
    return SimulatedCrash("simulated crash while writing")


def kill_self() -> Exception:
    os.kill(os.getpid(), signal.SIGKILL)
    return RuntimeError("not reached")


class _FailingFile(io.FileIO):
    """A file whose writes stop, with the fault, once ``fault.bytes_ok`` bytes are written."""

    def __init__(self, fd: int, fault: "WriteFault"):
        super().__init__(fd, "w")
        self.fault, self.written = fault, 0

    def write(self, data) -> int:
        room = self.fault.bytes_ok - self.written
        if room <= 0:
            raise self.fault.make_error()
        data = bytes(data)[:room]
        self.written += len(data)
        return super().write(data)


class WriteFault:
    """Let ``files_ok`` files through, then fail every file after ``bytes_ok`` bytes with ``make_error()``."""

    def __init__(self, files_ok: int = 0, bytes_ok: int = 10, make_error=disk_full):
        self.files_ok, self.bytes_ok, self.make_error = files_ok, bytes_ok, make_error
        self.opened = 0

    def open(self, file, mode="r", *args, **kwargs):
        self.opened += 1
        if self.opened <= self.files_ok or "w" not in mode:
            return builtins.open(file, mode, *args, **kwargs)
        return io.BufferedWriter(_FailingFile(file, self))

    def install(self, monkeypatch=None) -> "WriteFault":
        """Patch atomic_io (through pytest's ``monkeypatch`` when given, so that it is undone)."""
        if monkeypatch is not None:
            monkeypatch.setattr(atomic_io, "open", self.open, raising=False)
        else:
            atomic_io.open = self.open
        return self
