"""RMSGroupNorm: root-mean-square normalisation over channel groups of each TF bin."""

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from espnet2_tisdiss.layers.paths import TwoPaths


class RMSGroupNorm(TwoPaths, nn.Module):
    """Normalise each group of channels by its root mean square, then scale.

    The channels of every position (TF bin, speaker, ...) are split into
    ``num_groups`` groups; each group is divided by ``rms + eps`` and the result
    is multiplied by a learned per-channel gain. There is no bias.

    Plain path (``layers.paths``): the formula under standard autograd; tuned
    path: the same formula with a hand-written backward (fewer kernels).

    References:
        K. Saijo et al., "TF-Locoformer: Transformer with Local Modeling by
        Convolution for Speech Separation and Enhancement", IWAENC 2024.

    Args:
        num_groups (int): number of channel groups; must divide ``dim``.
        dim (int): number of channels C.
        eps (float): added to the RMS (not inside the square root), as in the
            TF-Locoformer code, so released checkpoints behave the same.

    Shapes:
        input: [..., C]; output: [..., C] (contiguous).
    """

    def __init__(self, num_groups: int, dim: int, eps: float = 1e-5):
        super().__init__()
        if num_groups < 1 or dim % num_groups != 0:
            raise ValueError(
                f"RMSGroupNorm: num_groups={num_groups} must be >= 1 and divide "
                f"the channel count {dim}; choose a divisor of {dim}."
            )
        self.num_groups = num_groups
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.tuned(x):
            return _RMSGroupNormFunction.apply(x, self.weight, self.num_groups, self.eps)
        grouped = x.unflatten(-1, (self.num_groups, -1))  # [..., G, C/G]
        rms = grouped.pow(2).mean(-1, keepdim=True).sqrt()  # [..., G, 1]
        return (grouped / (rms + self.eps)).flatten(-2) * self.weight  # [..., C]


class _RMSGroupNormFunction(torch.autograd.Function):
    """``y = x / (rms(x) + eps) * w`` per channel group, with a hand-written backward.

    Note: autograd through the composite formula (pow, mean, sqrt, add, div,
    mul) records about a dozen full-size elementwise kernels for the backward;
    this function needs six, which matters because the separator normalises
    every TF bin ~8 times per repetition. The maths is the same. With
    ``xhat = x * s``, ``s = 1 / (r + eps)``, ``r = sqrt(mean(x**2))`` over a
    group of n channels and ``g = dL/dy * w``:
        dL/dx = s * g - xhat * sum(g * xhat) / (n * r),
        dL/dw = sum over positions of dL/dy * xhat.
    """

    @staticmethod
    def forward(ctx, x, weight, num_groups, eps):
        grouped = x.unflatten(-1, (num_groups, -1))  # [..., G, n]
        size = grouped.shape[-1]
        # sqrt(sum(x^2)) / sqrt(n) == sqrt(mean(x^2)), in one reduction kernel
        rms = torch.linalg.vector_norm(grouped, dim=-1, keepdim=True).mul_(size**-0.5)
        scale = (rms + eps).reciprocal_()  # [..., G, 1]
        normed = grouped * scale  # [..., G, n]
        ctx.save_for_backward(normed, weight, scale, rms)
        return normed.flatten(-2) * weight

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out):
        normed, weight, scale, rms = ctx.saved_tensors
        groups, size = normed.shape[-2:]
        grad_weight = None
        if ctx.needs_input_grad[1]:
            channels = weight.numel()
            grad_weight = (grad_out.reshape(-1, channels) * normed.reshape(-1, channels)).sum(0)
        if not ctx.needs_input_grad[0]:
            return None, grad_weight, None, None
        grad_normed = (grad_out * weight).unflatten(-1, (groups, size))  # [..., G, n]
        coef = (grad_normed * normed).sum(-1, keepdim=True).div_(rms * size)
        grad_x = torch.addcmul(grad_normed * scale, normed, coef, value=-1)
        return grad_x.flatten(-2), grad_weight, None, None
