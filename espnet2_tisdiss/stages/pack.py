"""Stage 7: pack a trained model into one archive, and unpack it for inference.

Archive members (a gzipped tar, flat): ``config.yaml`` (the training config),
``model.pth`` (the averaged weights), ``RESULTS.md``, ``meta.yaml`` (sample
rate, package versions, source paths). Unpacking accepts only these regular
files, so no member can land outside the target folder.
"""

import io
import tarfile
from importlib.metadata import version
from pathlib import Path
from typing import Optional, Tuple

import yaml

MEMBERS = ("config.yaml", "model.pth", "RESULTS.md", "meta.yaml")


class ArchiveError(ValueError):
    """An archive is missing, unreadable or not one of ours."""


def pack_model(train_config: Path, model_file: Path, output: Path,
               results: Optional[Path] = None, fs: Optional[int] = None) -> Path:
    """Write ``output`` (.tar.gz) from the training config, weights and results."""
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
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with tarfile.open(partial, "w:gz", dereference=True) as tar:  # ESPnet links ave.pth
        tar.add(train_config, arcname="config.yaml")
        tar.add(model_file, arcname="model.pth")
        if results:
            tar.add(results, arcname="RESULTS.md")
        data = yaml.safe_dump(meta).encode()
        info = tarfile.TarInfo("meta.yaml")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    partial.replace(output)
    return output


def unpack_model(archive: Path, dest: Path) -> Tuple[Path, Path, dict]:
    """Extract ``archive`` into ``dest``; returns (config path, model path, meta)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            names = [m.name for m in members]
            bad = [m.name for m in members if m.name not in MEMBERS or not m.isfile()]
            if bad or "config.yaml" not in names or "model.pth" not in names:
                raise ArchiveError(
                    f"{archive} is not a packed TISDiSS model: unexpected members {bad} "
                    f"(expected {list(MEMBERS)}, config.yaml and model.pth required)."
                )
            dest.mkdir(parents=True, exist_ok=True)
            for member in members:
                (dest / member.name).write_bytes(tar.extractfile(member).read())
    except (tarfile.TarError, EOFError, OSError) as err:
        raise ArchiveError(f"cannot read model archive {archive}: {err}") from err
    meta_path = dest / "meta.yaml"
    meta = yaml.safe_load(meta_path.read_text()) if meta_path.is_file() else {}
    return dest / "config.yaml", dest / "model.pth", meta or {}
