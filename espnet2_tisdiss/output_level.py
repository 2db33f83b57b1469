"""The level of separated signals: each stream scaled to its least-squares fit to the mixture.

A model trained with a scale-invariant loss (SI-SNR) is free to output its streams at any
level, and does: the shipped mini model's come out about 530 times (54 dB) louder than the
mixture, far outside [-1, 1]. So every inference path (the separation core behind the recipe's
decode stage, the Python API and ``tisdiss-separate``, and the ONNX runtime) gives each
estimated stream y_j [S] the gain

    g_j = <x, y_j> / <y_j, y_j>

that best fits it to the mixture x [S] in the least-squares sense. The other speakers are
nearly orthogonal to a well-separated stream, so g_j y_j is about that speaker's part of the
mixture: its level and polarity. Scale-invariant metrics (SI-SNR, BSS-eval SDR with its
distortion filter, STOI) are unchanged. A silent stream stays silent.

numpy only (the ONNX runtime imports it without torch).
"""

from typing import List, Sequence

import numpy as np


def match_mixture_level(streams: Sequence[np.ndarray], mixture: np.ndarray) -> List[np.ndarray]:
    """J float32 streams [S], each times its least-squares gain onto ``mixture`` [S].

    Raises:
        ValueError: a stream's length differs from the mixture's.
    """
    target = np.asarray(mixture, dtype=np.float64)
    fitted = []
    for stream in streams:
        if stream.shape != target.shape:
            raise ValueError(f"a separated stream has shape {stream.shape}, the mixture {target.shape}")
        wave = stream.astype(np.float64)
        energy = float(wave @ wave)
        gain = float(target @ wave) / energy if energy > 0.0 else 0.0
        fitted.append((gain * wave).astype(np.float32))
    return fitted
