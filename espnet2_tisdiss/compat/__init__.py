"""Load models trained with the TISDiSS authors' code (WingSingFung/TISDiSS)."""

from typing import Any, Dict, Mapping

import torch

from espnet2_tisdiss.compat.options import options_from_authors
from espnet2_tisdiss.compat.state_dict import (
    CheckpointMismatchError,
    convert_authors_state_dict,
    load_strict,
)
from espnet2_tisdiss.separator import TISDiSSSeparator


def separator_from_authors(
    separator_conf: Dict[str, Any],
    state_dict: Mapping[str, torch.Tensor],
    input_dim: int = 65,
) -> TISDiSSSeparator:
    """Build our separator from the authors' options and load their weights.

    Args:
        separator_conf: the ``separator_conf`` section of the authors' config.yaml.
        state_dict: their separator state_dict, or a whole ESPnet enhancement
            model state_dict (keys starting with ``separator.``).
        input_dim: F, for ESPnet's contract only (any F works).

    Raises:
        ValueError: an option outside the paper's architecture.
        CheckpointMismatchError: a missing, unexpected or mis-shaped key.
    """
    options = options_from_authors(separator_conf)
    separator = TISDiSSSeparator(input_dim, **options)
    load_strict(separator, convert_authors_state_dict(state_dict), "authors'")
    return separator


__all__ = ["separator_from_authors", "CheckpointMismatchError"]
