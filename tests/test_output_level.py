"""Separated streams come out at the level their speaker has in the mixture."""

import numpy as np
import pytest

from espnet2_tisdiss.output_level import match_mixture_level


def test_each_stream_gets_its_least_squares_gain_onto_the_mixture():
    rng = np.random.default_rng(0)
    first, second = rng.standard_normal((2, 4000))
    mixture = 0.3 * first + 0.1 * second
    fitted = match_mixture_level([500.0 * first, -80.0 * second], mixture)
    np.testing.assert_allclose(fitted[0], 0.3 * first, atol=0.02)
    np.testing.assert_allclose(fitted[1], 0.1 * second, atol=0.02)  # polarity follows the mixture
    assert all(stream.dtype == np.float32 for stream in fitted)
    gain = (mixture @ first) / (first @ first)
    np.testing.assert_allclose(fitted[0], gain * first, rtol=1e-5, atol=1e-6)


def test_a_silent_stream_stays_silent_and_a_wrong_length_is_refused():
    mixture = np.ones(100)
    assert not match_mixture_level([np.zeros(100)], mixture)[0].any()
    with pytest.raises(ValueError, match="shape"):
        match_mixture_level([np.zeros(99)], mixture)
