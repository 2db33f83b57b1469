"""Find and load a TISDiSS model from any of the forms it is shipped in.

Accepted sources:
  - the name of a model shipped in the package (``mini_2mix``; ``espnet2_tisdiss.pretrained``);
  - a packed model (``packed_model.tar.gz`` of recipe stage 7);
  - a folder holding ``config.yaml`` and ``model.pth`` (at its root or under
    ``exp/enh/``, the layout recipe stage 8 uploads), or an ESPnet model-zoo
    folder whose ``meta.yaml`` names them (``yaml_files: train_config`` and
    ``files: model_file``);
  - a Hugging Face Hub tag ``user/name[@revision]`` holding one of those folders;
  - a training config and weight file, ours or the TISDiSS authors' (their
    ``config.yaml`` and ``.pth``; recognised by their option names).

Weights are always read with ``weights_only=True``. The model's sample rate is
taken from the packed or uploaded ``meta.yaml`` (``fs``), else from an ``fs``
key of the training config; where neither records it, the caller names it.
"""

import argparse
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Tuple, Union

import torch

from espnet2_tisdiss import pretrained
from espnet2_tisdiss.compat.convert import convert_config
from espnet2_tisdiss.compat.options import IGNORED, OPTION_NAMES, REQUIRED_VALUES, SUPERVISION_FLAGS
from espnet2_tisdiss.compat.state_dict import CheckpointMismatchError, convert_authors_state_dict, load_strict
from espnet2_tisdiss.fileio.checkpoint import CheckpointFileError, load_state_dict_file
from espnet2_tisdiss.fileio.model_archive import ArchiveError, unpack_model
from espnet2_tisdiss.fileio.safe_yaml import ConfigFileError, load_yaml_mapping
from espnet2_tisdiss.inference.errors import ModelLoadError
from espnet2_tisdiss.inference.hub import download_snapshot, is_hub_tag
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

PathLike = Union[str, Path]

# The keys an inference config may override, as ESPnet's enh_inference allows.
INFERENCE_KEYS = ("encoder", "encoder_conf", "separator", "separator_conf", "decoder", "decoder_conf")
# What ESPnet's own argument parser gives a training config that leaves these out.
ESPNET_CONF_DEFAULTS = {"encoder_conf": {}, "separator_conf": {}, "decoder_conf": {}, "model_conf": {}}

# Option names only the authors' separator_conf uses (ours are OPTION_NAMES' keys).
AUTHORS_ONLY_OPTIONS = (
    set(OPTION_NAMES.values()) | set(REQUIRED_VALUES) | set(SUPERVISION_FLAGS) | set(IGNORED)
) - set(OPTION_NAMES)


@dataclass
class LoadedModel:
    """An ESPnet enhancement model with a TISDiSS separator, in eval mode on the CPU.

    Attributes:
        model: the ``ESPnetEnhancementModel`` (encoder, separator, decoder).
        fs: its sample rate in Hz, or None when the source does not record it.
        source: where it came from, for messages.
        auto_threshold: the threshold of depth "auto" calibrated for this model
            (``meta.yaml``), or None.
    """

    model: torch.nn.Module
    fs: Optional[int]
    source: str
    auto_threshold: Optional[float] = None


def is_authors_config(config: dict) -> bool:
    """True when ``separator_conf`` uses the authors' option names (e.g. ``encoder_repeat_times``)."""
    conf = config.get("separator_conf") or {}
    return bool(set(conf) & AUTHORS_ONLY_OPTIONS)


def read_config(path: Path) -> dict:
    try:
        config = load_yaml_mapping(path, "training config")
    except ConfigFileError as err:
        raise ModelLoadError(str(err)) from err
    if "separator" not in config:
        raise ModelLoadError(f"{path} is not an ESPnet enhancement training config (no 'separator' key).")
    return config


def with_inference_config(config: dict, inference_config: Path) -> dict:
    """``config`` with the ``*_conf`` overrides of an inference config merged in (ESPnet's rule)."""
    try:
        overrides = load_yaml_mapping(inference_config, "inference config")
    except ConfigFileError as err:
        raise ModelLoadError(str(err)) from err
    unknown = sorted(set(overrides) - set(INFERENCE_KEYS))
    if unknown:
        raise ModelLoadError(f"inference config keys {unknown} not allowed; use {list(INFERENCE_KEYS)}")
    merged = dict(config)
    for key, value in overrides.items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, dict) else value
    return merged


