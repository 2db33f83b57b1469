"""Kaldi-style lists ("utt_id value" per line) read and written the same way by every stage.

The id ends at the first blank and the value is the rest of the line, so values
(paths) may hold spaces, quotes, leading dashes and any UTF-8 text, while ids
cannot hold whitespace: an id with a space would silently become a shorter id
and a different path. :func:`write_scp` therefore refuses such ids (and values
that would not read back the same), and ids that name files must also pass
:func:`utt_file_name`.
"""

from pathlib import Path
from typing import Dict, Union

from espnet2_tisdiss.fileio.atomic_io import write_atomic


def read_scp(path: Union[str, Path]) -> Dict[str, str]:
    """``{utt_id: value}`` in file order; the value is everything after the first blank.

    Raises:
        ValueError: a missing file, a line without a value, or a repeated id.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"missing scp file: {path}")
    entries: Dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.strip().split(maxsplit=1)
        if len(parts) != 2:
            raise ValueError(f"{path}:{number}: expected 'utt_id path', got {line!r}")
        if parts[0] in entries:
            raise ValueError(f"{path}:{number}: duplicate utterance id {parts[0]!r}")
        entries[parts[0]] = parts[1]
    return entries


def line_number(path: Union[str, Path], utt: str) -> int:
    """The 1-based line of ``path`` where ``utt`` is listed (0 when it is not found)."""
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.split(maxsplit=1)
        if parts and parts[0] == utt:
            return number
    return 0


def utt_file_name(utt: str) -> str:
    """``utt`` when it can name a file inside a folder (outputs are ``<utt>.wav``).

    Raises:
        ValueError: the id holds a slash or a NUL, or is "." or "..", so
            that a file named after it would land elsewhere.
    """
    if not utt or "/" in utt or "\0" in utt or utt in (".", ".."):
        raise ValueError(f"utterance id {utt!r} cannot name an output file (it holds '/' or NUL, or is "
                         "'.' or '..'); rename the utterance in the data dir's lists")
    return utt


def check_entry(path: Union[str, Path], key: str, value: str) -> None:
    """Raise a ValueError if ``key value`` would not read back as the same entry."""
    if not key or any(c.isspace() for c in key):
        raise ValueError(f"{path}: utterance id {key!r} is empty or contains whitespace; Kaldi lists end the "
                         "id at the first blank. Rename it (e.g. spaces to '_')")
    if not value or value != value.strip() or "\n" in value or "\r" in value:
        raise ValueError(f"{path}: the value of {key!r} ({value!r}) is empty, has a line break, or starts or "
                         "ends with whitespace, which a Kaldi list cannot hold")


def write_scp(path: Union[str, Path], entries: Dict[str, str]) -> None:
    """Write ``entries`` sorted by utterance id, atomically (``espnet2_tisdiss.fileio.atomic_io``).

    Raises:
        ValueError: an id with whitespace, or a value that would not read back
            the same (:func:`check_entry`); nothing is written.
        OutputWriteError: the disk is full or the folder is not writable; a
            previous ``path`` is left unchanged.
    """
    for key, value in entries.items():
        check_entry(path, key, value)
    write_atomic(path, "".join(f"{k} {v}\n" for k, v in sorted(entries.items())))
