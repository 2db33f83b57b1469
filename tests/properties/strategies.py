"""Hypothesis settings and signal strategies shared by the property tests.

The fast tests run a fixed, small set of examples (``derandomize=True``), so
the suite is reproducible; the slow ones draw new random examples each run.
No example database is written (``database=None``).
"""

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

FAST = settings(max_examples=12, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow])
THOROUGH = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

SAMPLE_RATES = (8000, 16000, 22050, 44100)
KINDS = ("noise", "silence", "clipped", "dc_offset", "tone", "impulse")


def make_signal(kind: str, length: int, amplitude: float, seed: int) -> np.ndarray:
    """A float32 test signal [length] of one ``kind`` at ``amplitude`` (clipped to +-1 where said)."""
    rng = np.random.default_rng(seed)
    if kind == "silence":
        return np.zeros(length, np.float32)
    if kind == "clipped":  # a loud signal hard-clipped at full scale, mostly +-1
        return np.clip(10 * rng.standard_normal(length), -1, 1).astype(np.float32)
    if kind == "dc_offset":
        return (0.5 + amplitude * rng.standard_normal(length)).astype(np.float32)
    if kind == "tone":
        return (amplitude * np.sin(0.05 * np.arange(length))).astype(np.float32)
    if kind == "impulse":
        signal = np.zeros(length, np.float32)
        signal[length // 2] = amplitude
        return signal
    return (amplitude * rng.standard_normal(length)).astype(np.float32)


amplitudes = st.sampled_from([1e-6, 1e-3, 0.1, 1.0])
kinds = st.sampled_from(KINDS)
seeds = st.integers(0, 2**16)
