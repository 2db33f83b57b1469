"""Generate Libri2Mix from LibriSpeech, WHAM! noise and LibriMix's metadata, by LibriMix's rules.

LibriMix's metadata (``metadata/Libri2Mix/libri2mix_<LibriSpeech subset>.csv`` in its
repository) gives, per mixture: ``mixture_ID``, ``source_{1,2}_path`` (relative to
LibriSpeech), ``source_{1,2}_gain``, ``noise_path`` (relative to wham_noise) and
``noise_gain``. Its ``create_librimix_from_metadata.py`` does, and so do we:

1. read both sources (16 kHz flac) and the noise, only as far as the longer source (first
   channel); a shorter noise is extended by repeating it with a 0.5 s Hann cross-fade
   (a 16001-point window: its rising half on the repeat, its falling half on the tail);
2. multiply each signal by its gain, then resample to 8 kHz with SciPy's ``resample_poly``;
3. "min": cut all three to the shortest; "max": zero-pad them to the longest;
4. mix_clean = s1 + s2, mix_both = s1 + s2 + noise; write every signal as 16-bit wav
   (soundfile's float to PCM conversion, as LibriMix) under
   ``<out>/Libri2Mix/wav8k/min/<subset>/{s1,s2,noise,mix_clean,mix_both}/<mixture_ID>.wav``,
   and ``metadata/mixture_<subset>_mix_{clean,both}.csv`` as LibriMix writes them.

Not made: ``mix_single`` (one speaker in noise), which 2-speaker separation does not use.
train-360's noise is WHAM!'s ``tr`` speed-perturbed by 0.8 and 1.2 (``sp08``/``sp12`` files)
with sox, by LibriMix's ``augment_train_noise.py``; that step is not reproduced here, so
those files must exist (the error names the first one missing).
"""

import csv
import multiprocessing
import shutil
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly
from tqdm import tqdm

from espnet2_tisdiss.corpora.common import CorpusError

SOURCE_RATE = 16000
SUBSETS = {"train-360": "train-clean-360", "train-100": "train-clean-100",
           "dev": "dev-clean", "test": "test-clean"}  # ours -> LibriSpeech's name
FOLDERS = ("s1", "s2", "noise", "mix_clean", "mix_both")


def extend_noise(noise: np.ndarray, length: int) -> np.ndarray:
    """``noise`` repeated with Hann cross-fades until it has ``length`` samples."""
    window = np.hanning(SOURCE_RATE + 1)
    half = len(window) // 2 + 1
    rise, fall = window[:half], window[len(window) // 2::-1]
    out = noise
    while len(out) < length:
        tail = out[len(out) - len(fall):] * fall + noise[:len(rise)] * rise
        out = np.concatenate((out[:len(out) - len(fall)], tail, noise[len(rise):]))
    return out[:length]


def mix_row(row: Dict[str, str], librispeech: Path, wham_noise: Path, rate: int,
            mode: str) -> Dict[str, np.ndarray]:
    """The five signals of one metadata row, ``{folder: float samples}``."""
    sources = []
    for j in (1, 2):
        path = librispeech / row[f"source_{j}_path"]
        if not path.is_file():
            raise CorpusError(f"LibriSpeech file {path} (mixture {row['mixture_ID']}) is missing; "
                              "check LIBRISPEECH in db.sh.")
        sources.append(sf.read(str(path), dtype="float32")[0])
    longest = max(len(s) for s in sources)
    noise_path = wham_noise / row["noise_path"]
    if not noise_path.is_file():
        raise CorpusError(f"WHAM! noise file {noise_path} is missing; check WHAM_NOISE in db.sh "
                          "(train-360 also needs LibriMix's augment_train_noise.py sp08/sp12 files).")
    noise = sf.read(str(noise_path), dtype="float32", stop=longest, always_2d=True)[0][:, 0]
    if len(noise) < longest:
        noise = extend_noise(noise, longest)
    gains = [float(row["source_1_gain"]), float(row["source_2_gain"]), float(row["noise_gain"])]
    signals = [resample_poly(x * g, rate, SOURCE_RATE) for x, g in zip((*sources, noise), gains)]
    n = (min if mode == "min" else max)(len(s) for s in signals)
    s1, s2, noise = (np.pad(s[:n], (0, n - len(s[:n]))) for s in signals)
    return {"s1": s1, "s2": s2, "noise": noise, "mix_clean": s1 + s2, "mix_both": s1 + s2 + noise}


def _mix_one(task) -> int:
    row, librispeech, wham_noise, rate, mode, work = task
    for folder, signal in mix_row(row, librispeech, wham_noise, rate, mode).items():
        sf.write(str(work / folder / f"{row['mixture_ID']}.wav"), signal, rate)
    return len(signal)


def _write_metadata(meta_dir: Path, subset: str, final: Path, rows: List[Dict[str, str]],
                    lengths: List[int]) -> None:
    """``mixture_<subset>_mix_{clean,both}.csv`` with the columns LibriMix writes."""
    for mix in ("mix_clean", "mix_both"):
        columns = ["mixture_ID", "mixture_path", "source_1_path", "source_2_path"]
        columns += ["noise_path"] if mix == "mix_both" else []
        with open(meta_dir / f"mixture_{subset}_{mix}.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns + ["length"])
            for row, length in zip(rows, lengths):
                file = f"{row['mixture_ID']}.wav"
                paths = [final / folder / file for folder in (mix, "s1", "s2", "noise")]
                writer.writerow([row["mixture_ID"], *map(str, paths[:len(columns) - 1]), length])


def generate(librispeech: Path, wham_noise: Path, metadata_dir: Path, out_root: Path,
             rate: int = 8000, mode: str = "min", subsets: Sequence[str] = tuple(SUBSETS),
             nj: int = 1) -> None:
    """Write the requested subsets under ``<out_root>/Libri2Mix/wav<rate>/<mode>/``.

    A subset is written into a hidden ``.<subset>.partial`` folder and renamed when complete
    (after its metadata); a complete subset from an earlier run is kept.
    """
    for path, what in ((librispeech, "LIBRISPEECH"), (wham_noise, "WHAM_NOISE")):
        if not path.is_dir():
            raise CorpusError(f"{path} is not a directory; set {what} in db.sh.")
    base = out_root / "Libri2Mix" / f"wav{rate // 1000}k" / mode
    (base / "metadata").mkdir(parents=True, exist_ok=True)
    for subset in subsets:
        final = base / subset
        if final.is_dir():
            continue
        csv_path = metadata_dir / f"libri2mix_{SUBSETS[subset]}.csv"
        if not csv_path.is_file():
            raise CorpusError(f"LibriMix metadata {csv_path} is missing; set LIBRIMIX_METADATA in "
                              "db.sh to LibriMix's metadata/Libri2Mix folder.")
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
        work = base / f".{subset}.partial"
        shutil.rmtree(work, ignore_errors=True)
        for folder in FOLDERS:
            (work / folder).mkdir(parents=True)
        tasks = [(row, librispeech, wham_noise, rate, mode, work) for row in rows]
        desc = f"Libri2Mix {subset}"
        if nj > 1:
            with multiprocessing.get_context("spawn").Pool(nj) as pool:
                lengths = list(tqdm(pool.imap(_mix_one, tasks, chunksize=16), total=len(tasks),
                                    desc=desc, unit="mix"))
        else:
            lengths = [_mix_one(task) for task in tqdm(tasks, desc=desc, unit="mix")]
        _write_metadata(base / "metadata", subset, final, rows, lengths)
        work.rename(final)
