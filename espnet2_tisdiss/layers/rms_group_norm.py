"""RMSGroupNorm: root-mean-square normalisation over channel groups of each TF bin."""

import torch
from torch import nn


class RMSGroupNorm(nn.Module):
    """Normalise each group of channels by its root mean square, then scale.

    The channels of every position (TF bin, speaker, ...) are split into
    ``num_groups`` groups; each group is divided by ``rms + eps`` and the result
    is multiplied by a learned per-channel gain. There is no bias.

    References:
        K. Saijo et al., "TF-Locoformer: Transformer with Local Modeling by
        Convolution for Speech Separation and Enhancement", IWAENC 2024.

    Args:
        num_groups (int): number of channel groups; must divide ``dim``.
        dim (int): number of channels C.
        eps (float): added to the RMS (not inside the square root), as in the
            TF-Locoformer code, so released checkpoints behave the same.

    Shapes:
        input: [..., C]; output: [..., C].
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
        grouped = x.unflatten(-1, (self.num_groups, -1))  # [..., G, C/G]
        rms = grouped.pow(2).mean(dim=-1, keepdim=True).sqrt()
        normed = (grouped / (rms + self.eps)).flatten(-2)  # [..., C]
        return normed * self.weight
