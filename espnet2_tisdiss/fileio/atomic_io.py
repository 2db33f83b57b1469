"""Write outputs atomically, so that an interrupted run never leaves a truncated file.

Every output is first written to a hidden temporary file beside its target,
``.<name>.<random>.partial`` (same folder, hence same filesystem), flushed to
disk, then renamed over the target with ``os.replace``, which is atomic on
POSIX and Windows. Whatever stops the writer (an exception, a full disk,
SIGKILL), the target holds either its previous content or the complete new
one. The temporary file is removed when the write fails; only a killed process
can leave one behind, and no reader looks at it (its name is hidden and listed
nowhere). A writer that resumes a killed run in a folder it owns (e.g. the
decode stage under its lock) removes them with ``remove_leftovers(folder)``.

A full disk or quota (ENOSPC, EDQUOT), or another OS error while writing,
raises :class:`OutputWriteError` (an ``OSError``) whose message names the
target, e.g. ``no space left on device while writing exp/x/summary.json``.

Usage:
    with atomic_write(path, "w") as f:       # "wb" for bytes; f is a file object
        f.write(text)                        # any writer taking a file object works:
    with atomic_write(path, "wb") as f:      # tarfile.open(fileobj=f, mode="w:gz"),
        torch.save(state, f)                 # figure.savefig(f, format="png"), ...
    write_atomic(path, text_or_bytes)
    write_wav_atomic(path, audio, fs)        # not sf.write(f, ...): libsndfile's callbacks
                                             # would swallow a write error
    with atomic_dir(folder) as work:         # build a whole folder in ``work``;
        ...                                  # it replaces ``folder`` at the end
    remove_leftovers(folder)                 # what killed writers left under ``folder``

``sync=False`` skips the fsync (faster for many small files, still safe against
a killed process, not against a power cut).
"""

import errno
import io
import os
import re
import secrets
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator, Union

import numpy as np
import soundfile as sf

PathLike = Union[str, Path]

# errno values that mean "this write cannot go on", as opposed to errors of the
# caller's own reads (e.g. a missing input), which pass through unchanged.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS})
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


class OutputWriteError(OSError):
    """Writing an output failed (disk full, read-only, I/O error); the target was left as it was."""


def write_error(path: PathLike, err: OSError) -> OutputWriteError:
    """An :class:`OutputWriteError` for ``err`` raised while writing ``path``."""
    if err.errno in NO_SPACE_ERRNOS:
        what = "no space left on device while writing"
    else:
        what = f"cannot write ({err.strerror or err})"
    error = OutputWriteError(
        f"{what} {path}; the previous {Path(path).name} (if any) is unchanged. "
        "Free some space (or fix the folder's permissions) and rerun."
    )
    error.errno = err.errno  # (setting filename too would replace the message in str())
    return error


def _partial_name(path: Path, kind: str) -> Path:
    """A hidden, unique sibling of ``path`` (the name is shortened to stay under NAME_MAX)."""
    return path.with_name(f".{path.name[:200]}.{secrets.token_hex(4)}.{kind}")


# The names _partial_name makes, and only those.
_LEFTOVER_NAME = re.compile(r"\..+\.[0-9a-f]{8}\.(partial|old)")


def _remove(path: Path) -> None:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        pass


