"""Generate Libri2Mix or Libri3Mix from LibriSpeech, WHAM! noise and LibriMix's metadata, by
LibriMix's rules.

LibriMix's metadata (``metadata/Libri<N>Mix/libri<N>mix_<LibriSpeech subset>.csv`` in its
repository, N = 2 or 3) gives, per mixture: ``mixture_ID``, ``source_<j>_path`` (relative to
LibriSpeech) and ``source_<j>_gain`` for j = 1..N, ``noise_path`` (relative to wham_noise) and
``noise_gain``. Its ``create_librimix_from_metadata.py`` does, and so do we:

1. read the N sources (16 kHz flac) and the noise, only as far as the longest source (first
   channel); a shorter noise is extended by repeating it with a 0.5 s Hann cross-fade
   (a 16001-point window: its rising half on the repeat, its falling half on the tail);
2. multiply each signal by its gain, then resample to 8 kHz with SciPy's ``resample_poly``;
3. "min": cut all signals to the shortest; "max": zero-pad them to the longest;
4. mix_clean = s1 + ... + sN, mix_both = mix_clean + noise; write every signal as 16-bit wav
   (soundfile's float to PCM conversion, as LibriMix) under
   ``<out>/Libri<N>Mix/wav8k/min/<subset>/{s1,...,sN,noise,mix_clean,mix_both}/<mixture_ID>.wav``,
   and ``metadata/mixture_<subset>_mix_{clean,both}.csv`` as LibriMix writes them.

Not made: ``mix_single`` (one speaker in noise), which separation does not use.
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


def corpus_name(num_speakers: int) -> str:
    """``Libri2Mix`` or ``Libri3Mix``."""
    return f"Libri{num_speakers}Mix"


def source_folders(num_speakers: int) -> List[str]:
    """``s1`` .. ``sN``."""
    return [f"s{j}" for j in range(1, num_speakers + 1)]


def count_sources(row: Dict[str, str]) -> int:
    """N of a metadata row: its ``source_<j>_path`` columns."""
    n = 0
    while f"source_{n + 1}_path" in row:
        n += 1
    return n


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
    """The signals of one metadata row, ``{folder: float samples}``: s1 .. sN, noise, mix_clean
    and mix_both."""
    sources = []
    for j in range(1, count_sources(row) + 1):
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
    gains = [float(row[f"source_{j}_gain"]) for j in range(1, len(sources) + 1)]
    gains.append(float(row["noise_gain"]))
    signals = [resample_poly(x * g, rate, SOURCE_RATE) for x, g in zip((*sources, noise), gains)]
    n = (min if mode == "min" else max)(len(s) for s in signals)
    *speech, noise = (np.pad(s[:n], (0, n - len(s[:n]))) for s in signals)
    out = dict(zip(source_folders(len(speech)), speech))
    out["noise"] = noise
    out["mix_clean"] = sum(speech)
    out["mix_both"] = out["mix_clean"] + noise
    return out


def _mix_one(task) -> int:
    row, librispeech, wham_noise, rate, mode, work = task
    for folder, signal in mix_row(row, librispeech, wham_noise, rate, mode).items():
        sf.write(str(work / folder / f"{row['mixture_ID']}.wav"), signal, rate)
    return len(signal)


def _write_metadata(meta_dir: Path, subset: str, final: Path, rows: List[Dict[str, str]],
                    lengths: List[int], num_speakers: int) -> None:
    """``mixture_<subset>_mix_{clean,both}.csv`` with the columns LibriMix writes."""
    sources = source_folders(num_speakers)
    for mix in ("mix_clean", "mix_both"):
        folders = [mix, *sources] + (["noise"] if mix == "mix_both" else [])
        columns = ["mixture_ID", "mixture_path", *(f"source_{j}_path" for j in range(1, num_speakers + 1))]
        columns += ["noise_path"] if mix == "mix_both" else []
        with open(meta_dir / f"mixture_{subset}_{mix}.csv", "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(columns + ["length"])
            for row, length in zip(rows, lengths):
                file = f"{row['mixture_ID']}.wav"
                writer.writerow([row["mixture_ID"], *(str(final / folder / file) for folder in folders),
                                 length])


def generate(librispeech: Path, wham_noise: Path, metadata_dir: Path, out_root: Path,
             rate: int = 8000, mode: str = "min", subsets: Sequence[str] = tuple(SUBSETS),
             nj: int = 1, num_speakers: int = 2) -> None:
    """Write the requested subsets under ``<out_root>/Libri<N>Mix/wav<rate>/<mode>/``.

    A subset is written into a hidden ``.<subset>.partial`` folder and renamed when complete
    (after its metadata); a complete subset from an earlier run is kept.
    """
    for path, what in ((librispeech, "LIBRISPEECH"), (wham_noise, "WHAM_NOISE")):
        if not path.is_dir():
            raise CorpusError(f"{path} is not a directory; set {what} in db.sh.")
    name = corpus_name(num_speakers)
    base = out_root / name / f"wav{rate // 1000}k" / mode
    (base / "metadata").mkdir(parents=True, exist_ok=True)
    for subset in subsets:
        final = base / subset
        if final.is_dir():
            continue
        csv_path = metadata_dir / f"{name.lower()}_{SUBSETS[subset]}.csv"
        if not csv_path.is_file():
            raise CorpusError(f"LibriMix metadata {csv_path} is missing; set LIBRIMIX_METADATA in "
                              f"db.sh to LibriMix's metadata/{name} folder.")
        with open(csv_path, newline="") as f:
            rows = list(csv.DictReader(f))
        if rows and count_sources(rows[0]) != num_speakers:
            raise CorpusError(f"{csv_path} lists {count_sources(rows[0])} sources per mixture, "
                              f"not {num_speakers}.")
        work = base / f".{subset}.partial"
        shutil.rmtree(work, ignore_errors=True)
        for folder in (*source_folders(num_speakers), "noise", "mix_clean", "mix_both"):
            (work / folder).mkdir(parents=True)
        tasks = [(row, librispeech, wham_noise, rate, mode, work) for row in rows]
        desc = f"{name} {subset}"
        if nj > 1:
            with multiprocessing.get_context("spawn").Pool(nj) as pool:
                lengths = list(tqdm(pool.imap(_mix_one, tasks, chunksize=16), total=len(tasks),
                                    desc=desc, unit="mix"))
        else:
            lengths = [_mix_one(task) for task in tqdm(tasks, desc=desc, unit="mix")]
        _write_metadata(base / "metadata", subset, final, rows, lengths, num_speakers)
        work.rename(final)
