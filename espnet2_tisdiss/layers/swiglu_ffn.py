"""SwiGLU convolution-deconvolution feed-forward network along one axis."""

import math

import torch
import torch.nn.functional as F
from torch import nn


class SwiGLUConvDeconv1d(nn.Module):
    """Feed-forward network with local modelling: Conv1d -> SwiGLU -> ConvTranspose1d.

    The sequence axis is padded so that the transposed convolution returns
    exactly as many positions as went in; positions are then cropped back.

    References:
        K. Saijo et al., "TF-Locoformer", IWAENC 2024 (Sec. 2.2, Fig. 1).

    Args:
        dim (int): channels C of the input and output.
        hidden_dim (int): channels H after the gated linear unit.
        kernel_size (int): convolution kernel K along the sequence.
        stride (int): convolution stride S (the "shift"); 1 <= S <= K.
        dropout (float): dropout after the gate and after the output.

    Shapes:
        input: [..., L, C]; output: [..., L, C].
    """

    def __init__(
        self,
        dim: int,
        hidden_dim: int,
        kernel_size: int = 4,
        stride: int = 1,
        dropout: float = 0.0,
    ):
        super().__init__()
        if not 1 <= stride <= kernel_size:
            raise ValueError(
                f"SwiGLUConvDeconv1d: stride={stride} must be between 1 and "
                f"kernel_size={kernel_size}."
            )
        self.hidden_dim = hidden_dim
        self.kernel_size = kernel_size
        self.stride = stride
        self.conv = nn.Conv1d(dim, 2 * hidden_dim, kernel_size, stride=stride)
        self.deconv = nn.ConvTranspose1d(hidden_dim, dim, kernel_size, stride=stride)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead, (length, channels) = x.shape[:-2], x.shape[-2:]
        seq = x.reshape(-1, length, channels).transpose(1, 2)  # [N, C, L]
        overlap = self.kernel_size - self.stride
        n_steps = math.ceil((length + 2 * overlap - self.kernel_size) / self.stride)
        padded_len = n_steps * self.stride + self.kernel_size
        seq = F.pad(seq, (overlap, padded_len - length - overlap))
        value, gate = self.conv(seq).split(self.hidden_dim, dim=1)  # [N, H, L']
        hidden = self.dropout(value * F.silu(gate))
        out = self.deconv(hidden)[..., overlap : overlap + length]  # [N, C, L]
        out = self.dropout(out.transpose(1, 2))  # [N, L, C]
        return out.reshape(*lead, length, channels)
