"""Read one mixture file with checks that name the file, resample, and fit lengths.

Shapes: S samples, J streams.
"""

import os
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
import soundfile as sf
import soxr

from espnet2_tisdiss.inference.errors import AudioError


def read_mixture(path: Path, channel: Optional[int] = None) -> Tuple[np.ndarray, int]:
    """One channel of ``path`` as float32 [S], and its sample rate.

    Args:
        path: any file libsndfile reads (wav, flac, ogg, mp3, ...).
        channel: 0-based channel of a multi-channel file to separate
            (required for those); a mono file is used as it is.

    Raises:
        AudioError: naming ``path``, when it is missing or unreadable, not
            audio, empty, multi-channel without ``channel`` (or with one out of
            range), or holds NaN or infinite samples.
    """
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if not path.is_file():
        raise AudioError(f"{path}: not a regular file")
    if not os.access(path, os.R_OK):
        raise AudioError(f"{path}: permission denied (not readable)")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file (0 bytes)")
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)  # [S, channels]
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise AudioError(f"{path}: not an audio file libsndfile can read ({err})") from err
    except OSError as err:
        raise AudioError(f"{path}: cannot read: {err}") from err
    if audio.shape[0] == 0:
        raise AudioError(f"{path}: empty (0 samples)")
    channels = audio.shape[1]
    if channels > 1 and channel is None:
        raise AudioError(f"{path}: has {channels} channels and the model is single-channel; "
                         f"pick one with --channel 0..{channels - 1}")
    index = channel if channels > 1 else 0
    if not 0 <= index < channels:
        raise AudioError(f"{path}: --channel {index} requested but the file has {channels} channels")
    mono = audio[:, index]  # [S]
    if not np.isfinite(mono).all():
        raise AudioError(f"{path}: contains NaN or infinite samples")
    return np.ascontiguousarray(mono), rate


def is_constant(audio: np.ndarray) -> bool:
    """True for digital silence or any constant (DC) signal [S]: nothing to separate.

    Every inference path gives such an input silent outputs (zeros) without running the
    model, whose variance normalisation would otherwise divide by a zero deviation.
    """
    return audio.size == 0 or bool(np.all(audio == audio.flat[0]))


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Resample float32 [S] or [S, J] from ``rate_in`` to ``rate_out`` Hz (soxr, high quality)."""
    if rate_in == rate_out:
        return audio
    return soxr.resample(audio, rate_in, rate_out, quality="HQ").astype(np.float32, copy=False)


def fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """Trim or zero-pad [S, ...] along the first axis to exactly ``length`` samples."""
    if audio.shape[0] >= length:
        return audio[:length]
    pad = [(0, length - audio.shape[0])] + [(0, 0)] * (audio.ndim - 1)
    return np.pad(audio, pad)
