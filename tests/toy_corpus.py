"""Write a few two-source mixtures as Kaldi-style data dirs (wav.scp, spk1.scp, spk2.scp)."""

from pathlib import Path

import numpy as np
import soundfile as sf

FS = 8000


def harmonic_source(rng: np.random.Generator, f0_range, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * FS)) / FS
    f0 = rng.uniform(*f0_range) * (1 + 0.05 * np.sin(2 * np.pi * rng.uniform(1, 4) * t))
    phase = 2 * np.pi * np.cumsum(f0) / FS
    wave = sum(np.sin(k * phase) / k for k in range(1, 8))
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1, 3) * t + rng.uniform(0, 6))
    return (0.1 * wave * envelope).astype(np.float32)


def write_set(root: Path, name: str, count: int, seed: int, seconds: float = 0.5) -> Path:
    """Mixtures of a low- and a high-pitched source; returns the data dir."""
    rng = np.random.default_rng(seed)
    data = root / name
    (data / "wav").mkdir(parents=True)
    scp = {"wav.scp": [], "spk1.scp": [], "spk2.scp": [], "utt2spk": [], "speech_shape": []}
    for i in range(count):
        utt = f"{name}_{i:03d}"
        low = harmonic_source(rng, (100, 160), seconds)
        high = harmonic_source(rng, (250, 400), seconds)
        for key, wave in (("mix", low + high), ("s1", low), ("s2", high)):
            sf.write(data / "wav" / f"{utt}_{key}.wav", wave, FS)
        scp["wav.scp"].append(f"{utt} {data / 'wav' / f'{utt}_mix.wav'}")
        scp["spk1.scp"].append(f"{utt} {data / 'wav' / f'{utt}_s1.wav'}")
        scp["spk2.scp"].append(f"{utt} {data / 'wav' / f'{utt}_s2.wav'}")
        scp["utt2spk"].append(f"{utt} {utt}")
        scp["speech_shape"].append(f"{utt} {len(low)}")
    for file, lines in scp.items():
        (data / file).write_text("\n".join(lines) + "\n")
    return data
