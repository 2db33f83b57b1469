"""Properties of the TISDiSS separator (eval mode) over random batches, lengths, depths and levels.

For any complex STFT [B, T, F] (T from 1 frame, levels from silence to 1e3,
with a DC bin or without), every depth gives J finite spectrograms of the
input's shape, and each batch item is separated as if it were alone.
"""

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from espnet2_tisdiss.separator import TISDiSSSeparator
from tests.properties.strategies import FAST, THOROUGH

FREQS = 17  # n_fft 32
TINY = dict(num_spk=2, n_sep=1, n_re=2, emb_dim=8, n_heads=2, ffn_hidden_dim=12, ffn_kernel_size=3,
            num_groups=2)
BATCH_TOLERANCE = 1e-4  # relative to the largest output magnitude: batched and single kernels round differently

_cache = {}


def separator() -> TISDiSSSeparator:
    if "sep" not in _cache:
        torch.manual_seed(0)
        _cache["sep"] = TISDiSSSeparator(FREQS, **TINY).eval()
    return _cache["sep"]


def spectrogram(batch: int, frames: int, level: float, dc: bool, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    spec = level * torch.randn(batch, frames, FREQS, dtype=torch.complex64, generator=generator)
    if dc:  # a large constant component, as a DC offset puts in bin 0
        spec[..., 0] = 100 * max(level, 1e-3)
    return spec


def check_outputs(spec: torch.Tensor, reps: int) -> None:
    sep = separator()
    sep.inference_reps = reps
    with torch.inference_mode():
        outputs, lengths, _ = sep(spec, torch.full((spec.shape[0],), spec.shape[1]))
        assert len(outputs) == TINY["num_spk"]
        for out in outputs:
            assert out.shape == spec.shape and out.is_complex()
            assert torch.isfinite(torch.view_as_real(out)).all()
        scale = max(float(max(out.abs().max() for out in outputs)), 1e-12)
        for b in range(spec.shape[0]):
            alone, _, _ = sep(spec[b:b + 1], lengths[b:b + 1])
            for j, out in enumerate(outputs):
                assert float((alone[j][0] - out[b]).abs().max()) <= BATCH_TOLERANCE * scale


examples = dict(batch=st.integers(1, 3), frames=st.integers(1, 40), level=st.sampled_from([0.0, 1e-6, 1e-2, 1.0, 1e3]),
                dc=st.booleans(), reps=st.integers(1, 4), seed=st.integers(0, 2**16))


@FAST
@given(**examples)
def test_any_batch_length_and_level(batch, frames, level, dc, reps, seed):
    check_outputs(spectrogram(batch, frames, level, dc, seed), reps)


@pytest.mark.slow
@THOROUGH
@given(**{**examples, "frames": st.integers(1, 160)})
def test_any_batch_length_and_level_thorough(batch, frames, level, dc, reps, seed):
    check_outputs(spectrogram(batch, frames, level, dc, seed), reps)
