"""Read weight files safely (``weights_only=True``) with errors that say what is wrong."""

import pickle
import zipfile
from pathlib import Path
from typing import Dict, Union

import torch


class CheckpointFileError(ValueError):
    """A weight file is missing, unreadable, or not a state_dict."""


def load_state_dict_file(path: Union[str, Path]) -> Dict[str, torch.Tensor]:
    """Load a state_dict (name -> tensor) onto the CPU without running pickled code.

    Raises:
        CheckpointFileError: the file is missing, truncated or corrupt, holds
            objects other than tensors, or is not a name -> tensor mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointFileError(f"Checkpoint {path} does not exist or is not a file.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, zipfile.BadZipFile, pickle.UnpicklingError, OSError) as err:
        raise CheckpointFileError(
            f"Cannot read checkpoint {path}: the file is truncated, corrupt, or holds "
            f"more than tensors (loaded with weights_only=True). Details: {err}"
        ) from err
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()
    ):
        raise CheckpointFileError(
            f"Checkpoint {path} is not a state_dict (a mapping of names to tensors); "
            "pass a model file such as valid.loss.ave_5best.pth."
        )
    return state
