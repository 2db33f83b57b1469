"""The tuned layer paths against the plain ones (values and gradients, every shape class)."""

import pytest
import torch
import torch.nn.functional as F

from espnet2_tisdiss.layers.conv2d import conv2d
from espnet2_tisdiss.layers.locoformer import TFLocoformerBlock
from espnet2_tisdiss.layers.paths import set_layer_path
from espnet2_tisdiss.layers.rms_group_norm import RMSGroupNorm
from espnet2_tisdiss.layers.rope_attention import RoPESelfAttention
from espnet2_tisdiss.layers.speaker_splitter import SpeakerSplitter
from espnet2_tisdiss.layers.swiglu_ffn import SwiGLUConvDeconv1d

BLOCK = dict(dim=8, attention_dim=12, n_heads=3, ffn_hidden_dim=10, ffn_kernel_size=4,
             ffn_stride=1, num_groups=2, dropout=0.0, eps=1e-5)


def assert_close(ours, reference, rtol=1e-5):
    scale = reference.abs().max().clamp_min(1e-12)
    assert ((ours - reference).abs().max() / scale).item() < rtol


def run(module, path, x, *args):
    """``module(x, *args)`` on ``path``, and the gradients w.r.t. x and the parameters."""
    set_layer_path(module, path)
    out = module(x, *args)
    torch.manual_seed(1)
    upstream = torch.randn(out.shape, dtype=out.dtype)  # not randn_like: the layouts may differ
    return out, torch.autograd.grad(out, [x, *module.parameters()], upstream)


def assert_paths_agree(module, x, *args):
    """Same output shape and values, same gradients w.r.t. ``x`` and every parameter."""
    plain, plain_grads = run(module, "plain", x, *args)
    tuned, tuned_grads = run(module, "tuned", x, *args)
    assert plain.shape == tuned.shape == x.shape
    assert_close(tuned, plain)
    for g_tuned, g_plain in zip(tuned_grads, plain_grads, strict=True):
        assert_close(g_tuned, g_plain)


def channels_last(*shape):
    """A [..., C, T, F]-shaped leaf stored as [..., T, F, C] (what the blocks pass on)."""
    x = torch.randn(*shape[:-3], shape[-2], shape[-1], shape[-3])
    return x.movedim(-1, -3).requires_grad_()


@pytest.mark.parametrize(
    "kernel,stride,shape,axis",
    [
        (4, 1, (2, 3, 9, 5, 6), -2),  # width path (sequence right before C), odd L
        (4, 1, (2, 3, 9, 5, 6), -3),  # height path
        (4, 1, (2, 3, 9, 5, 6), -4),  # short sequence (3 <= K): banded matrices
        (4, 1, (2, 4, 9, 5, 6), -4),  # L = K: banded
        (3, 1, (2, 2, 7, 6), -3),  # short, L = K - 1
        (4, 2, (2, 10, 4, 6), -3),  # stride 2, even length: right pad + tail crop
        (4, 2, (2, 11, 4, 6), -3),  # stride 2, odd length
        (5, 3, (3, 7, 6), -2),  # stride 3
        (3, 3, (2, 4, 8, 6), -2),  # no overlap
        (4, 2, (2, 3, 4, 6), -3),  # short sequence with stride
        (4, 1, (9, 6), -2),  # no leading dims
        (4, 1, (1, 6), -2),  # length 1
    ],
)
def test_swiglu_ffn_paths_agree(kernel, stride, shape, axis):
    ffn = SwiGLUConvDeconv1d(dim=6, hidden_dim=5, kernel_size=kernel, stride=stride)
    assert_paths_agree(ffn, torch.randn(shape, requires_grad=True), axis)


def test_swiglu_ffn_paths_agree_on_a_non_contiguous_input():
    ffn = SwiGLUConvDeconv1d(dim=6, hidden_dim=5, kernel_size=4)
    x = torch.randn(2, 6, 7, 5).movedim(1, -1).requires_grad_()  # [2, 7, 5, C], C not innermost
    assert_paths_agree(ffn, x, -3)


@pytest.mark.parametrize(
    "shape,axis",
    [((2, 3, 7, 8), -2), ((2, 7, 3, 8), -3), ((2, 3, 5, 4, 8), -4), ((7, 8), -2), ((2, 1, 8), -2)],
)
def test_attention_paths_agree(shape, axis):
    attn = RoPESelfAttention(dim=8, attention_dim=12, n_heads=3)
    assert_paths_agree(attn, torch.randn(shape, requires_grad=True), axis)


