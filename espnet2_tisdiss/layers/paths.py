"""Which implementation a layer runs: the plain one (standard PyTorch) or the tuned CPU one.

Every layer with two implementations holds the same parameters for both, so a
state_dict trained with one path loads and runs with the other. The choice
is made here only:

* ``"plain"``: standard modules and autograd (``nn.Conv1d``, ``nn.Conv2d``,
  ``F.scaled_dot_product_attention``, composite formulas); no custom
  ``torch.autograd.Function``. Runs on any device.
* ``"tuned"``: the CPU implementation (weight gradients as matmuls, banded
  matrices for short sequences, hand-written backward passes, complex RoPE);
  on any other device a layer set to it stops with a ValueError.
* ``"auto"`` (the default): tuned on the device types in ``TUNED_DEVICES``,
  where it was measured faster, plain elsewhere (CUDA, MPS, ...).

The device is read from the layer's input at every call, so a model moved
with ``.to("cuda")`` switches path without anything to set.
"""

import torch
from torch import nn

LAYER_PATHS = ("auto", "plain", "tuned")
# Device types where the tuned path was measured faster than the plain one
# (docs/benchmarks.md); anywhere else "auto" runs the plain path.
TUNED_DEVICES = ("cpu",)


def check_layer_path(layer_path: str) -> str:
    """``layer_path`` if it is one of ``LAYER_PATHS``, else a ValueError naming them."""
    if layer_path not in LAYER_PATHS:
        raise ValueError(f"layer_path must be one of {LAYER_PATHS}, got {layer_path!r}.")
    return layer_path


def uses_tuned(device: torch.device, layer_path: str) -> bool:
    """Whether a layer set to ``layer_path`` runs its tuned implementation on ``device``.

    ``"tuned"`` on a device outside ``TUNED_DEVICES`` is a ValueError: that code
    was written and checked for the CPU (on an NVIDIA H200 its training step and
    its forward stopped at a CUDA device-side assertion, 2026-12-04).
    """
    if layer_path == "auto":
        return device.type in TUNED_DEVICES
    if layer_path == "tuned" and device.type not in TUNED_DEVICES:
        raise ValueError(
            f"layer_path 'tuned' is the CPU implementation and does not run on {device.type}; "
            "use layer_path 'auto' (the default) or 'plain' there."
        )
    return layer_path == "tuned"


class TwoPaths:
    """Mixin of the layers with a plain and a tuned implementation.

    ``layer_path`` (one of ``LAYER_PATHS``, default ``"auto"``) is set for a
    whole model by :func:`set_layer_path`; ``forward`` asks :meth:`tuned`.
    """

    layer_path = "auto"

    def tuned(self, x: torch.Tensor) -> bool:
        """Whether this call, on ``x``'s device, runs the tuned implementation."""
        return uses_tuned(x.device, self.layer_path)


def set_layer_path(model: nn.Module, layer_path: str) -> None:
    """Set ``layer_path`` on every :class:`TwoPaths` layer inside ``model``."""
    check_layer_path(layer_path)
    for module in model.modules():
        if isinstance(module, TwoPaths):
            module.layer_path = layer_path
