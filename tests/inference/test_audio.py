"""Reading mixtures: every unusable file gets an AudioError naming it; resampling keeps lengths."""

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.inference.audio import fit_length, read_mixture, resample
from espnet2_tisdiss.inference.errors import AudioError


def test_mono_and_chosen_channel(tmp_path):
    stereo = np.stack([np.full(800, 0.25), np.full(800, -0.5)], axis=1)
    sf.write(tmp_path / "st.wav", stereo, 16000)
    sf.write(tmp_path / "mono.flac", stereo[:, 0], 44100)
    audio, rate = read_mixture(tmp_path / "st.wav", channel=1)
    assert rate == 16000 and audio.dtype == np.float32 and audio.shape == (800,)
    np.testing.assert_allclose(audio, -0.5)
    audio, rate = read_mixture(tmp_path / "mono.flac", channel=1)  # mono files ignore --channel
    assert rate == 44100 and audio.shape == (800,)


@pytest.mark.parametrize("name,make,message", [
    ("missing.wav", None, "missing.wav: no such file"),
    ("folder.wav", lambda p: p.mkdir(), "folder.wav: not a regular file"),
    ("zero.wav", lambda p: p.write_bytes(b""), "zero.wav: empty file"),
    ("nosamples.wav", lambda p: sf.write(p, np.zeros(0), 8000), "nosamples.wav: empty"),
    ("text.wav", lambda p: p.write_text("not audio\n" * 50), "text.wav: not an audio file"),
    ("nan.wav", lambda p: sf.write(p, np.full(400, np.nan), 8000, subtype="FLOAT"), "nan.wav: contains NaN"),
    ("stereo.wav", lambda p: sf.write(p, np.zeros((400, 2)), 8000), "has 2 channels .* --channel 0..1"),
])
def test_unusable_files_are_named(tmp_path, name, make, message):
    path = tmp_path / name
    if make:
        make(path)
    with pytest.raises(AudioError, match=message) as info:
        read_mixture(path)
    assert str(path) in str(info.value)


def test_channel_out_of_range(tmp_path):
    sf.write(tmp_path / "st.wav", np.zeros((400, 2)), 8000)
    with pytest.raises(AudioError, match="--channel 2 requested but the file has 2 channels"):
        read_mixture(tmp_path / "st.wav", channel=2)


@pytest.mark.parametrize("rates", [(44100, 8000), (8000, 16000), (16000, 16000)])
def test_resample_there_and_back_keeps_the_length(rates):
    audio = np.sin(np.linspace(0, 200, 4411)).astype(np.float32)
    there = resample(audio, *rates)
    assert abs(len(there) - round(len(audio) * rates[1] / rates[0])) <= 1
    back = fit_length(resample(there, rates[1], rates[0]), len(audio))
    assert back.shape == audio.shape and back.dtype == np.float32


def test_fit_length_pads_and_trims():
    audio = np.ones((5, 2), dtype=np.float32)
    assert fit_length(audio, 3).shape == (3, 2)
    padded = fit_length(audio, 7)
    assert padded.shape == (7, 2) and not padded[5:].any()
