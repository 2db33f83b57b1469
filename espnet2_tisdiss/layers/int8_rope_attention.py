"""RoPE self-attention with int8 projections, for CPU inference."""

from typing import Tuple

import torch

from espnet2_tisdiss.layers.int8_gemm import InferenceOnly, int8_linear, pack_int8
from espnet2_tisdiss.layers.rope_attention import RoPESelfAttention


class Int8RoPESelfAttention(InferenceOnly, RoPESelfAttention):
    """:class:`RoPESelfAttention` whose q/k/v and output projections are int8 matmuls.

    The projections use int8 weights (per output channel) and int8
    activations quantized per call; RoPE and ``scaled_dot_product_attention``
    stay in float32. The float parameters stay in place (same state_dict).
    Build it with :meth:`from_float`; inference only.

    Shapes:
        as :class:`RoPESelfAttention`: [..., L, ..., C] -> same shape.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._packed = None

    @classmethod
    def from_float(cls, attn: RoPESelfAttention) -> "Int8RoPESelfAttention":
        """An int8 copy of ``attn`` (same weights, eval mode)."""
        quantized = cls(
            attn.qkv.in_features, attn.out_proj.in_features, attn.n_heads, attn.dropout
        ).to(attn.qkv.weight.device)
        quantized.load_state_dict(attn.state_dict())
        return quantized.eval().pack()

    def pack(self) -> "Int8RoPESelfAttention":
        """Quantize the current float weights (call again after changing them)."""
        self._packed = (pack_int8(self.qkv.weight), pack_int8(self.out_proj.weight))
        return self

    def project_qkv(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # Note: one matmul for q, k and v quantizes x once; the slices are
        # then made contiguous (see RoPESelfAttention.project_qkv).
        fused = int8_linear(x, self._packed[0])  # [..., 3A]
        return tuple(t.contiguous() for t in fused.chunk(3, -1))

    def project_out(self, y: torch.Tensor) -> torch.Tensor:
        return int8_linear(y, self._packed[1])