def remove_leftovers(folder: PathLike) -> int:
    """Delete the temporary files and folders that killed writers left under ``folder``.

    Only for a folder the caller alone writes to (e.g. under a run lock): a live
    writer's temporary file would be deleted too. Returns how many were removed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return 0
    found = [path for path in folder.rglob(".*") if _LEFTOVER_NAME.fullmatch(path.name)]
    for path in sorted(found, key=lambda p: len(p.parts)):  # a folder before its contents
        _remove(path)
    return len(found)


@contextmanager
def _naming_write_failures(path: Path) -> Iterator[None]:
    """Inside a write block: a write failure becomes an OutputWriteError naming ``path``.

    Other errors (e.g. the caller's missing input) pass through unchanged.
    """
    try:
        yield
    except OSError as err:
        if err.errno in WRITE_ERRNOS and not isinstance(err, OutputWriteError):
            raise write_error(path, err) from err
        raise


def _close_quietly(handle: IO) -> None:
    """Close ``handle`` after a failure; a second error while flushing is not the news."""
    try:
        handle.close()
    except OSError:
        pass


def _create_partial(path: Path) -> "tuple[Path, IO[bytes]]":
    """A new temporary file beside ``path``, opened for binary writing (mode 0666 & ~umask)."""
    while True:
        partial = _partial_name(path, "partial")
        try:
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        try:
            return partial, open(fd, "wb")
        except BaseException:
            os.close(fd)
            os.unlink(partial)
            raise


@contextmanager
def atomic_write(path: PathLike, mode: str = "w", encoding: str = "utf-8",
                 sync: bool = True) -> Iterator[IO]:
    """Yield a file object whose content replaces ``path`` when the block ends without error.

    Args:
        path: the target; its folder is created if missing.
        mode: "w" (text, ``encoding``) or "wb" (bytes).
        sync: flush the data to disk (fsync) before the rename, so that the
            rename never exposes a file whose blocks were not written.

    Raises:
        OutputWriteError: the disk is full, or the folder cannot be written;
            ``path`` is unchanged and no temporary file is left.
        ValueError: an unknown ``mode``.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write: mode must be 'w' or 'wb', got {mode!r}")
    path = Path(path)
    partial = None
    try:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial, raw = _create_partial(path)
        except OSError as err:
            raise write_error(path, err) from err
        handle = io.TextIOWrapper(raw, encoding=encoding) if mode == "w" else raw
        try:
            with _naming_write_failures(path):
                yield handle
            try:
                handle.flush()
                if sync:
                    os.fsync(raw.fileno())
                handle.close()
                os.replace(partial, path)
            except OSError as err:
                raise write_error(path, err) from err
            partial = None
        finally:
            _close_quietly(handle)
    finally:
        if partial is not None:
            _remove(partial)


def write_atomic(path: PathLike, data: Union[str, bytes], sync: bool = True) -> None:
    """Write ``data`` (str as UTF-8, or bytes) to ``path`` atomically."""
    with atomic_write(path, "w" if isinstance(data, str) else "wb", sync=sync) as handle:
        handle.write(data)


def write_wav_atomic(path: PathLike, audio: np.ndarray, fs: int, subtype: str = "FLOAT",
                     sync: bool = True) -> None:
    """Write ``audio`` ([S] or [S, channels]) as a WAV file at ``fs`` Hz, atomically."""
    # Encoded in memory first: libsndfile's callbacks on a Python file would swallow
    # a write error (e.g. ENOSPC) instead of raising it.
    buffer = io.BytesIO()
    sf.write(buffer, audio, fs, subtype=subtype, format="WAV")
    write_atomic(path, buffer.getvalue(), sync=sync)


@contextmanager
def atomic_dir(path: PathLike) -> Iterator[Path]:
    """Yield a new empty folder beside ``path`` that replaces ``path`` when the block succeeds.

    The previous ``path`` (if any) is renamed aside, the new folder renamed into
    place, then the old one deleted; a kill between the two renames leaves
    ``path`` missing (never half-written) and the old folder as a hidden
    ``.<name>.<random>.old`` beside it. On an error the new folder is deleted
    and ``path`` is unchanged.

    Raises:
        OutputWriteError: the disk is full or the parent folder cannot be written.
    """
    path = Path(path)
    work = _partial_name(path, "partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        work.mkdir()
    except OSError as err:
        raise write_error(path, err) from err
    try:
        with _naming_write_failures(path):
            yield work
        old = _partial_name(path, "old") if path.exists() or path.is_symlink() else None
        try:
            if old is not None:
                os.replace(path, old)
            os.replace(work, path)
        except OSError as err:
            if old is not None and old.exists() and not path.exists():
                os.replace(old, path)  # put the previous folder back
            raise write_error(path, err) from err
        if old is not None:
            _remove(old)
    finally:
        if work.exists():
            _remove(work)
