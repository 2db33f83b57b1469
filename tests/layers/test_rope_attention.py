import pytest
import torch

from espnet2_tisdiss.layers.rope_attention import RoPESelfAttention, RotaryEmbedding


def test_rotation_of_interleaved_pairs():
    rope = RotaryEmbedding(4)
    x = torch.randn(2, 5, 4)
    out = rope(x)
    pos = torch.arange(5.0)[:, None]
    angle = pos * rope.inv_freq[None]  # [5, 2]
    even, odd = x[..., 0::2], x[..., 1::2]
    assert torch.allclose(out[..., 0::2], even * angle.cos() - odd * angle.sin(), atol=1e-6)
    assert torch.allclose(out[..., 1::2], odd * angle.cos() + even * angle.sin(), atol=1e-6)


def test_scores_depend_only_on_relative_position():
    rope = RotaryEmbedding(6)
    q, k = torch.randn(6), torch.randn(6)
    seq_q = q.expand(8, 6).clone()
    seq_k = k.expand(8, 6).clone()
    scores = rope(seq_q) @ rope(seq_k).T  # [8, 8]
    assert torch.allclose(scores.diagonal(1)[0], scores.diagonal(1)[5], atol=1e-5)
    assert torch.allclose(scores.diagonal(-2)[1], scores.diagonal(-2)[4], atol=1e-5)


def test_attention_keeps_shape_and_mixes_positions():
    attn = RoPESelfAttention(dim=8, attention_dim=6, n_heads=3).eval()
    x = torch.randn(4, 7, 8)
    y = attn(x)
    assert y.shape == (4, 7, 8)
    x2 = x.clone()
    x2[:, -1] += 1.0
    assert not torch.allclose(attn(x2)[:, 0], y[:, 0])  # position 0 sees position 6
    assert torch.allclose(attn(x2)[0:1], attn(x2[0:1]), atol=1e-6)  # rows independent


def test_heads_must_divide_attention_dim():
    with pytest.raises(ValueError, match="divisible by n_heads"):
        RoPESelfAttention(dim=8, attention_dim=10, n_heads=4)


def test_odd_head_size_is_rejected():
    with pytest.raises(ValueError, match="even"):
        RotaryEmbedding(5)
