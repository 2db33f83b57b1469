"""activation_checkpointing: same outputs and gradients, less memory saved for backward, option checked."""

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


def bytes_saved_for_backward(checkpointing: bool) -> int:
    """Bytes of the distinct storages autograd keeps for backward, parameters excluded."""
    torch.manual_seed(0)
    sep = TISDiSSSeparator(9, **{**TINY, "n_re": 6}, activation_checkpointing=checkpointing).train()
    parameters = {p.untyped_storage().data_ptr() for p in sep.parameters()}
    saved = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in parameters:
            saved[storage.data_ptr()] = storage.nbytes()
        return tensor  # kept alive until backward, so no address is reused

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        stages, _, _ = sep(random_stft(), torch.tensor([10, 7]))
    sum(o.abs().mean() for stage in stages for o in stage).backward()
    return sum(saved.values())


@pytest.mark.parametrize("dropout", [0.0, 0.1])
def test_checkpointed_gradients_equal_plain_ones(dropout):
    loss, plain = gradients(False, dropout)
    loss_ckpt, checkpointed = gradients(True, dropout)
    assert torch.allclose(loss, loss_ckpt, rtol=1e-6)
    assert plain.keys() == checkpointed.keys()
    for name, grad in plain.items():
        assert torch.allclose(grad, checkpointed[name], rtol=1e-5, atol=1e-7), name


def test_checkpointing_lowers_memory_saved_for_backward():
    # Non-reentrant checkpointing saves a block's input through these hooks and
    # its inside through its own, so only what stays in memory is counted.
    plain, checkpointed = bytes_saved_for_backward(False), bytes_saved_for_backward(True)
    assert checkpointed < 0.5 * plain, (checkpointed, plain)  # measured: 0.035x


def test_checkpointing_is_off_in_eval_and_checked():
    sep = TISDiSSSeparator(9, **TINY, activation_checkpointing=True).eval()
    out, _, _ = sep(random_stft(), torch.tensor([10, 7]))
    assert len(out) == 2
    with pytest.raises(ValueError, match="activation_checkpointing"):
        TISDiSSSeparator(9, **TINY, activation_checkpointing="yes")
