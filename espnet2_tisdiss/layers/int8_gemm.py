"""Matmuls with int8 weights and dynamically quantized int8 activations (CPU)."""

import torch

# Note: fbgemm's AVX2 kernel multiplies unsigned 8-bit activations by signed
# 8-bit weights into saturating 16-bit pair sums; 7-bit activations
# ("reduce_range") keep those sums exact. PyTorch's x86 quantization engine
# requires it for the same reason.
REDUCE_RANGE = True


def pack_int8(weight: torch.Tensor, bias: torch.Tensor = None) -> torch.ScriptObject:
    """Quantize a float weight per output channel (symmetric int8) and prepack it.

    Args:
        weight: float [N, K] in ``F.linear`` layout.
        bias: float [N] or None (added in float32).

    Returns:
        PyTorch's prepacked quantized-linear weight, for :func:`int8_linear`.
    """
    weight = weight.detach().float()
    scale = weight.abs().amax(1).clamp_min(1e-12) / 127.0  # [N]
    zero = torch.zeros(weight.shape[0], dtype=torch.long)
    qweight = torch.quantize_per_channel(weight, scale.double(), zero, 0, torch.qint8)
    return torch.ops.quantized.linear_prepack(
        qweight, None if bias is None else bias.detach().float()
    )


def int8_linear(x: torch.Tensor, packed: torch.ScriptObject) -> torch.Tensor:
    """``F.linear`` with a packed int8 weight; x is quantized per call (one scale per call).

    Shapes:
        x: float32 [..., K] (any strides); output: float32 [..., N], contiguous.
    """
    rows = x.reshape(-1, x.shape[-1])  # [M, K]
    out = torch.ops.quantized.linear_dynamic(rows, packed, REDUCE_RANGE)  # [M, N]
    return out.view(*x.shape[:-1], -1)


class InferenceOnly:
    """Mixin for modules holding packed int8 weights: eval mode only, always their int8 path."""

    def tuned(self, x) -> bool:
        """Always: the int8 kernels are a CPU path with no plain counterpart (``layers.paths``)."""
        return True

    def train(self, mode: bool = True):
        if mode:
            raise ValueError(f"{type(self).__name__} is for inference only; train the float model.")
        return super().train(False)
