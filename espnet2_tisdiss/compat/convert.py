"""Convert an ESPnet experiment trained with the authors' code into our model format."""

import argparse
import copy
from pathlib import Path
from typing import Tuple

import torch
import yaml

from espnet2_tisdiss.fileio.atomic_io import atomic_write, write_atomic
from espnet2_tisdiss.fileio.checkpoint import load_state_dict_file
from espnet2_tisdiss.compat.options import options_from_authors
from espnet2_tisdiss.compat.state_dict import convert_authors_state_dict, load_strict
from espnet2_tisdiss.fileio.safe_yaml import load_yaml_mapping
from espnet2_tisdiss.tasks.enh import (
    LOSS_WRAPPER_NAME,
    SEPARATOR_NAME,
    TISDiSSEnhancementTask,
)

AUTHORS_SEPARATOR_NAMES = ("tisdiss",)


def convert_config(authors_config: dict) -> dict:
    """Our training config from theirs: separator options renamed, early-split loss.

    Raises:
        ValueError: the config is not a TISDiSS enhancement config.
    """
    name = str(authors_config.get("separator", "")).lower()
    if name not in AUTHORS_SEPARATOR_NAMES or "separator_conf" not in authors_config:
        raise ValueError(
            f"Not a TISDiSS config: separator is {authors_config.get('separator')!r}, "
            f"expected one of {AUTHORS_SEPARATOR_NAMES} with a separator_conf section."
        )
    config = copy.deepcopy(authors_config)
    config["separator"] = SEPARATOR_NAME
    config["separator_conf"] = options_from_authors(authors_config["separator_conf"])
    for criterion in config.get("criterions") or []:
        if criterion.get("wrapper") == "pit":
            # Their patched ESPnet added the staged losses inside the model; ours does it here.
            criterion["wrapper"] = LOSS_WRAPPER_NAME
            criterion["wrapper_conf"] = {"weight": criterion.get("wrapper_conf", {}).get("weight", 1.0)}
    return config


def convert_authors_model(
    config_path: Path, checkpoint_path: Path, output_dir: Path
) -> Tuple[Path, Path]:
    """Write ``output_dir/config.yaml`` and ``output_dir/model.pth`` in our format.

    The checkpoint may hold the whole enhancement model or the bare separator.
    Both inputs are treated as untrusted: the config is read with YAML's safe
    loader and the weights with ``weights_only=True``. Everything is checked
    (strict key and shape match) before anything is written, and each output
    is written atomically.

    Returns:
        the written config and model paths.
    """
    authors_config = load_yaml_mapping(config_path, "the authors' config")
    config = convert_config(authors_config)
    state = convert_authors_state_dict(load_state_dict_file(checkpoint_path))
    model = TISDiSSEnhancementTask.build_model(argparse.Namespace(**config))
    load_strict(model.separator, state, f"authors' ({checkpoint_path})")

    output_dir = Path(output_dir)
    out_config, out_model = output_dir / "config.yaml", output_dir / "model.pth"
    with atomic_write(out_model, "wb") as handle:
        torch.save(model.state_dict(), handle)
    write_atomic(out_config, yaml.safe_dump(config, sort_keys=False))
    return out_config, out_model
