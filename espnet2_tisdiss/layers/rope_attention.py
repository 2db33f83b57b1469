"""Multi-head self-attention with rotary position embedding (RoPE) over SDPA."""

import torch
import torch.nn.functional as F
from torch import nn


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
        length = x.shape[-2]
        positions = torch.arange(length, device=x.device, dtype=torch.float32)
        angles = positions[:, None] * self.inv_freq[None, :]  # [L, D/2]
        cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
        pairs = x.unflatten(-1, (-1, 2))  # [..., L, D/2, 2]
        even, odd = pairs[..., 0], pairs[..., 1]
        rotated = torch.stack((even * cos - odd * sin, odd * cos + even * sin), -1)
        return rotated.flatten(-2)


class RoPESelfAttention(nn.Module):
    """Multi-head self-attention along one axis, RoPE on queries and keys.

    Args:
        dim (int): input/output channels C.
        attention_dim (int): total query/key/value channels A = heads * D.
        n_heads (int): number of heads; must divide ``attention_dim``.
        dropout (float): attention-weight dropout and output dropout (training).

    Shapes:
        input: [N, L, C] (attention over L); output: [N, L, C].
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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, length, _ = x.shape
        qkv = self.qkv(x).view(n, length, 3, self.n_heads, -1)  # [N, L, 3, h, D]
        query, key, value = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # 3 x [N, h, L, D]
        query, key = self.rope(query), self.rope(key)
        out = F.scaled_dot_product_attention(
            query, key, value, dropout_p=self.dropout if self.training else 0.0
        )  # [N, h, L, D]
        out = out.transpose(1, 2).reshape(n, length, -1)  # [N, L, A]
        return self.out_dropout(self.out_proj(out))
