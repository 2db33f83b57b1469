import pytest
import torch

from espnet2_tisdiss.layers.rms_group_norm import RMSGroupNorm


def test_each_group_is_divided_by_its_rms_then_scaled():
    norm = RMSGroupNorm(num_groups=2, dim=6, eps=0.0)
    norm.weight.data = torch.arange(1.0, 7.0)
    x = torch.randn(3, 5, 6)
    groups = x.view(3, 5, 2, 3)
    expected = groups / groups.pow(2).mean(-1, keepdim=True).sqrt()
    assert torch.allclose(norm(x), expected.view(3, 5, 6) * norm.weight, atol=1e-6)


def test_eps_is_added_to_the_rms():
    norm = RMSGroupNorm(1, 4, eps=1.0)
    x = torch.zeros(1, 4)
    x[0, 0] = 2.0  # rms = 1
    assert torch.allclose(norm(x)[0, 0], torch.tensor(1.0))


def test_groups_must_divide_channels():
    with pytest.raises(ValueError, match="divide"):
        RMSGroupNorm(3, 8)
