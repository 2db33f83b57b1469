"""Separator.from_pretrained + separate: any rate, exact lengths, chunks, fixed and adaptive depth."""

import numpy as np
import pytest
import torch

from espnet2_tisdiss import precision
from espnet2_tisdiss.inference import AudioError, ModelLoadError, Separator
from espnet2_tisdiss.inference.model_loading import LoadedModel, load_from_files
from espnet2_tisdiss.inference.core import separate_depths
from tests.inference.tiny_model import FS, write_model


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="module")
def sep(files):
    return Separator.from_pretrained(files["archive"], dtype="float32")


def mixture(samples, seed=0):
    return (0.1 * np.random.default_rng(seed).standard_normal(samples)).astype(np.float32)


def test_from_pretrained_then_call_returns_j_signals_at_the_input_rate(sep):
    wave = mixture(5001)  # 16 kHz, odd length
    sources = sep(wave, fs=16000, inference_reps=3)
    assert sep.fs == FS and sep.num_spk == 2 and len(sources) == 2
    assert all(s.shape == (5001,) and s.dtype == np.float32 for s in sources)
    from_tensor = sep(torch.from_numpy(wave), fs=16000, inference_reps=3)
    for a, b in zip(sources, from_tensor):
        np.testing.assert_array_equal(a, b)


def test_matches_the_recipe_decoder_at_the_model_rate(sep, files):
    wave = mixture(2400, seed=1)
    model = load_from_files(files["config"], files["model"]).model
    recipe = separate_depths(model, wave, [2]).waves[2]
    whole = sep.separate(wave, FS, inference_reps=2, chunk_seconds=None)
    one_chunk = sep.separate(wave, FS, inference_reps=2, chunk_seconds=1.0, overlap_seconds=0.1)
    assert whole.depths == one_chunk.depths == [2]
    for ours, theirs, chunked in zip(whole.sources, recipe, one_chunk.sources):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
        np.testing.assert_array_equal(ours, chunked)  # chunk >= input: exactly the unchunked result


@pytest.mark.parametrize("fs,samples", [(8000, 4003), (44100, 22051)])
def test_chunked_outputs_have_the_input_length(sep, fs, samples):
    result = sep.separate(mixture(samples), fs, inference_reps=1, chunk_seconds=0.2, overlap_seconds=0.05)
    chunks = {8000: 4, 44100: 3}[fs]  # 4003 samples need a 4th chunk to keep the overlap; 4000 do not
    assert result.depths == [1] * chunks
    assert [s.shape for s in result.sources] == [(samples,), (samples,)]
    assert all(np.isfinite(s).all() and s.std() > 0 for s in result.sources)


def test_auto_depth_stops_at_two_when_the_block_is_the_identity(files):
    converged = Separator.from_pretrained(files["archive"])
    with torch.no_grad():
        for parameter in converged.model.separator.reconstruction_block.parameters():
            parameter.zero_()  # every residual path adds exactly zero
    result = converged.separate(mixture(2000), FS, inference_reps="auto", max_reps=6, chunk_seconds=None)
    assert result.depths == [2]


def test_auto_depth_never_exceeds_max_reps_and_matches_that_depth(sep):
    wave = mixture(2000, seed=2)
    result = sep.separate(wave, FS, inference_reps="auto", max_reps=4, auto_threshold=1e-9)
    assert result.depths == [4]
    fixed = sep.separate(wave, FS, inference_reps=4)
    for a, b in zip(result.sources, fixed.sources):
        np.testing.assert_allclose(a, b, atol=1e-6)
    loose = sep.separate(wave, FS, inference_reps="auto", max_reps=4, auto_threshold=1e3)
    assert loose.depths == [2]


def test_default_depth_is_the_trained_n_re(sep):
    wave = mixture(1000)
    assert sep.separate(wave, FS).depths == [sep.model.separator.n_re]


def test_bfloat16_runs_close_to_float32(files, monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))  # as on an AVX2-only CPU
    with pytest.warns(UserWarning, match="slow"):
        bf16 = Separator.from_pretrained(files["archive"], dtype="bfloat16")
    wave = mixture(1600)
    ours, reference = bf16(wave, FS, inference_reps=2), Separator.from_pretrained(files["archive"])(wave, FS, 2)
    for a, b in zip(ours, reference):
        assert a.shape == b.shape and np.linalg.norm(a - b) < 0.1 * np.linalg.norm(b)


@pytest.mark.parametrize("wave,options,error,message", [
    (np.zeros(100, np.float32), {}, AudioError, r"too short: 0.0125 s; the model needs at least 0.0160 s"),
    (np.zeros((2, 800), np.float32), {}, AudioError, r"expected one channel \[S\], got shape \(2, 800\)"),
    (np.full(800, np.nan, np.float32), {}, AudioError, "NaN or infinite"),
    (np.zeros(800, np.float32), {"inference_reps": 0}, ValueError, "integer >= 1 or 'auto'"),
    (np.zeros(800, np.float32), {"inference_reps": "deep"}, ValueError, "integer >= 1 or 'auto'"),
    (np.zeros(800, np.float32), {"chunk_seconds": 0.001}, ValueError, "shorter than one STFT window"),
    (np.zeros(800, np.float32), {"chunk_seconds": 1.0, "overlap_seconds": 1.0}, ValueError, "overlap_seconds"),
])
def test_bad_inputs_and_options(sep, wave, options, error, message):
    with pytest.raises(error, match=message):
        sep.separate(wave, FS, **options)


@pytest.mark.parametrize("level", [0.0, -0.3])  # digital silence, a constant (DC) signal
@pytest.mark.parametrize("depth", [1, "auto"])
def test_silence_gives_exact_silence(sep, level, depth):
    result = sep.separate(np.full(1600, level, np.float32), FS, inference_reps=depth)
    assert len(result.sources) == 2 and all(s.shape == (1600,) and not s.any() for s in result.sources)
    assert result.depths == [1]
    noisy = sep(np.random.default_rng(0).standard_normal(1600).astype(np.float32), FS, inference_reps=1)
    assert all(s.any() for s in noisy)  # the model's own outputs are not silent


def test_unknown_rate_must_be_given(files):
    loaded = load_from_files(files["config"], files["model"])
    with pytest.raises(ModelLoadError, match=r"sample rate of .* is not recorded; give it \(fs=8000"):
        Separator(loaded)
    assert Separator(LoadedModel(loaded.model, 16000, "x")).fs == 16000


def test_exported_from_the_package():
    import espnet2_tisdiss

    assert espnet2_tisdiss.Separator is Separator


def test_inference_sep_reps_runs_the_separation_block_that_often(sep, files):
    """inference_sep_reps=2 equals the model with the attribute set to 2, then the attribute is back."""
    wave = mixture(2400, seed=3)
    model = load_from_files(files["config"], files["model"]).model
    model.separator.inference_sep_reps = 2
    expected = separate_depths(model, wave, [2]).waves[2]
    trained = sep.separate(wave, FS, inference_reps=2, chunk_seconds=None).sources
    twice = sep.separate(wave, FS, inference_reps=2, chunk_seconds=None, inference_sep_reps=2).sources
    for ours, theirs, default in zip(twice, expected, trained):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)
        assert np.abs(ours - default).max() > 1e-3
    assert sep.model.separator.inference_sep_reps == sep.model.separator.n_sep == 1
    with pytest.raises(ValueError, match="inference_sep_reps must be an integer >= 1"):
        sep.separate(wave, FS, inference_sep_reps=0)
    assert sep.model.separator.inference_sep_reps == 1
