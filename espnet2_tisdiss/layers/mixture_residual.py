"""Mixture residual between repetitions of the separation block."""

import torch
from torch import nn


class MixtureResidual(nn.Module):
    """Add the encoded mixture back, then a per-channel affine map and PReLU.

    Before every layer application of the weight-shared separation block but
    the very first (so between repetitions, and between layers when the block
    has several), its input becomes ``PReLU(w * (mixture + x) + b)`` with a
    learned scale ``w`` and bias ``b`` per channel (a depthwise 1x1 convolution).

    References:
        Feng et al., "TISDiSS", arXiv 2509.15666 (Sec. 2, separation block).

    Args:
        emb_dim (int): channels C.

    Shapes:
        mixture, x: [B, C, T, F]; output: [B, C, T, F].
    """

    def __init__(self, emb_dim: int):
        super().__init__()
        self.conv = nn.Conv2d(emb_dim, emb_dim, 1, groups=emb_dim)
        self.act = nn.PReLU()

    def forward(self, mixture: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(mixture + x))
