"""Extract a gzipped tar from an untrusted source without letting it write anywhere else.

Only regular files with one of the expected flat names are extracted; every
other member is refused by name, with the reason: an absolute path, a ``..``
component, a symbolic or hard link, a device file or FIFO, a folder, a repeated
or an unexpected name. Sizes are checked on each member's header, before its
data is read: the unpacked total may not exceed ``max_bytes`` (2 GiB by
default) nor ``max_ratio`` times the archive's size (plus 1 MiB of slack for
small text files), which stops decompression bombs without decompressing them.
A truncated or corrupt archive raises :class:`ArchiveError`.

The caller extracts into a fresh folder (see ``espnet2_tisdiss.fileio.atomic_io.atomic_dir``),
so that a refused archive leaves nothing behind.
"""

import gzip
import shutil
import tarfile
import zlib
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Iterable, Optional, Set, Union

MAX_UNPACKED_BYTES = 2 * 1024 ** 3
MAX_RATIO = 100
RATIO_SLACK_BYTES = 1024 ** 2


class ArchiveError(ValueError):
    """An archive is missing, unreadable, hostile or not one of ours."""


def member_problem(member: tarfile.TarInfo, allowed: Iterable[str]) -> Optional[str]:
    """Why ``member`` may not be extracted, or None when it is an expected regular file."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or PureWindowsPath(member.name).anchor:
        return "absolute path"
    if ".." in name.parts or ".." in member.name.split("\\"):
        return "path escapes the target folder"
    if member.issym():
        return f"symbolic link to {member.linkname!r}"
    if member.islnk():
        return f"hard link to {member.linkname!r}"
    if member.isdev():
        return "device file or FIFO"
    if member.isdir():
        return "folder"
    if not member.isfile():
        return "not a regular file"
    if member.name not in allowed:
        return f"unexpected name (expected one of {sorted(allowed)})"
    return None


def size_limit(archive: Path, max_bytes: int, max_ratio: float) -> int:
    """The most bytes ``archive`` may unpack to."""
    return int(min(max_bytes, max_ratio * archive.stat().st_size + RATIO_SLACK_BYTES))


def _bound(archive: Path, total: int, max_bytes: int, max_ratio: float) -> str:
    """Which bound ``total`` unpacked bytes break, in words."""
    limit = size_limit(archive, max_bytes, max_ratio)
    if total > max_bytes:
        return f"so the members unpack to more than {max_bytes} bytes in total (the bound on unpacked size)"
    return (f"so the members unpack to more than {limit} bytes, over {max_ratio:g}x the archive's "
            f"{archive.stat().st_size} bytes plus {RATIO_SLACK_BYTES} (a decompression bomb)")


def _check_to_the_end(stream, budget: int, archive: Path) -> None:
    """Read the compressed stream to its end, so that gzip verifies its checksum (bounded)."""
    while True:
        chunk = stream.read(1 << 16)
        if not chunk:
            return
        budget -= len(chunk)
        if budget < 0:
            raise ArchiveError(f"{archive}: refused: the data after its last member breaks the bound "
                               "on unpacked size (a decompression bomb). Nothing was unpacked.")


def extract_regular_files(archive: Union[str, Path], dest: Union[str, Path], allowed: Iterable[str],
                          max_bytes: int = MAX_UNPACKED_BYTES, max_ratio: float = MAX_RATIO) -> Set[str]:
    """Extract the members of the gzipped tar ``archive`` into the folder ``dest``.

    Args:
        archive: the ``.tar.gz`` to read.
        dest: an existing, empty folder (a temporary one: on error it holds
            part of the files and must be deleted by the caller).
        allowed: the flat member names that may be extracted.
        max_bytes: the most the members may unpack to, in total.
        max_ratio: the most the members may unpack to per byte of the archive.

    Returns:
        the names extracted.

    Raises:
        ArchiveError: the archive is missing, truncated or corrupt, or holds a
            member that is refused (named, with the reason) or too large.
    """
    archive, dest, allowed = Path(archive), Path(dest), frozenset(allowed)
    if not archive.is_file():
        raise ArchiveError(f"archive {archive} does not exist or is not a file.")
    limit = size_limit(archive, max_bytes, max_ratio)
    extracted, total = set(), 0
    try:
        with tarfile.open(archive, "r:gz") as tar:
            for member in tar:  # one header at a time: nothing is read past a refusal
                problem = member_problem(member, allowed)
                if problem is None and member.name in extracted:
                    problem = "repeated name"
                if problem:
                    raise ArchiveError(f"{archive}: refused member {member.name!r} ({problem}); nothing was unpacked.")
                total += member.size
                if total > limit:
                    raise ArchiveError(f"{archive}: refused: member {member.name!r} declares {member.size} "
                                       f"bytes, {_bound(archive, total, max_bytes, max_ratio)}. Nothing was unpacked.")
                with tar.extractfile(member) as source, (dest / member.name).open("xb") as target:
                    shutil.copyfileobj(source, target)
                extracted.add(member.name)
            _check_to_the_end(tar.fileobj, limit - total, archive)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as err:
        raise ArchiveError(
            f"cannot read archive {archive}: it is truncated or corrupt ({err}). Nothing was unpacked."
        ) from err
    return extracted
