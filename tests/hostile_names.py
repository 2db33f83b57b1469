"""Hostile but legal file names, and toy data dirs whose files and ids use them (for tests).

Paths may hold anything but NUL and "/" in a component; these hold spaces,
single and double quotes, a leading dash, and non-ASCII letters (Latin-1 and
CJK), the usual ways a shell script or a whitespace split goes wrong.
"""

from pathlib import Path
from typing import Dict, List

import numpy as np
import soundfile as sf
import soxr

from tests.toy_corpus import FS, harmonic_source

HOSTILE_FOLDER = "my data/-dash 'q' \"dq\" ü"
HOSTILE_FILE_STEMS = ("-lead dash", "it's \"quoted\"", "Müller 日本", "tab\tand  two spaces", "$HOME `x` *")
HOSTILE_UTT_IDS = ("-dash_utt", "it's_\"q\"", "Müller_日本", "$x_`y`_*", "ünïcode-ß")


def write_hostile_set(data: Path, audio_root: Path, count: int, seed: int, fs: int = FS,
                      seconds: float = 0.5) -> Dict[str, List[Path]]:
    """A data dir (wav.scp, spk1.scp, spk2.scp) of ``count`` mixtures under hostile names.

    The wavs live in ``audio_root / HOSTILE_FOLDER`` under file names with
    spaces and quotes; the utterance ids are hostile too (no whitespace, as
    Kaldi requires). Returns ``{utt: [mixture, source 1, source 2]}``.
    """
    rng = np.random.default_rng(seed)
    folder = audio_root / HOSTILE_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    data.mkdir(parents=True, exist_ok=True)
    files: Dict[str, List[Path]] = {}
    for i in range(count):
        utt = f"{HOSTILE_UTT_IDS[i % len(HOSTILE_UTT_IDS)]}{i}"
        stem = f"{HOSTILE_FILE_STEMS[i % len(HOSTILE_FILE_STEMS)]} {i}"
        low, high = harmonic_source(rng, (100, 160), seconds), harmonic_source(rng, (250, 400), seconds)
        files[utt] = []
        for key, wave in (("mix", low + high), ("s1", low), ("s2", high)):
            path = folder / f"{stem} {key}.wav"
            sf.write(path, wave if fs == FS else soxr.resample(wave, FS, fs), fs)
            files[utt].append(path)
    for index, name in enumerate(("wav.scp", "spk1.scp", "spk2.scp")):
        lines = [f"{utt} {paths[index]}\n" for utt, paths in files.items()]
        (data / name).write_text("".join(lines), encoding="utf-8")
    return files
