"""STFT and inverse STFT in numpy, equal to ESPnet's ``stft`` encoder and decoder.

ESPnet's ``STFTEncoder``/``STFTDecoder`` call ``torch.stft``/``torch.istft`` with a periodic
window (``torch.hann_window``), ``center=True`` (reflect padding of n_fft // 2 on both
sides), no normalisation and one-sided spectra; a window shorter than n_fft is zero-padded
on both sides. The same here, without torch, for the ONNX runtime.
"""

from typing import Optional

import numpy as np

WINDOWS = ("hann", "hamming", "rectangular")


def periodic_window(name: Optional[str], win_length: int, n_fft: int) -> np.ndarray:
    """The analysis window [n_fft] (float64): ``name`` periodic of ``win_length``, centred in n_fft."""
    n = np.arange(win_length)
    if name == "hann":
        window = 0.5 - 0.5 * np.cos(2 * np.pi * n / win_length)
    elif name == "hamming":
        window = 0.54 - 0.46 * np.cos(2 * np.pi * n / win_length)
    elif name in (None, "rectangular"):
        window = np.ones(win_length)
    else:
        raise ValueError(f"window {name!r} is not supported by the numpy STFT (one of {WINDOWS})")
    left = (n_fft - win_length) // 2
    return np.pad(window, (left, n_fft - win_length - left))


class NumpySTFT:
    """``forward``: wave [S] -> complex [T, F]; ``inverse``: complex [..., T, F] -> wave [..., S].

    Args:
        n_fft, hop_length, win_length (None: n_fft), window: as in ESPnet's ``stft`` encoder.
    """

    def __init__(self, n_fft: int, hop_length: int, win_length: Optional[int] = None, window: str = "hann"):
        self.n_fft, self.hop = n_fft, hop_length
        self.window = periodic_window(window, win_length or n_fft, n_fft)

    def forward(self, wave: np.ndarray) -> np.ndarray:
        pad = self.n_fft // 2
        if len(wave) <= pad:
            raise ValueError(f"{len(wave)} samples are too few for reflect padding of {pad}")
        padded = np.pad(wave.astype(np.float64), pad, mode="reflect")
        frames = 1 + (len(padded) - self.n_fft) // self.hop
        index = np.arange(self.n_fft)[None, :] + self.hop * np.arange(frames)[:, None]  # [T, n_fft]
        return np.fft.rfft(padded[index] * self.window, axis=-1)  # [T, F]

    def inverse(self, spec: np.ndarray, length: int) -> np.ndarray:
        frames = np.fft.irfft(spec, n=self.n_fft, axis=-1) * self.window  # [..., T, n_fft]
        count = spec.shape[-2]
        total = self.n_fft + self.hop * (count - 1)
        signal = np.zeros(spec.shape[:-2] + (total,))
        envelope = np.zeros(total)
        for t in range(count):
            signal[..., t * self.hop:t * self.hop + self.n_fft] += frames[..., t, :]
            envelope[t * self.hop:t * self.hop + self.n_fft] += self.window ** 2
        pad = self.n_fft // 2
        signal, envelope = signal[..., pad:pad + length], envelope[pad:pad + length]
        if signal.shape[-1] < length or np.any(envelope < 1e-11):
            raise ValueError("the window does not overlap-add to a nonzero envelope over the whole signal")
        return signal / envelope
