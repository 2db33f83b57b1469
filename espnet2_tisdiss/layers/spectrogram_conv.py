"""Map a complex spectrogram to a TF embedding and back (3x3 convolutions)."""

import torch
from torch import nn


class SpectrogramEncoder(nn.Module):
    """Stack real and imaginary parts, Conv2d (3x3) to C channels, then gLN.

    Args:
        emb_dim (int): embedding channels C.
        eps (float): epsilon of the global layer norm (GroupNorm with 1 group).

    Shapes:
        input: complex [B, T, F]; output: real [B, C, T, F] in channels-last
        memory ([B, T, F, C]), the layout the TF-Locoformer blocks work in.
    """

    def __init__(self, emb_dim: int, eps: float = 1e-5):
        super().__init__()
        self.conv = nn.Conv2d(2, emb_dim, (3, 3), padding=(1, 1))
        self.norm = nn.GroupNorm(1, emb_dim, eps=eps)

    def forward(self, spec: torch.Tensor) -> torch.Tensor:
        return self.embed(torch.view_as_real(spec.resolve_conj()))

    def embed(self, real_imag: torch.Tensor) -> torch.Tensor:
        """Real and imaginary parts [B, T, F, 2] -> [B, C, T, F] (no complex tensors: exportable)."""
        # Note: [B, T, F, 2] permuted is [B, 2, T, F] in channels-last memory;
        # the convolution and GroupNorm keep that layout.
        return self.norm(self.conv(real_imag.permute(0, 3, 1, 2)))


class SpectrogramDecoder(nn.Module):
    """ConvTranspose2d (3x3) from C channels to real and imaginary parts.

    Args:
        emb_dim (int): embedding channels C.

    Shapes:
        input: real [..., C, T, F]; output: complex [..., T, F] (complex64 when
        the convolution runs in bfloat16 or float16).
    """

    def __init__(self, emb_dim: int):
        super().__init__()
        self.deconv = nn.ConvTranspose2d(emb_dim, 2, (3, 3), padding=(1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Note: from channels-last input (what the blocks produce) the output
        # is channels-last too, so this is a view, not a copy.
        real_imag = self.real_imag(x)
        if real_imag.dtype not in (torch.float32, torch.float64):
            # Under autocast (ESPnet's --use_amp: bfloat16 on GPUs that have it, else
            # float16) the convolution returns reduced precision, which has no complex
            # type that the iSTFT takes: the spectrum is float32 from here on.
            real_imag = real_imag.float()
        return torch.view_as_complex(real_imag.contiguous())  # [..., T, F]

    def real_imag(self, x: torch.Tensor) -> torch.Tensor:
        """[..., C, T, F] -> real and imaginary parts [..., T, F, 2] (no complex tensors: exportable)."""
        lead = x.shape[:-3]
        return self.deconv(x.flatten(0, -4)).permute(0, 2, 3, 1).unflatten(0, lead)
