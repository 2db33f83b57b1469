"""Map a complex spectrogram to a TF embedding and back (3x3 convolutions)."""

import torch
from torch import nn


class SpectrogramEncoder(nn.Module):
    """Stack real and imaginary parts, Conv2d (3x3) to C channels, then gLN.

    Args:
        emb_dim (int): embedding channels C.
        eps (float): epsilon of the global layer norm (GroupNorm with 1 group).

    Shapes:
        input: complex [B, T, F]; output: real [B, C, T, F].
    """

    def __init__(self, emb_dim: int, eps: float = 1e-5):
        super().__init__()
        self.conv = nn.Conv2d(2, emb_dim, (3, 3), padding=(1, 1))
        self.norm = nn.GroupNorm(1, emb_dim, eps=eps)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        real_imag = torch.stack((spec.real, spec.imag), dim=1)  # [B, 2, T, F]
        return self.norm(self.conv(real_imag))


class SpectrogramDecoder(nn.Module):
    """ConvTranspose2d (3x3) from C channels to real and imaginary parts.

    Args:
        emb_dim (int): embedding channels C.

    Shapes:
        input: real [..., C, T, F]; output: complex [..., T, F].
    """

    def __init__(self, emb_dim: int):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(emb_dim, 2, (3, 3), padding=(1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        lead = x.shape[:-3]
        real_imag = self.deconv(x.flatten(0, -4))  # [N, 2, T, F]
        spec = torch.complex(real_imag[:, 0], real_imag[:, 1])  # [N, T, F]
        return spec.unflatten(0, lead)
