"""The int8 FFN and attention against their float modules (values close, same state_dict)."""

import pytest
import torch

from espnet2_tisdiss.layers.int8_gemm import int8_linear, pack_int8
from espnet2_tisdiss.layers.int8_rope_attention import Int8RoPESelfAttention
from espnet2_tisdiss.layers.int8_swiglu_ffn import Int8SwiGLUConvDeconv1d
from espnet2_tisdiss.layers.rope_attention import RoPESelfAttention
from espnet2_tisdiss.layers.swiglu_ffn import SwiGLUConvDeconv1d

pytestmark = pytest.mark.skipif(
    "x86" not in torch.backends.quantized.supported_engines, reason="no x86 int8 engine"
)


def relative_error(ours, reference):
    return ((ours - reference).norm() / reference.norm()).item()


def test_int8_linear_is_close_to_float():
    torch.manual_seed(0)
    x, weight, bias = torch.randn(2, 7, 11), torch.randn(5, 11), torch.randn(5)
    out = int8_linear(x, pack_int8(weight, bias))
    assert out.shape == (2, 7, 5)
    assert relative_error(out, torch.nn.functional.linear(x, weight, bias)) < 0.03


@pytest.mark.parametrize("kernel,axis", [(4, -2), (4, -3), (3, -4), (4, -5)])
def test_int8_ffn_matches_float_along_every_axis(kernel, axis):
    # axis -4 has length 3 <= K: the banded path; the others the im2col path
    torch.manual_seed(0)
    ffn = SwiGLUConvDeconv1d(dim=6, hidden_dim=5, kernel_size=kernel).eval()
    quantized = Int8SwiGLUConvDeconv1d.from_float(ffn)
    x = torch.randn(2, 3, 9, 7, 6)
    with torch.inference_mode():
        assert relative_error(quantized(x, axis), ffn(x, axis)) < 0.08
    assert quantized.state_dict().keys() == ffn.state_dict().keys()


def test_int8_attention_matches_float():
    torch.manual_seed(0)
    attn = RoPESelfAttention(dim=6, attention_dim=8, n_heads=2).eval()
    quantized = Int8RoPESelfAttention.from_float(attn)
    x = torch.randn(2, 5, 7, 6)
    with torch.inference_mode():
        assert relative_error(quantized(x, -3), attn(x, -3)) < 0.08


def test_int8_layers_refuse_training_and_strides():
    ffn = Int8SwiGLUConvDeconv1d.from_float(SwiGLUConvDeconv1d(6, 5))
    with pytest.raises(ValueError, match="inference only"):
        ffn.train()
    with pytest.raises(ValueError, match="stride 1"):
        Int8SwiGLUConvDeconv1d(6, 5, kernel_size=4, stride=2)
