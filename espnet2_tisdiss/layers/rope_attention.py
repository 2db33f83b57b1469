"""Multi-head self-attention with rotary position embedding (RoPE) over SDPA."""

import contextlib
import math
from typing import Tuple

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.attention import SDPBackend, sdpa_kernel

from espnet2_tisdiss.layers.paths import TwoPaths

# Note: for the speaker path (L = J, tens of thousands of sequences) SDPA's
# CPU flash kernel spends its time on per-sequence setup; its plain-matmul
# ("math") backend is about 2x faster there and slower for long sequences.
SHORT_SEQUENCE_BACKEND = (8, SDPBackend.MATH)
# Note: CUDA's fused SDPA kernels launch one grid row per sequence on an axis
# capped at 65535 blocks ("invalid configuration argument" above it, see
# pytorch/pytorch#142228); the speaker path attends over B*T*F sequences, far
# more. The plain path then uses the math backend, which has no such cap.
MAX_FUSED_BATCH = 65535


class RotaryEmbedding(nn.Module):
    """Rotate adjacent channel pairs of queries/keys by position-dependent angles.

    Channel pair (2i, 2i+1) at position p is rotated by ``p * theta**(-2i/D)``
    (interleaved layout, base theta = 10000), the convention of the
    ``rotary-embedding-torch`` package that TF-Locoformer and TISDiSS use.
    The frequency table is a (non-trained) buffer saved with the model, as
    checkpoints of the authors' code carry it.

    Args:
        head_dim (int): channels D per attention head; must be even.

    Shapes:
        input: [..., L, D]; output: [..., L, D] (positions along L).
    """

    def __init__(self, head_dim: int, theta: float = 10000.0):
        super().__init__()
        if head_dim % 2 != 0:
            raise ValueError(f"RotaryEmbedding: head_dim={head_dim} must be even.")
        inv_freq = theta ** (-torch.arange(0, head_dim, 2).float() / head_dim)
        self.register_buffer("inv_freq", inv_freq)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.rotate(x, self.rotation(x.shape[-2], x.dtype), axis=-2)

    def rotation(self, length: int, dtype: torch.dtype, real: bool = False) -> torch.Tensor:
        """The rotation table: ``cos + i sin`` of every angle, complex [L, D/2].

        Angles are computed in float32 (as the authors' code does) and then
        cast to ``dtype``'s precision. With ``real``, or for dtypes without a
        complex counterpart on the CPU, returns the real table [L, D/2, 2]
        (cos, sin).
        """
        positions = torch.arange(length, device=self.inv_freq.device, dtype=torch.float32)
        angles = positions[:, None] * self.inv_freq[None, :]  # [L, D/2]
        cos, sin = angles.cos().to(dtype), angles.sin().to(dtype)
        if not real and dtype in (torch.float32, torch.float64):
            return torch.complex(cos, sin)
        return torch.stack((cos, sin), -1)

    @staticmethod
    def rotate(x: torch.Tensor, rotation: torch.Tensor, axis: int) -> torch.Tensor:
        """Rotate the channel pairs of ``x`` [..., L, ..., D], positions along ``axis``.

        ``rotation`` comes from :meth:`rotation`; dimensions between ``axis``
        and the last one are broadcast (e.g. heads).
        """
        axis = axis % x.dim() - x.dim()
        length, half = x.shape[axis], x.shape[-1] // 2
        table_shape = (length,) + (1,) * (-axis - 2) + (half,)
        if rotation.is_complex():
            # Note: (even + i odd) * (cos + i sin) is exactly the RoPE update
            # (even cos - odd sin, odd cos + even sin); as one complex product
            # it is one kernel forward and one backward instead of about ten.
            if not _is_complex_viewable(x):
                x = x.clone(memory_format=torch.contiguous_format)  # fresh strides
            pairs = torch.view_as_complex(x.unflatten(-1, (half, 2)))  # [..., D/2]
            return torch.view_as_real(pairs * rotation.view(table_shape)).flatten(-2)
        cos, sin = (t.view(table_shape) for t in rotation.unbind(-1))
        pairs = x.unflatten(-1, (half, 2))
        even, odd = pairs[..., 0], pairs[..., 1]
        return torch.stack((even * cos - odd * sin, odd * cos + even * sin), -1).flatten(-2)


def _is_complex_viewable(x: torch.Tensor) -> bool:
    """Whether ``view_as_complex`` accepts ``x`` once its last dim is split in pairs."""
    strides = x.stride()
    return (
        strides[-1] == 1
        and x.storage_offset() % 2 == 0
        and all(s % 2 == 0 for s in strides[:-1])
    )


