"""Kaldi-style lists ("utt_id value" per line) read and written the same way by every stage."""

from pathlib import Path
from typing import Dict, Union

from espnet2_tisdiss.atomic_io import write_atomic


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


def write_scp(path: Union[str, Path], entries: Dict[str, str]) -> None:
    """Write ``entries`` sorted by utterance id, atomically (``espnet2_tisdiss.atomic_io``).

    Raises:
        OutputWriteError: the disk is full or the folder is not writable; a
            previous ``path`` is left unchanged.
    """
    write_atomic(path, "".join(f"{k} {v}\n" for k, v in sorted(entries.items())))
