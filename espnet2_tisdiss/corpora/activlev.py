"""Active speech level (ITU-T P.56), as the wsj0-2mix mixing script measures it.

The official ``create_wav_2speakers.m`` normalises each utterance with VOICEBOX's
``activlev(s, fs, 'n')`` (M. Brookes, the 2012 revision that this module follows): the signal
divided by the square root of its active level. That function, in its default mode, works so:

1. Input filter: a 5th-order Chebyshev type II high-pass (0.25 dB passband ripple at 200 Hz,
   50 dB stopband), bilinear-transformed and scaled to unit gain at Nyquist. A 5.5 kHz low-pass
   follows only at sample rates of 14 kHz and above; wsj0-2mix measures at 8 kHz, so we omit it
   and refuse higher rates rather than guess.
2. Envelope: |filtered| through two cascaded one-pole smoothers, time constant 30 ms each
   (``1 / (1 - g z^-1)^2`` scaled to unit DC gain, ``g = exp(-1 / (0.03 fs))``).
3. Each sample's envelope power goes into a 3 dB bin by its binary exponent (the ``e`` of
   ``s^2 = f 2^e``, 0.5 <= f < 1), after a running maximum over the last ``ceil(0.2 fs) + 1``
   samples (0.2 s hangover). 20 bins below the loudest exponent; quieter samples pile in the last.
4. For each bin threshold ``c_j`` (dB): ``a_j`` = 10 log10(sum of squares / samples above
   ``c_j``). The active level is where ``a_j - c_j`` first rises through the 15.9 dB margin,
   interpolated linearly between the two bins around the crossing.

All of this is our own code from the description above; the two filters are designed with
SciPy. Reference: ITU-T Rec. P.56 (2011), method B; VOICEBOX ``activlev.m``.
"""

import math
from functools import lru_cache
from typing import Tuple

import numpy as np
from scipy import optimize, signal

N_BINS = 20  # 60 dB at 3 dB per bin
MARGIN_DB = 15.9  # P.56 margin between the threshold and the active level
HIGHPASS_HZ = 200.0
LOWPASS_MIN_RATE = 14000  # at or above this rate VOICEBOX also low-passes at 5.5 kHz


@lru_cache(maxsize=None)
def _prototype_highpass() -> Tuple[np.ndarray, np.ndarray, float]:
    """Analog Chebyshev II high-pass (order 5, 50 dB), edge placed so |H(j1)| = -0.25 dB."""
    def ripple_at_one(edge: float) -> float:
        z, p, k = signal.cheby2(5, 50, edge, btype="highpass", analog=True, output="zpk")
        return 20 * math.log10(abs(k * np.prod(1j - z) / np.prod(1j - p))) + 0.25

    edge = optimize.brentq(ripple_at_one, 0.05, 0.99)
    return signal.cheby2(5, 50, edge, btype="highpass", analog=True, output="zpk")


@lru_cache(maxsize=None)
def highpass(fs: int) -> Tuple[np.ndarray, np.ndarray]:
    """(b, a) of the 200 Hz input filter at ``fs``, unit gain at Nyquist."""
    z, p, _ = _prototype_highpass()
    warp = math.tan(math.pi * HIGHPASS_HZ / fs)  # prototype edge 1 -> 200 Hz after the bilinear map
    zd, pd = (1 + z * warp) / (1 - z * warp), (1 + p * warp) / (1 - p * warp)
    b, a = np.real(np.poly(zd)), np.real(np.poly(pd))
    alternating = (-1.0) ** np.arange(len(a))  # evaluates a polynomial at z = -1
    return b * (a @ alternating) / (b @ alternating), a


def active_level(x: np.ndarray, fs: int) -> float:
    """Active speech level of ``x`` (1-D, float) in units of power; 0.0 for an all-zero signal.

    Raises:
        ValueError: ``fs`` >= 14 kHz, where VOICEBOX adds a low-pass this module leaves out.
    """
    if fs >= LOWPASS_MIN_RATE:
        raise ValueError(f"active_level implements the sample rates below {LOWPASS_MIN_RATE} Hz "
                         f"(wsj0-2mix measures at 8 kHz), got {fs}.")
    b, a = highpass(fs)
    filtered = signal.lfilter(b, a, np.asarray(x, dtype=np.float64))
    sum_sq = float(filtered @ filtered)
    if sum_sq == 0.0:
        return 0.0
    g = math.exp(-1.0 / (0.03 * fs))
    envelope = signal.lfilter([(1 - g) ** 2], [1.0, -2 * g, g * g], np.abs(filtered))
    with np.errstate(divide="ignore"):
        _, exponent = np.frexp(envelope**2)  # envelope^2 = f * 2^exponent, 0.5 <= f < 1
    exponent = np.where(envelope > 0, exponent, np.iinfo(np.int32).min).astype(np.int64)
    hangover = math.ceil(0.2 * fs) + 1
    held = _running_max(exponent, hangover)
    top = int(held.max()) + 1
    bins = np.minimum(top - held, N_BINS)  # bin k: 2^(top-k-1) <= power < 2^(top-k)
    above = np.cumsum(np.bincount(bins - 1, minlength=N_BINS)[:N_BINS])  # samples above each threshold
    with np.errstate(divide="ignore"):
        level_db = 10 * np.log10(sum_sq / above)  # a_j
    threshold_db = 10 * math.log10(2) * (top - np.arange(1, N_BINS + 1) - 1)  # c_j
    margin = level_db - threshold_db - MARGIN_DB
    crossing = np.flatnonzero((margin[:-1] < 0) & (margin[1:] >= 0))
    if crossing.size:
        j = int(crossing[0])
        frac = 1.0 / (1.0 - margin[j + 1] / margin[j])
    elif margin[-1] <= 0:  # never reaches the margin: the lowest bin's level
        j, frac = N_BINS - 2, 1.0
    else:  # always above it: the highest bin's level
        j, frac = 0, 0.0
    level = level_db[j] + frac * (level_db[j + 1] - level_db[j]) if frac else level_db[j]
    return float(10 ** (level / 10))


def normalise(x: np.ndarray, fs: int) -> Tuple[np.ndarray, float]:
    """(``x`` / sqrt(active level), active level): ``activlev(x, fs, 'n')``; unchanged if silent."""
    level = active_level(x, fs)
    return (x / math.sqrt(level) if level > 0 else np.asarray(x, dtype=np.float64)), level


def _running_max(values: np.ndarray, window: int) -> np.ndarray:
    """``out[i] = max(values[max(0, i - window + 1) : i + 1])`` (causal, O(n log window))."""
    out = values.copy()
    span = 1
    while span < window:  # doubling: out covers `span` samples, then 2 * span, ...
        step = min(span, window - span)
        out[step:] = np.maximum(out[step:], out[:-step])
        span += step
    return out
