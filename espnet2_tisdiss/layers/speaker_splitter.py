"""Speaker splitter: one embedding in, J speaker streams out."""

import torch
import torch.nn.functional as F
from torch import nn

from espnet2_tisdiss.layers.conv2d import conv2d
from espnet2_tisdiss.layers.paths import TwoPaths


class SpeakerSplitter(TwoPaths, nn.Module):
    """Split a TF embedding into J streams with a SwiGLU Conv2d-ConvTranspose2d.

    Conv2d (3x3) to ``2 * J * hidden`` channels, a gated linear unit with SiLU
    down to ``J * hidden``, ConvTranspose2d (3x3) up to ``J * C``, read as J
    streams of C channels. The tuned path (``layers.paths``) computes the
    Conv2d's weight gradient as a matmul (:func:`conv2d`); the plain path is
    ``nn.Conv2d``.

    References:
        Feng et al., "TISDiSS", arXiv 2509.15666 (Sec. 2, "speaker splitter").

    Args:
        dim (int): channels C of the embedding (and of each stream).
        hidden_dim (int): hidden channels per speaker (the authors use 2C).
        num_spk (int): number of streams J.
        dropout (float): dropout after the gate and after the output.

    Shapes:
        input: [B, C, T, F]; output: [B, J, C, T, F] (channels-last memory for
        channels-last input: [B, T, F, J, C]).
    """

    def __init__(self, dim: int, hidden_dim: int, num_spk: int, dropout: float = 0.0):
        super().__init__()
        self.num_spk = num_spk
        self.gated_dim = hidden_dim * num_spk
        self.conv = nn.Conv2d(dim, 2 * self.gated_dim, (3, 3), padding=(1, 1))
        self.deconv = nn.ConvTranspose2d(
            self.gated_dim, dim * num_spk, (3, 3), padding=(1, 1)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.tuned(x):
            # Note: conv2d is F.conv2d with a faster weight gradient (see there).
            gated = conv2d(x, self.conv.weight, self.conv.bias, padding=self.conv.padding)
        else:
            gated = self.conv(x)
        value, gate = gated.split(self.gated_dim, dim=1)  # [B, J*H, T, F]
        hidden = self.dropout(value * F.silu(gate))
        streams = self.deconv(hidden)  # [B, J*C, T, F]
        return self.dropout(streams.unflatten(1, (self.num_spk, -1)))  # [B, J, C, T, F]
