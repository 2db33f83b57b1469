"""activation_checkpointing: same outputs and gradients, option checked."""

import pytest
import torch

from espnet2_tisdiss.separator import TISDiSSSeparator
from tests.conftest import TINY, random_stft


def gradients(checkpointing: bool, dropout: float = 0.0):
    torch.manual_seed(0)
    sep = TISDiSSSeparator(9, **{**TINY, "n_sep": 2, "dropout": dropout},
                           activation_checkpointing=checkpointing).train()
    torch.manual_seed(1)
    stages, _, _ = sep(random_stft(), torch.tensor([10, 7]))
    loss = sum(o.abs().mean() for stage in stages for o in stage)
    loss.backward()
    return loss.detach(), {n: p.grad for n, p in sep.named_parameters()}


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_checkpointed_gradients_equal_plain_ones(dropout):
    loss, plain = gradients(False, dropout)
    loss_ckpt, checkpointed = gradients(True, dropout)
    assert torch.allclose(loss, loss_ckpt, rtol=1e-6)
    assert plain.keys() == checkpointed.keys()
    for name, grad in plain.items():
        assert torch.allclose(grad, checkpointed[name], rtol=1e-5, atol=1e-7), name


def test_checkpointing_is_off_in_eval_and_checked():
    sep = TISDiSSSeparator(9, **TINY, activation_checkpointing=True).eval()
    out, _, _ = sep(random_stft(), torch.tensor([10, 7]))
    assert len(out) == 2
    with pytest.raises(ValueError, match="activation_checkpointing"):
        TISDiSSSeparator(9, **TINY, activation_checkpointing="yes")
