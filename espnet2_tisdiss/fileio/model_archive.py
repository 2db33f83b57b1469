"""The packed model: one archive of a trained model, written by stage 7 and unpacked for inference.

Archive members (a gzipped tar, flat): ``config.yaml`` (the training config),
``model.pth`` (the averaged weights), ``RESULTS.md``, ``meta.yaml`` (sample
rate, package versions, source paths). The archive is written atomically.

Unpacking treats the archive as untrusted (``espnet2_tisdiss.fileio.safe_archive``):
only these regular files are accepted, sizes are bounded before anything is
decompressed, both YAML files must be plain YAML mappings (safe loader), and
everything is unpacked into a temporary folder beside the target that is
renamed into place only when all checks pass. The weights are read later with
``weights_only=True`` (``espnet2_tisdiss.fileio.checkpoint``).
"""

import io
import tarfile
from importlib.metadata import version
from pathlib import Path
from typing import Optional, Tuple

import yaml

from espnet2_tisdiss.fileio.atomic_io import atomic_dir, atomic_write
from espnet2_tisdiss.fileio.safe_archive import MAX_UNPACKED_BYTES, ArchiveError, extract_regular_files
from espnet2_tisdiss.fileio.safe_yaml import ConfigFileError, load_yaml_mapping

MEMBERS = ("config.yaml", "model.pth", "RESULTS.md", "meta.yaml")
REQUIRED = ("config.yaml", "model.pth")

__all__ = ["ArchiveError", "MEMBERS", "pack_model", "unpack_model"]


def pack_model(train_config: Path, model_file: Path, output: Path,
               results: Optional[Path] = None, fs: Optional[int] = None,
               auto_threshold: Optional[float] = None) -> Path:
    """Write ``output`` (.tar.gz) from the training config, weights and results.

    ``auto_threshold`` (meta.yaml) is the default threshold of depth "auto" for this model.
    """
    for path in (train_config, model_file) + ((results,) if results else ()):
        if not Path(path).is_file():
            raise ArchiveError(f"cannot pack: {path} does not exist (run the earlier stages first).")
    meta = {
        "fs": fs,
        "espnet": version("espnet"),
        "espnet2_tisdiss": version("espnet2-tisdiss"),
        "torch": version("torch"),
        "sources": {"config": str(train_config), "model": str(model_file)},
    }
    if auto_threshold is not None:
        meta["auto_threshold"] = float(auto_threshold)
    with atomic_write(output, "wb") as handle, \
            tarfile.open(fileobj=handle, mode="w:gz", dereference=True) as tar:  # ESPnet links ave.pth
        tar.add(train_config, arcname="config.yaml")
        tar.add(model_file, arcname="model.pth")
        if results:
            tar.add(results, arcname="RESULTS.md")
        data = yaml.safe_dump(meta).encode()
        info = tarfile.TarInfo("meta.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return output


def unpack_model(archive: Path, dest: Path,
                 max_bytes: int = MAX_UNPACKED_BYTES) -> Tuple[Path, Path, dict]:
    """Extract ``archive`` into the new or empty folder ``dest``; returns (config path, model path, meta).

    Raises:
        ArchiveError: ``dest`` holds files; the archive is missing, truncated,
            corrupt, too large, holds a refused member (named with the reason),
            lacks config.yaml or model.pth, or its YAML is not a plain mapping.
            ``dest`` is then left as it was.
    """
    archive, dest = Path(archive), Path(dest)
    if (dest.is_dir() and any(dest.iterdir())) or (dest.exists() and not dest.is_dir()):
        raise ArchiveError(f"cannot unpack {archive} into {dest}: it exists and is not an empty folder.")
    with atomic_dir(dest) as work:
        names = extract_regular_files(archive, work, MEMBERS, max_bytes=max_bytes)
        missing = [name for name in REQUIRED if name not in names]
        if missing:
            raise ArchiveError(f"{archive} is not a packed TISDiSS model: {missing} missing "
                               f"(members {sorted(names)}; expected {list(MEMBERS)}). Nothing was unpacked.")
        try:
            load_yaml_mapping(work / "config.yaml", f"config.yaml of {archive}")
            meta = load_yaml_mapping(work / "meta.yaml", f"meta.yaml of {archive}") if "meta.yaml" in names else {}
        except ConfigFileError as err:
            raise ArchiveError(f"{err} Nothing was unpacked.") from err
    return dest / "config.yaml", dest / "model.pth", meta
