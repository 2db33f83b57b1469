"""Read weight files safely (``weights_only=True``) with errors that say what is wrong.

A weight file may come from anyone (a download, a colleague, a packed model),
and a pickle can run arbitrary code while it is being unpickled. Every weight
file of this package is therefore read here, with PyTorch's restricted
unpickler (``weights_only=True``), which builds only tensors and plain
containers and refuses any other Python object before it is constructed.
There is no fallback to an unrestricted load.
"""

import pickle
from pathlib import Path
from typing import Dict, Union

import torch

# Lines of PyTorch's refusal text that are boilerplate, or advice (weights_only=False)
# that must not be followed for a file of unknown origin.
_TORCH_BOILERPLATE = ("Weights only load failed", "Check the documentation", "Please file an issue")


class CheckpointFileError(ValueError):
    """A weight file is missing, unreadable, refused, or not a state_dict."""


def _refusal_reason(err: Exception) -> str:
    """The informative line(s) of PyTorch's weights_only error, e.g. the blocked global."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(_TORCH_BOILERPLATE)]
    return " ".join(useful) or (lines[0] if lines else repr(err))


def load_state_dict_file(path: Union[str, Path]) -> Dict[str, torch.Tensor]:
    """Load a state_dict (name -> tensor) onto the CPU without running pickled code.

    Raises:
        CheckpointFileError: the file is missing, truncated or corrupt, holds
            objects other than tensors (refused unread), or is not a
            name -> tensor mapping.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointFileError(f"Checkpoint {path} does not exist or is not a file.")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointFileError(
            f"Refused checkpoint {path}: the file is truncated, corrupt, or holds more than "
            "tensors (Python objects, which could run code when unpickled), so it was not "
            "loaded (weights_only=True). Use a state_dict saved with "
            "torch.save(model.state_dict(), path) by a source you trust. "
            f"Reason: {_refusal_reason(err)}"
        ) from err
    except Exception as err:  # garbage makes the unpickler raise KeyError, IndexError, ...
        raise CheckpointFileError(
            f"Cannot read checkpoint {path}: the file is truncated, corrupt, or not a PyTorch "
            f"file (loaded with weights_only=True). Details: {err}"
        ) from err
    if not isinstance(state, dict) or not all(
        isinstance(k, str) and torch.is_tensor(v) for k, v in state.items()
    ):
        raise CheckpointFileError(
            f"Checkpoint {path} is not a state_dict (a mapping of names to tensors); "
            "pass a model file such as valid.loss.ave_5best.pth."
        )
    return state
