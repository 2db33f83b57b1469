"""A training step under bfloat16 autocast (what ESPnet's --use_amp does on bf16 GPUs)."""

import torch

from espnet2_tisdiss.separator import TISDiSSSeparator
from tests.conftest import TINY, random_stft


def test_bfloat16_autocast_training_gives_float32_gradients_close_to_float32():
    torch.manual_seed(0)
    sep = TISDiSSSeparator(9, **TINY).train()
    spec, ilens = random_stft(), torch.tensor([10, 7])

    def grads(enabled: bool):
        sep.zero_grad()
        with torch.autocast("cpu", torch.bfloat16, enabled=enabled):
            stages, _, _ = sep(spec, ilens)
        sum(o.abs().mean() for stage in stages for o in stage).backward()
        return torch.cat([p.grad.flatten() for p in sep.parameters()])

    full, low = grads(False), grads(True)
    assert low.dtype == torch.float32 and torch.isfinite(low).all()
    assert ((low - full).norm() / full.norm()).item() < 0.1
