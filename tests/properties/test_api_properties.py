"""Properties of the separation API over random lengths, sample rates and signals.

For any mono input at 8, 16, 22.05 or 44.1 kHz (noise, silence, clipped at
+-1, DC offset, a tone, an impulse; levels from 1e-6 to full scale):
- shorter than one STFT window at the model's rate: the documented
  ``AudioError`` ("too short"), and nothing else;
- otherwise J float32 finite outputs of exactly the input's length;
- with a chunk covering the whole input, the same outputs as without chunking
  (``CHUNK_TOLERANCE``);
- chunked into several pieces (longer inputs), still exact length and finite.
The CLI is checked on the same kinds of files (written as float wavs).
"""

import numpy as np
import pytest
import soundfile as sf
from hypothesis import assume, event, given
from hypothesis import strategies as st

from espnet2_tisdiss.bin.separate import main as separate_main
from espnet2_tisdiss.inference import AudioError, Separator
from tests.inference.tiny_model import FS as MODEL_FS
from tests.inference.tiny_model import write_model
from tests.properties.strategies import FAST, SAMPLE_RATES, THOROUGH, amplitudes, kinds, make_signal, seeds

WINDOW = 128  # n_fft of conf/tisdiss_tiny.yaml: the shortest input, at the model's 8 kHz
CHUNK_TOLERANCE = 1e-6  # relative to the output's peak; the code paths should agree exactly

_cache = {}


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> str:
    if "archive" not in _cache:
        _cache["archive"] = str(write_model(tmp_path_factory.mktemp("tiny"))["archive"])
    return _cache["archive"]


@pytest.fixture(scope="module")
def separator(archive) -> Separator:
    if "sep" not in _cache:
        _cache["sep"] = Separator.from_pretrained(archive)
    return _cache["sep"]


def at_model_rate(length: int, fs: int) -> float:
    return length * MODEL_FS / fs


def check_outputs(sources, length: int) -> None:
    assert len(sources) == 2
    for source in sources:
        assert source.dtype == np.float32 and source.shape == (length,)
        assert np.isfinite(source).all()


lengths = st.one_of(st.integers(1, 400), st.integers(400, 6000))  # a few samples .. ~0.75 s at 8 kHz


@FAST
@given(fs=st.sampled_from(SAMPLE_RATES), length=lengths, kind=kinds, amplitude=amplitudes, seed=seeds,
       reps=st.sampled_from([1, 2, "auto"]))
def test_any_input_gives_full_length_finite_outputs_or_the_too_short_error(separator, fs, length, kind,
                                                                           amplitude, seed, reps):
    wave = make_signal(kind, length, amplitude, seed)
    options = dict(inference_reps=reps, max_reps=3)
    if at_model_rate(length, fs) < WINDOW - 2:  # resampling may round by a sample either way
        event("too short")
        with pytest.raises(AudioError, match="too short: .* the model needs at least 0.0160 s"):
            separator.separate(wave, fs, **options)
        return
    try:
        whole = separator.separate(wave, fs, chunk_seconds=None, **options)
    except AudioError as err:  # only right at the threshold
        assert at_model_rate(length, fs) <= WINDOW + 2 and "too short" in str(err)
        return
    event(f"separated ({kind})")
    check_outputs(whole.sources, length)
    covering = separator.separate(wave, fs, chunk_seconds=length / fs + 1.0, overlap_seconds=0.5, **options)
    peak = max(float(np.abs(s).max()) for s in whole.sources) or 1.0
    for a, b in zip(whole.sources, covering.sources):
        assert float(np.abs(a - b).max()) <= CHUNK_TOLERANCE * peak
    assert covering.depths == whole.depths


def check_chunked(separator, fs, seconds, chunk, overlap, kind, amplitude, seed):
    length = round(seconds * fs)
    wave = make_signal(kind, length, amplitude, seed)
    result = separator.separate(wave, fs, inference_reps=1, chunk_seconds=chunk, overlap_seconds=overlap)
    check_outputs(result.sources, length)
    assert len(result.depths) >= int(seconds // chunk)  # it was chunked
    event(f"{len(result.depths)} chunks")


@FAST
@given(fs=st.sampled_from(SAMPLE_RATES), seconds=st.floats(0.6, 1.5), chunk=st.floats(0.1, 0.4),
       kind=kinds, amplitude=amplitudes, seed=seeds, data=st.data())
def test_chunked_long_inputs_keep_exact_length(separator, fs, seconds, chunk, kind, amplitude, seed, data):
    overlap = data.draw(st.floats(0.02, chunk * 0.6))
    assume(round(chunk * MODEL_FS) >= WINDOW)
    check_chunked(separator, fs, seconds, chunk, overlap, kind, amplitude, seed)


@pytest.mark.slow
@THOROUGH
@given(fs=st.sampled_from(SAMPLE_RATES), seconds=st.floats(2.0, 8.0), chunk=st.floats(0.2, 2.0),
       kind=kinds, amplitude=amplitudes, seed=seeds, data=st.data())
def test_chunked_long_inputs_keep_exact_length_thorough(separator, fs, seconds, chunk, kind, amplitude, seed,
                                                        data):
    overlap = data.draw(st.floats(0.02, chunk * 0.6))
    check_chunked(separator, fs, seconds, chunk, overlap, kind, amplitude, seed)


@FAST
@given(fs=st.sampled_from(SAMPLE_RATES), length=lengths, kind=kinds, amplitude=amplitudes, seed=seeds)
def test_cli_on_any_file(archive, tmp_path_factory, fs, length, kind, amplitude, seed):
    folder = tmp_path_factory.mktemp("cli")
    path = folder / f"{kind} {fs}.wav"
    sf.write(path, make_signal(kind, length, amplitude, seed), fs, subtype="FLOAT")
    code = separate_main([str(path), "--model", archive, "--inference_reps", "1", "--chunk_seconds", "0.3",
                          "--overlap_seconds", "0.05"])
    outputs = [folder / f"{kind} {fs}_spk{j}.wav" for j in (1, 2)]
    samples = at_model_rate(length, fs)
    if samples < WINDOW - 2 or (code == 1 and samples <= WINDOW + 2):  # the too-short error
        assert code == 1 and not any(p.exists() for p in outputs)
        return
    assert code == 0
    for output in outputs:
        audio, rate = sf.read(output, dtype="float32")
        assert rate == fs and audio.shape == (length,) and np.isfinite(audio).all()