def load_from_files(train_config: PathLike, model_file: PathLike, fs: Optional[int] = None,
                    inference_config: Optional[PathLike] = None) -> LoadedModel:
    """Build the model of ``train_config`` and load ``model_file`` strictly.

    Any ESPnet enhancement model builds (the recipe also decodes TF-GridNet); the
    authors' configs and checkpoints are converted on the fly (see
    ``espnet2_tisdiss.compat``). ``inference_config`` overrides ``*_conf`` keys
    (e.g. ``separator_conf: {inference_reps: 8}``); ``fs`` overrides the config's ``fs`` key.
    """
    train_config, model_file = Path(train_config), Path(model_file)
    config = read_config(train_config)
    if inference_config is not None:
        config = with_inference_config(config, Path(inference_config))
    authors = is_authors_config(config)
    try:
        if authors:
            config = convert_config(config)
        # Note: "init" only chooses how fresh weights are drawn; they are all replaced below.
        options = {**ESPNET_CONF_DEFAULTS, **config, "init": None}
        model = TISDiSSEnhancementTask.build_model(argparse.Namespace(**options))
    except (TypeError, KeyError, ValueError, AttributeError) as err:
        raise ModelLoadError(f"cannot build the model of {train_config}: {err}") from err
    try:
        state = load_state_dict_file(model_file)
        if authors:
            load_strict(model.separator, convert_authors_state_dict(state), f"authors' ({model_file})")
        else:
            load_strict(model, state, f"model ({model_file})")
    except (CheckpointFileError, CheckpointMismatchError) as err:
        raise ModelLoadError(str(err)) from err
    return LoadedModel(model.eval(), fs or config.get("fs"), f"{train_config} + {model_file}")


def find_model_files(folder: Path) -> Tuple[Path, Path, dict]:
    """(config, weights, meta) of a model folder; see the module docstring for the layouts."""
    try:
        meta = load_yaml_mapping(folder / "meta.yaml", "model meta.yaml") if (folder / "meta.yaml").is_file() else {}
    except ConfigFileError as err:
        raise ModelLoadError(str(err)) from err
    yaml_files, files = meta.get("yaml_files") or {}, meta.get("files") or {}
    if "train_config" in yaml_files and "model_file" in files:
        # Lexical check: Hub snapshot files are links into the cache's blob store.
        named = [Path(os.path.normpath(folder / str(yaml_files["train_config"]))),
                 Path(os.path.normpath(folder / str(files["model_file"])))]
        outside = [str(p) for p in named if not p.is_relative_to(os.path.normpath(folder))]
        if outside:
            raise ModelLoadError(f"{folder}/meta.yaml names files outside the model folder: {outside}")
        return named[0], named[1], meta
    for root in (folder, folder / "exp" / "enh"):
        if (root / "config.yaml").is_file() and (root / "model.pth").is_file():
            return root / "config.yaml", root / "model.pth", meta
    found = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())[:20]
    raise ModelLoadError(
        f"{folder} holds no model: expected config.yaml and model.pth (at its root or in exp/enh/) "
        f"or an ESPnet meta.yaml naming them; found {found or 'no files'}. For other names pass "
        "--train_config and --model_file."
    )


def local_path(path_or_tag: PathLike) -> Path:
    """The path a source names: the archive of a shipped model (unless a file of that name
    exists), else the path itself (which may not exist: a Hub tag)."""
    shipped = pretrained.archive(str(path_or_tag))
    if shipped is None or Path(path_or_tag).exists():
        return Path(path_or_tag)
    if not shipped.is_file():
        raise ModelLoadError(f"the shipped model {str(path_or_tag)!r} is missing from this installation "
                             f"({shipped}); reinstall espnet2-tisdiss.")
    return shipped


def load_pretrained(path_or_tag: PathLike, fs: Optional[int] = None,
                    local_files_only: Optional[bool] = None,
                    inference_config: Optional[PathLike] = None) -> LoadedModel:
    """Load a shipped model, a packed archive, a model folder or a Hub tag (see the module docstring).

    Args:
        path_or_tag: a shipped model's name, a ``.tar.gz`` path, a folder, or ``user/name[@revision]``.
        fs: the model's sample rate, overriding what the source records.
        local_files_only: for Hub tags, only look in the local cache (None:
            when ``HF_HUB_OFFLINE`` is set).
        inference_config: YAML overriding ``*_conf`` keys (see ``load_from_files``).
    """
    path = local_path(path_or_tag)
    if path.is_file():
        with tempfile.TemporaryDirectory() as tmp:
            try:
                config, weights, meta = unpack_model(path, Path(tmp))
            except ArchiveError as err:
                raise ModelLoadError(str(err)) from err
            loaded = load_from_files(config, weights, fs or meta.get("fs"), inference_config)
        loaded.source = str(path_or_tag)
        loaded.auto_threshold = calibrated_threshold(meta, path)
        return loaded
    if path.is_dir():
        folder = path
    elif is_hub_tag(str(path_or_tag)):
        folder = download_snapshot(str(path_or_tag), local_files_only)
    else:
        raise ModelLoadError(
            f"model {str(path_or_tag)!r} is neither an existing file or folder, nor a Hugging Face "
            "Hub tag (user/name or user/name@revision), nor a model shipped in the package:\n"
            f"{pretrained.listing()}"
        )
    config, weights, meta = find_model_files(folder)
    loaded = load_from_files(config, weights, fs or meta.get("fs"), inference_config)
    loaded.source = str(path_or_tag)
    loaded.auto_threshold = calibrated_threshold(meta, folder)
    return loaded


def calibrated_threshold(meta: dict, source: Path) -> Optional[float]:
    """The ``auto_threshold`` a model's meta.yaml records (a number > 0), or None."""
    value = meta.get("auto_threshold")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ModelLoadError(f"{source}: meta.yaml auto_threshold must be a number > 0, got {value!r}")
    return float(value)
