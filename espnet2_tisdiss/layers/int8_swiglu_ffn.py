"""The SwiGLU conv-deconv FFN with int8 matmuls, for CPU inference."""

import math
from functools import partial
from typing import Callable, Tuple

import torch
import torch.nn.functional as F

from espnet2_tisdiss.layers.int8_gemm import InferenceOnly, int8_linear, pack_int8
from espnet2_tisdiss.layers.swiglu_ffn import SwiGLUConvDeconv1d


class Int8SwiGLUConvDeconv1d(InferenceOnly, SwiGLUConvDeconv1d):
    """:class:`SwiGLUConvDeconv1d` whose convolutions run as int8 matmuls (inference only).

    Both convolutions become matmuls with int8 weights (per output channel)
    and int8 activations quantized per call (see :mod:`int8_gemm`):

    * the convolution is one matmul over the K-tap windows of the padded
      sequence (im2col, K*C inputs per position);
    * the transposed convolution is one matmul giving the K taps' [K, C]
      contributions of every hidden position, then one strided sum adds the
      taps that land on each output position (overlap-add, cropped);
    * short sequences (L <= K) use the banded matrices of the float module,
      quantized once per length.

    The float parameters stay in place (same state_dict as the float module).
    Build it with :meth:`from_float`.

    Args:
        as :class:`SwiGLUConvDeconv1d`; only stride 1 (the paper's) is supported.

    Shapes:
        input: [..., L, ..., C] (the sequence is dim ``axis``); output: same shape.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.stride != 1:
            raise ValueError(
                f"int8 inference supports ffn_stride 1 only, got {self.stride}; "
                "run this model in float32."
            )
        self._packed = None
        self._banded_cache = {}

    @classmethod
    def from_float(cls, ffn: SwiGLUConvDeconv1d) -> "Int8SwiGLUConvDeconv1d":
        """An int8 copy of ``ffn`` (same weights, eval mode)."""
        quantized = cls(
            ffn.conv.in_channels, ffn.hidden_dim, ffn.kernel_size, ffn.stride, ffn.dropout.p
        ).to(ffn.conv.weight.device)
        quantized.load_state_dict(ffn.state_dict())
        return quantized.eval().pack()

    def pack(self) -> "Int8SwiGLUConvDeconv1d":
        """Quantize the current float weights (call again after changing them)."""
        k = self.kernel_size
        # conv.weight [2H, C, K] -> [2H, K*C]: windows are laid out (tap, channel)
        conv = self.conv.weight.permute(0, 2, 1).reshape(self.conv.out_channels, -1)
        # deconv.weight [H, C, K] -> [K*C, H] with the taps reversed (see _convolved)
        deconv = self.deconv.weight.flip(-1).permute(2, 1, 0).reshape(k * self.conv.in_channels, -1)
        self._packed = (pack_int8(conv, self.conv.bias), pack_int8(deconv))
        self._banded_cache = {}
        return self

    def _convolved(self, x: torch.Tensor, axis: int) -> torch.Tensor:
        shape, length, channels = x.shape, x.shape[axis], x.shape[-1]
        k, front = self.kernel_size, self.kernel_size - 1  # stride 1: K-1 zeros each side
        rest = math.prod(shape[axis + 1 : -1])
        seq = x.contiguous().view(-1, length, rest, channels)  # [N, L, R, C]
        padded = F.pad(seq, (0, 0, 0, 0, front, front))  # [N, L + 2(K-1), R, C]
        n_out = length + k - 1  # L1
        s_n, s_l, s_r, _ = padded.stride()
        windows = padded.as_strided(
            (seq.shape[0], n_out, rest, k, channels), (s_n, s_l, s_r, s_l, 1)
        )  # [N, L1, R, K, C]
        conv_packed, deconv_packed = self._packed
        gated = int8_linear(windows.reshape(-1, k * channels), conv_packed)  # [N*L1*R, 2H]
        hidden = _swiglu_(gated, self.hidden_dim)  # [N*L1*R, H]
        taps = int8_linear(hidden, deconv_packed).view(-1, n_out, rest, k, channels)
        # Output l takes tap j' = K-1-j of hidden position l + j (taps stored
        # reversed), i.e. entry (l + j, j): one strided view, summed over j.
        s_n, s_l, s_r, s_k, _ = taps.stride()
        out = taps.as_strided(seq.shape[:3] + (k, channels), (s_n, s_l, s_r, s_l + s_k, 1)).sum(-2)
        return out.add_(self.deconv.bias).view(shape)  # [N, L, R, C] -> input shape

    def banded_maps(self, length: int) -> Tuple[Callable, Callable, int]:
        if length not in self._banded_cache:
            conv_matrix, deconv_matrix, n_out = self._band_matrices(length)
            self._banded_cache[length] = (
                partial(int8_linear, packed=pack_int8(conv_matrix, self.conv.bias.repeat(n_out))),
                partial(int8_linear, packed=pack_int8(deconv_matrix, self.deconv.bias.repeat(length))),
                n_out,
            )
        return self._banded_cache[length]


def _swiglu_(gated: torch.Tensor, hidden_dim: int) -> torch.Tensor:
    """``value * silu(gate)`` computed in place in ``gated`` [M, 2H]; returns a view [M, H]."""
    value, gate = gated.split(hidden_dim, -1)
    return value.mul_(F.silu(gate, inplace=True))