def test_attention_paths_agree_on_more_sequences_than_fused_kernels_take():
    """70000 sequences (the plain path switches SDPA backend); float64, as the weight
    gradients sum over all of them."""
    attn = RoPESelfAttention(dim=8, attention_dim=12, n_heads=3).double()
    assert_paths_agree(attn, torch.randn(2, 3, 35000, 8, dtype=torch.float64, requires_grad=True), -3)


@pytest.mark.parametrize("shape", [(3, 5, 7, 12), (12,), (2, 9, 12)])
def test_rms_group_norm_paths_agree(shape):
    norm = RMSGroupNorm(num_groups=4, dim=12)
    norm.weight.data = torch.randn(12)
    assert_paths_agree(norm, torch.randn(shape, requires_grad=True))


def test_speaker_splitter_paths_agree():
    splitter = SpeakerSplitter(dim=6, hidden_dim=5, num_spk=3)
    x = channels_last(2, 6, 7, 9)  # [B, C, T, F], odd T and F
    plain, plain_grads = run(splitter, "plain", x)
    tuned, tuned_grads = run(splitter, "tuned", x)
    assert tuned.shape == plain.shape == (2, 3, 6, 7, 9)
    assert_close(tuned, plain)
    for g_tuned, g_plain in zip(tuned_grads, plain_grads, strict=True):
        assert_close(g_tuned, g_plain)


@pytest.mark.parametrize("speaker_path", [False, True])
@pytest.mark.parametrize("stride", [1, 2])
def test_block_paths_agree(speaker_path, stride):
    block = TFLocoformerBlock(speaker_path=speaker_path, **dict(BLOCK, ffn_stride=stride))
    shape = (2, 3, 8, 9, 7) if speaker_path else (2, 8, 9, 7)  # [B, (J,) C, T, F], odd T, F
    assert_paths_agree(block, channels_last(*shape))
    assert_paths_agree(block, torch.randn(shape, requires_grad=True))  # standard layout too


def test_stacked_blocks_paths_agree():
    """Several layers per block: the second layer takes the first's output layout."""
    blocks = torch.nn.Sequential(*(TFLocoformerBlock(speaker_path=True, **BLOCK) for _ in range(2)))
    assert_paths_agree(blocks, channels_last(2, 2, 8, 5, 6))


@pytest.mark.parametrize("transposed", [False, True])
@pytest.mark.parametrize(
    "kernel,stride,padding",
    [((4, 1), (1, 1), (3, 0)), ((1, 4), (1, 1), (0, 3)), ((4, 1), (2, 1), (2, 0)),
     ((1, 3), (1, 3), (0, 0)), ((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0))],
)
def test_tuned_conv2d_gradients_match_pytorch(transposed, kernel, stride, padding):
    image = torch.randn(2, 4, 9, 7).contiguous(memory_format=torch.channels_last)
    image.requires_grad_()
    weight = torch.randn(4 if transposed else 5, 5 if transposed else 4, *kernel, requires_grad=True)
    bias = torch.randn(5, requires_grad=True)
    reference = (F.conv_transpose2d if transposed else F.conv2d)(image, weight, bias, stride, padding)
    ours = conv2d(image, weight, bias, stride, padding, transposed)
    upstream = torch.randn(ours.shape)
    assert_close(ours, reference)
    for g_ours, g_ref in zip(torch.autograd.grad(ours, [image, weight, bias], upstream),
                             torch.autograd.grad(reference, [image, weight, bias], upstream)):
        assert_close(g_ours, g_ref)


def test_block_takes_and_returns_channels_last_views():
    block = TFLocoformerBlock(speaker_path=True, **dict(BLOCK, attention_dim=8, n_heads=2)).eval()
    x = torch.randn(2, 3, 8, 7, 5)  # [B, J, C, T, F], standard layout
    for path in ("plain", "tuned"):
        set_layer_path(block, path)
        y = block(x)
        assert y.movedim(-3, -1).is_contiguous(), path  # [B, J, T, F, C] in memory
        assert torch.allclose(block(y), block(y.contiguous()), atol=1e-6)
