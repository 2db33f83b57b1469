"""Builders of hostile files: code-running pickles and YAML, escaping and oversized archives.

Every payload only creates a marker file (``touch <marker>``), so a test can
assert that it never ran: the marker must not exist after the refusal.
"""

import gzip
import io
import os
import shlex
import tarfile
from pathlib import Path
from typing import Iterable

import torch
import yaml


class RunsCode:
    """Unpickling this object calls ``os.system('touch <marker>')``."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {shlex.quote(str(self.marker))}",)


def evil_torch_checkpoint(path: Path, marker: Path) -> Path:
    """A zip-format torch file: a state_dict with real tensors plus one code-running object."""
    torch.save({"weight": torch.zeros(2), "payload": RunsCode(marker)}, path)
    return path


def evil_yaml(path: Path, marker: Path) -> Path:
    """A config whose ``separator_conf`` runs ``touch <marker>`` under an unsafe YAML loader."""
    path.write_text(
        "separator: tisdiss\n"
        f"separator_conf: !!python/object/apply:os.system [\"touch {marker}\"]\n",
        encoding="utf-8",
    )
    return path


def member(name: str, data: bytes = b"x", kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tuple:
    """A (TarInfo, data) pair of any member type (data is stored for regular files only)."""
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    if kind in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3  # /dev/null
    return info, data


def tar_gz(path: Path, members: Iterable[tuple]) -> Path:
    """A gzipped tar of ``members`` ((TarInfo, data) pairs), written as given."""
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if info.isfile() else None)
    return path


def lying_tar_gz(path: Path, name: str, declared: int, present: int = 1 << 20) -> Path:
    """A gzipped tar whose member ``name`` declares ``declared`` bytes of zeros, ``present`` of them stored.

    Stands for a decompression bomb without taking the time (or disk) to build
    one: an extractor that checks the header stops before the data runs out.
    """
    config = tarfile.TarInfo("config.yaml")
    config.size = 6
    bomb = tarfile.TarInfo(name)
    bomb.size = declared
    raw = config.tobuf(format=tarfile.GNU_FORMAT) + b"a: 1\n\n".ljust(512, b"\0")
    raw += bomb.tobuf(format=tarfile.GNU_FORMAT) + bytes(present)
    path.write_bytes(gzip.compress(raw, compresslevel=9))
    return path


def model_archive(path: Path, config: dict, model_pth: bytes, extra: Iterable[tuple] = ()) -> Path:
    """A packed-model archive (config.yaml, model.pth) as stage 7 writes it, plus ``extra`` members."""
    return tar_gz(path, [member("config.yaml", yaml.safe_dump(config).encode()),
                         member("model.pth", model_pth), *extra])


def tree(root: Path) -> dict:
    """{relative path: bytes (or the link target)} of every file under ``root``, to compare snapshots."""
    snapshot = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            snapshot[str(path.relative_to(root))] = f"-> {os.readlink(path)}"
        elif path.is_file():
            snapshot[str(path.relative_to(root))] = path.read_bytes()
        else:
            snapshot[str(path.relative_to(root))] = "dir"
    return snapshot
