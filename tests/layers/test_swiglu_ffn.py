import pytest
import torch

from espnet2_tisdiss.layers.swiglu_ffn import SwiGLUConvDeconv1d


@pytest.mark.parametrize("kernel,stride,length", [(4, 1, 9), (3, 1, 2), (4, 2, 11), (5, 3, 7)])
def test_length_and_shape_are_kept(kernel, stride, length):
    ffn = SwiGLUConvDeconv1d(dim=6, hidden_dim=10, kernel_size=kernel, stride=stride)
    x = torch.randn(2, 3, length, 6)
    assert ffn(x).shape == x.shape


def test_receptive_field_is_local():
    ffn = SwiGLUConvDeconv1d(dim=4, hidden_dim=5, kernel_size=3, stride=1)
    x = torch.randn(1, 20, 4)
    x2 = x.clone()
    x2[:, 19] += 3.0
    diff = (ffn(x2) - ffn(x)).abs().sum(-1)[0]
    assert diff[:15].max() == 0  # kernel 3 conv + kernel 3 deconv reach 4 positions
    assert diff[19] > 0


def test_stride_larger_than_kernel_is_rejected():
    with pytest.raises(ValueError, match="stride"):
        SwiGLUConvDeconv1d(4, 4, kernel_size=2, stride=3)
