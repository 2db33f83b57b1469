"""A tiny TISDiSS model on disk in every form the inference API loads (for tests)."""

import argparse
from pathlib import Path
from typing import Dict, Optional

import torch
import yaml

from espnet2_tisdiss.fileio.model_archive import pack_model
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

CONF = Path(__file__).resolve().parents[2] / "conf"
FS = 8000


def tiny_config(**separator_conf) -> dict:
    """conf/tisdiss_tiny.yaml, with ``separator_conf`` entries replaced."""
    config = yaml.safe_load((CONF / "tisdiss_tiny.yaml").read_text())
    config["init"] = None
    config["separator_conf"].update(separator_conf)
    return config


def write_model(folder: Path, config: Optional[dict] = None, seed: int = 0) -> Dict[str, Path]:
    """config.yaml, model.pth and packed_model.tar.gz (fs 8000) of a seeded tiny model."""
    folder.mkdir(parents=True, exist_ok=True)
    config = config or tiny_config()
    torch.manual_seed(seed)
    model = TISDiSSEnhancementTask.build_model(argparse.Namespace(**config))
    paths = {"config": folder / "config.yaml", "model": folder / "model.pth",
             "archive": folder / "packed_model.tar.gz"}
    paths["config"].write_text(yaml.safe_dump(config))
    torch.save(model.state_dict(), paths["model"])
    pack_model(paths["config"], paths["model"], paths["archive"], fs=FS)
    return paths
