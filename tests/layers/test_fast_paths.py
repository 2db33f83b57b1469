"""The layers' fast code paths against plain reference formulations (values and gradients)."""

import math

import pytest
import torch
import torch.nn.functional as F

from espnet2_tisdiss.layers.conv2d import conv2d
from espnet2_tisdiss.layers.locoformer import TFLocoformerBlock
from espnet2_tisdiss.layers.rms_group_norm import RMSGroupNorm
from espnet2_tisdiss.layers.rope_attention import RoPESelfAttention
from espnet2_tisdiss.layers.swiglu_ffn import SwiGLUConvDeconv1d


def grads(out, tensors, seed=1):
    torch.manual_seed(seed)
    return torch.autograd.grad(out, tensors, torch.randn(out.shape))  # not randn_like: layouts differ


def assert_close(ours, reference, rtol=1e-5):
    scale = reference.abs().max().clamp_min(1e-12)
    assert ((ours - reference).abs().max() / scale).item() < rtol


def assert_same_values_and_grads(ours, reference, tensors):
    """Same output and the same gradients w.r.t. ``tensors`` for one random upstream grad."""
    assert ours.shape == reference.shape
    assert_close(ours, reference)
    for g_ours, g_ref in zip(grads(ours, tensors), grads(reference, tensors)):
        assert_close(g_ours, g_ref)


def reference_ffn(ffn, x, axis):
    """Pad, Conv1d, SwiGLU, ConvTranspose1d, crop, on [N, C, L] (the authors' layout)."""
    seq = x.movedim(axis, -2)
    lead, (length, channels) = seq.shape[:-2], seq.shape[-2:]
    seq = seq.reshape(-1, length, channels).transpose(1, 2)
    front, back = ffn.padding(length)
    value, gate = ffn.conv(F.pad(seq, (front, back))).split(ffn.hidden_dim, 1)
    out = ffn.deconv(value * F.silu(gate))[..., front : front + length]
    return out.transpose(1, 2).reshape(*lead, length, channels).movedim(-2, axis)


@pytest.mark.parametrize(
    "kernel,stride,shape,axis",
    [
        (4, 1, (2, 3, 9, 5, 6), -2),  # width path (sequence right before C)
        (4, 1, (2, 3, 9, 5, 6), -3),  # height path
        (4, 1, (2, 3, 9, 5, 6), -4),  # short sequence (3 <= K): banded matrices
        (3, 1, (2, 2, 7, 6), -3),  # short, L = K - 1
        (4, 2, (2, 10, 4, 6), -3),  # stride 2, even length: right pad + tail crop
        (4, 2, (2, 11, 4, 6), -3),  # stride 2, odd length
        (5, 3, (3, 7, 6), -2),
        (3, 3, (2, 4, 8, 6), -2),  # no overlap
        (4, 2, (2, 3, 4, 6), -3),  # short sequence with stride
        (4, 1, (9, 6), -2),  # no leading dims
    ],
)
def test_swiglu_ffn_matches_reference(kernel, stride, shape, axis):
    torch.manual_seed(0)
    ffn = SwiGLUConvDeconv1d(dim=6, hidden_dim=5, kernel_size=kernel, stride=stride)
    x = torch.randn(shape, requires_grad=True)
    ours = ffn(x, axis)
    assert ours.shape == x.shape
    assert_same_values_and_grads(ours, reference_ffn(ffn, x, axis), [x, *ffn.parameters()])


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize(
    "kernel,stride,padding",
    [((4, 1), (1, 1), (3, 0)), ((1, 4), (1, 1), (0, 3)), ((4, 1), (2, 1), (2, 0)),
     ((1, 3), (1, 3), (0, 0)), ((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0))],
)
def test_conv2d_gradients_match_pytorch(transposed, kernel, stride, padding):
    torch.manual_seed(0)
    image = torch.randn(2, 4, 9, 7).contiguous(memory_format=torch.channels_last)
    image.requires_grad_()
    weight = torch.randn(4 if transposed else 5, 5 if transposed else 4, *kernel, requires_grad=True)
    bias = torch.randn(5, requires_grad=True)
    reference = (F.conv_transpose2d if transposed else F.conv2d)(image, weight, bias, stride, padding)
    ours = conv2d(image, weight, bias, stride, padding, transposed)
    assert_same_values_and_grads(ours, reference, [image, weight, bias])


def test_rms_group_norm_gradients_match_autograd_formula():
    torch.manual_seed(0)
    norm = RMSGroupNorm(num_groups=4, dim=12, eps=1e-5)
    norm.weight.data = torch.randn(12)
    x = torch.randn(3, 5, 7, 12, requires_grad=True)
    groups = x.unflatten(-1, (4, 3))
    rms = groups.pow(2).mean(-1, keepdim=True).sqrt()
    reference = (groups / (rms + 1e-5)).flatten(-2) * norm.weight
    assert_same_values_and_grads(norm(x), reference, [x, norm.weight])


def reference_attention(attn, x, axis):
    """RoPE attention with explicit softmax, on [N, L, C] with L moved from ``axis``."""
    seq = x.movedim(axis, -2)
    lead, (length, channels) = seq.shape[:-2], seq.shape[-2:]
    qkv = attn.qkv(seq.reshape(-1, length, channels)).view(-1, length, 3, attn.n_heads, attn.rope.inv_freq.numel() * 2)
    query, key, value = (t.transpose(1, 2) for t in qkv.unbind(2))  # [N, h, L, D]
    angles = torch.arange(length, dtype=torch.float32)[:, None] * attn.rope.inv_freq
    cos, sin = angles.cos(), angles.sin()

    def rope(t):
        even, odd = t[..., 0::2], t[..., 1::2]
        return torch.stack((even * cos - odd * sin, odd * cos + even * sin), -1).flatten(-2)

    query, key = rope(query), rope(key)
    weights = (query @ key.transpose(-1, -2) / math.sqrt(query.shape[-1])).softmax(-1)
    out = (weights @ value).transpose(1, 2).reshape(-1, length, qkv.shape[-1] * attn.n_heads)
    return attn.out_proj(out).reshape(*lead, length, channels).movedim(-2, axis)


@pytest.mark.parametrize("shape,axis", [((2, 3, 6, 8), -2), ((2, 6, 3, 8), -3), ((2, 3, 5, 4, 8), -4), ((7, 8), -2)])
def test_attention_along_any_axis_matches_reference(shape, axis):
    torch.manual_seed(0)
    attn = RoPESelfAttention(dim=8, attention_dim=12, n_heads=3)
    x = torch.randn(shape, requires_grad=True)
    ours = attn(x, axis)
    assert ours.shape == x.shape
    assert_same_values_and_grads(ours, reference_attention(attn, x, axis), [x, *attn.parameters()])


def test_block_takes_and_returns_channels_last_views():
    block = TFLocoformerBlock(
        speaker_path=True, dim=8, attention_dim=8, n_heads=2, ffn_hidden_dim=12,
        ffn_kernel_size=3, ffn_stride=1, num_groups=2, dropout=0.0, eps=1e-5,
    ).eval()
    x = torch.randn(2, 3, 8, 7, 5)  # [B, J, C, T, F], standard layout
    y = block(x)
    assert y.movedim(-3, -1).is_contiguous()  # [B, J, T, F, C] in memory
    assert torch.allclose(block(y), block(y.contiguous()), atol=1e-6)
