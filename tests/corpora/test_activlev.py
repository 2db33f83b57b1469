"""The P.56 active level: VOICEBOX's filter, known levels of synthetic signals."""

import numpy as np
import pytest
from scipy.signal import freqz

from espnet2_tisdiss.corpora import activlev

FS = 8000


def tone(freq: float, amplitude: float, seconds: float) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * freq * np.arange(int(seconds * FS)) / FS)


def test_highpass_is_voicebox_chebyshev2():
    zeros, poles, _ = activlev._prototype_highpass()
    # VOICEBOX activlev.m's s-plane constants for its default (Chebyshev II) filter
    assert np.allclose(sorted(abs(zeros.imag)), [0, 0.23388534441447, 0.23388534441447,
                                                 0.37843443673309, 0.37843443673309])
    assert np.allclose(sorted(poles.real), [-0.66793268833792, -0.54036889596392, -0.54036889596392,
                                            -0.20640255179496, -0.20640255179496])
    b, a = activlev.highpass(FS)
    _, response = freqz(b, a, [200, 1000, 3999], fs=FS)
    gain_db = 20 * np.log10(np.abs(response))
    assert gain_db[0] == pytest.approx(-0.25, abs=0.01) and abs(gain_db[1]) < 0.25
    assert abs(gain_db[2]) < 1e-3


def test_steady_tone_level_is_its_power():
    x = tone(440, 0.1, 2.0)
    assert activlev.active_level(x, FS) == pytest.approx(0.1**2 / 2, rel=0.03)


def test_silence_counts_only_for_the_hangover():
    speech = tone(700, 0.3, 2.0)
    gated = np.concatenate([np.zeros(2 * FS), speech, np.zeros(2 * FS)])
    # Active: the 2 s tone, ~0.1 s while the smoothed envelope decays below the threshold,
    # and the 0.2 s hangover after that; the other 3.7 s of silence are not.
    expected = activlev.active_level(speech, FS) * 2.0 / 2.3
    assert activlev.active_level(gated, FS) == pytest.approx(expected, rel=0.02)
    assert activlev.active_level(gated, FS) > 2.5 * np.mean(gated**2)  # the long-term level is lower


def test_normalise_gives_unit_active_level_and_scales_linearly():
    x = tone(300, 0.02, 1.5)
    y, level = activlev.normalise(x, FS)
    assert activlev.active_level(y, FS) == pytest.approx(1.0, rel=1e-3)  # 3 dB bins shift a little
    assert activlev.active_level(4 * x, FS) == pytest.approx(16 * level, rel=1e-9)  # whole bins


def test_silent_signal_and_unsupported_rate():
    assert activlev.active_level(np.zeros(FS), FS) == 0.0
    with pytest.raises(ValueError, match="below 14000 Hz"):
        activlev.active_level(tone(440, 0.1, 0.5), 16000)