class RoPESelfAttention(TwoPaths, nn.Module):
    """Multi-head self-attention along one axis, RoPE on queries and keys.

    The attention runs along ``axis`` of a channels-last tensor; every other
    dimension is a batch dimension. Two implementations (``layers.paths``):
    the plain one moves the sequence to [N, L, C], applies RoPE with real
    cos/sin arithmetic and calls ``scaled_dot_product_attention`` on
    [N, h, L, D] with PyTorch's backend choice. The tuned CPU one needs no
    transposes: query, key and value are viewed as [N, R*h, L, D] (R = the
    dims between ``axis`` and C, treated as extra heads), RoPE is one complex
    product, and short sequences use SDPA's math backend.

    Args:
        dim (int): input/output channels C.
        attention_dim (int): total query/key/value channels A = heads * D.
        n_heads (int): number of heads; must divide ``attention_dim``.
        dropout (float): attention-weight dropout and output dropout (training).

    Shapes:
        input: [..., L, ..., C] (attention over L = dim ``axis``, default -2);
        output: same shape, contiguous.
    """

    def __init__(self, dim: int, attention_dim: int, n_heads: int, dropout: float = 0.0):
        super().__init__()
        if n_heads < 1 or attention_dim % n_heads != 0:
            raise ValueError(
                f"attention_dim={attention_dim} must be divisible by n_heads={n_heads}; "
                "pick n_heads among the divisors of attention_dim (emb_dim by default)."
            )
        self.n_heads = n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(dim, 3 * attention_dim, bias=False)
        self.rope = RotaryEmbedding(attention_dim // n_heads)
        self.out_proj = nn.Linear(attention_dim, dim, bias=False)
        self.out_dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, axis: int = -2) -> torch.Tensor:
        axis = axis % x.dim() - x.dim()
        if axis == -1:
            raise ValueError("RoPESelfAttention: axis must not be the channel axis.")
        if not self.tuned(x):
            return self._plain(x, axis)
        x = x.contiguous()
        length = x.shape[axis]
        batch, rest = math.prod(x.shape[:axis]), math.prod(x.shape[axis + 1 : -1])
        heads = (batch, length, rest * self.n_heads, -1)  # [N, L, R*h, D]
        query, key, value = (t.view(heads) for t in self.project_qkv(x))
        rotation = self.rope.rotation(length, x.dtype)
        query = self.rope.rotate(query, rotation, axis=1)
        key = self.rope.rotate(key, rotation, axis=1)
        with _attention_backend(length, x.device):
            out = F.scaled_dot_product_attention(
                query.transpose(1, 2), key.transpose(1, 2), value.transpose(1, 2),
                dropout_p=self.dropout if self.training else 0.0,
            ).transpose(1, 2)  # [N, L, R*h, D]
        out = self.project_out(out.reshape(*x.shape[:-1], -1))  # [..., C]
        return self.out_dropout(out) if self.training and self.dropout > 0 else out

    def _plain(self, x: torch.Tensor, axis: int) -> torch.Tensor:
        """The attention on [N, h, L, D] with standard autograd; the input's shape, contiguous."""
        seq = x.movedim(axis, -2)  # [..., L, C]
        lead, (length, channels) = seq.shape[:-2], seq.shape[-2:]
        qkv = self.qkv(seq.reshape(-1, length, channels))  # [N, L, 3A]
        query, key, value = qkv.unflatten(-1, (3, self.n_heads, -1)).permute(2, 0, 3, 1, 4)  # [N, h, L, D]
        rotation = self.rope.rotation(length, query.dtype, real=True)  # [L, D/2, 2]
        query = self.rope.rotate(query, rotation, axis=-2)
        key = self.rope.rotate(key, rotation, axis=-2)
        many = query.is_cuda and query.shape[0] > MAX_FUSED_BATCH  # (a CUDA limit; on the CPU no branch)
        with sdpa_kernel(SDPBackend.MATH) if many else contextlib.nullcontext():
            out = F.scaled_dot_product_attention(
                query, key, value, dropout_p=self.dropout if self.training else 0.0
            )  # [N, h, L, D]
        out = self.out_proj(out.transpose(1, 2).flatten(-2))  # [N, L, C]
        out = out.reshape(*lead, length, channels).movedim(-2, axis).contiguous()
        return self.out_dropout(out) if self.training and self.dropout > 0 else out

    def project_qkv(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Queries, keys and values [..., A], each contiguous, from x [..., C].

        Note: three matmuls on row blocks of the fused qkv weight, so each is
        contiguous; sliced out of one fused output, the dims between the
        attention axis and the heads could not be merged into one view.
        """
        return tuple(F.linear(x, w) for w in self.qkv.weight.chunk(3))

    def project_out(self, y: torch.Tensor) -> torch.Tensor:
        """The output projection, [..., A] -> [..., C]."""
        return self.out_proj(y)


def _attention_backend(length: int, device: torch.device):
    """SDPA's backend choice: the math backend for short CPU sequences, else PyTorch's."""
    max_length, backend = SHORT_SEQUENCE_BACKEND
    if device.type == "cpu" and length <= max_length:
        return sdpa_kernel(backend)
    return contextlib.nullcontext()
