"""Generate wsj0-2mix or wsj0-3mix from WSJ0 and the official mixing lists, by the official rules.

The lists (``mix_<N>_spk_{tr,cv,tt}.txt``, N = 2 or 3, from MERL's "create-speaker-mixtures"
archive) hold one mixture a line: ``<wsj0 path 1> <snr 1> ... <wsj0 path N> <snr N>``, paths
relative to the folder that holds ``wsj0/`` (e.g. ``wsj0/si_tr_s/01t/01to030v.wv1``).
For each line, ``create_wav_2speakers.m`` and ``create_wav_3speakers.m`` do, and so do we:

1. read the N utterances (16 kHz) and resample them to 8 kHz;
2. measure each one's active level at 8 kHz (ITU-T P.56, :mod:`.activlev`) and divide by its
   square root; the 16 kHz signals are divided by the same 8 kHz levels;
3. scale utterance k by ``10 ** (snr_k / 20)``;
4. "min": cut all to the shortest; "max": zero-pad all to the longest;
5. mix = s1 + ... + sN; scale the mix and every source by ``0.9 / max(|mix|, |s1|, ..., |sN|)``;
6. write each as 16-bit PCM, ``round(2 ** 15 * x)``, named
   ``<utt1>_<snr1>_..._<uttN>_<snrN>.wav`` (snrs printed as MATLAB's num2str does) under
   ``<out>/wav{8k,16k}/{min,max}/{tr,cv,tt}/{mix,s1,...,sN}/``.

Note: MATLAB's ``resample`` designs its anti-aliasing filter with ``firls``; we use SciPy's
``resample_poly`` (Kaiser-windowed sinc, the same length and window), so 8 kHz samples can
differ from the official files by a few LSB. Levels, gains and lengths follow the rules exactly.
"""

import math
import multiprocessing
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly
from tqdm import tqdm

from espnet2_tisdiss.corpora import activlev
from espnet2_tisdiss.corpora.common import CorpusError
from espnet2_tisdiss.corpora.sphere import read_speech

SUBSETS = ("tr", "cv", "tt")
LEVEL_RATE = 8000  # the levels are measured at 8 kHz, also for the 16 kHz files
PEAK = 0.9
WSJ0_RATE = 16000


@dataclass(frozen=True)
class ListEntry:
    """One line of a mixing list: N WSJ0 paths and their snrs (dB)."""

    paths: Tuple[str, ...]
    snrs: Tuple[float, ...]

    @property
    def name(self) -> str:
        """Output file stem, e.g. ``01to030v_0.61061_40na010x_-0.61061``."""
        return "_".join(f"{Path(p).stem}_{num2str(snr)}" for p, snr in zip(self.paths, self.snrs))


def num2str(value: float) -> str:
    """MATLAB's ``num2str`` of a scalar: integers as such, else 5 significant digits (more
    for |value| >= 10: ``floor(log10|value|) + 5``), trailing zeros dropped."""
    if value == int(value):
        return str(int(value))
    digits = max(math.floor(math.log10(abs(value))) + 5, 5)
    return f"{value:.{digits}g}"


def list_name(num_speakers: int, subset: str) -> str:
    """The official list file of a subset, e.g. ``mix_2_spk_tr.txt``."""
    return f"mix_{num_speakers}_spk_{subset}.txt"


def read_list(path: Path, num_speakers: int = 2) -> List[ListEntry]:
    """Parse a mixing list of ``num_speakers``-speaker mixtures.

    Raises:
        CorpusError: the file is missing or a line is not N pairs of ``path snr``.
    """
    if not path.is_file():
        raise CorpusError(f"mixing list not found: {path}. Get "
                          f"{list_name(num_speakers, '{tr,cv,tt}')} from MERL's "
                          "create-speaker-mixtures archive and set the lists folder in db.sh.")
    entries = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            if len(parts) != 2 * num_speakers:
                raise ValueError
            entries.append(ListEntry(tuple(parts[0::2]), tuple(float(x) for x in parts[1::2])))
        except ValueError as err:
            expected = " ".join(["path snr"] * num_speakers)
            raise CorpusError(f"{path}:{number}: expected '{expected}', got {line!r}") from err
    return entries


def locate(wsj0_root: Path, list_path: str) -> Path:
    """The file of a list path under ``wsj0_root``: as listed, or converted to ``.wav``;
    ``wsj0_root`` may be the folder that holds ``wsj0/`` or ``wsj0/`` itself.

    Raises:
        CorpusError: none of the candidates exists (all of them are named).
    """
    relative = Path(list_path)
    inner = Path(*relative.parts[1:]) if relative.parts[0] == "wsj0" else relative
    candidates = [wsj0_root / p for rel in (relative, inner) for p in (rel, rel.with_suffix(".wav"))]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise CorpusError(f"WSJ0 utterance {list_path} not found; looked for: "
                      + ", ".join(str(c) for c in candidates) + ". Check WSJ0 in db.sh.")


def mix_entry(sources: Sequence[np.ndarray], entry: ListEntry,
              targets: Sequence[Tuple[int, str]]) -> Dict[Tuple[int, str], Tuple[np.ndarray, ...]]:
    """The official mixing of N 16 kHz float signals: ``{(rate, mode): (mix, s1, ..., sN)}``
    as int16, for every (rate, mode) of ``targets``."""
    by_rate = {WSJ0_RATE: tuple(sources)}
    by_rate[LEVEL_RATE] = tuple(resample_poly(s, LEVEL_RATE, WSJ0_RATE) for s in sources)
    levels = [activlev.active_level(s, LEVEL_RATE) for s in by_rate[LEVEL_RATE]]
    if min(levels) <= 0:
        raise CorpusError(f"mixture {entry.name}: an utterance is silent.")
    out = {}
    for rate, mode in targets:
        scaled = [s * 10 ** (snr / 20) / math.sqrt(level)
                  for s, snr, level in zip(by_rate[rate], entry.snrs, levels)]
        n = (min if mode == "min" else max)(len(s) for s in scaled)
        fitted = [np.pad(s[:n], (0, n - len(s[:n]))) for s in scaled]
        mix = sum(fitted)
        gain = PEAK / max(np.abs(x).max() for x in (mix, *fitted))
        out[rate, mode] = tuple(np.round(2**15 * gain * x).astype(np.int16) for x in (mix, *fitted))
    return out


def kinds(num_speakers: int) -> Tuple[str, ...]:
    """The folders of a generated subset: ``mix``, ``s1`` .. ``sN``."""
    return ("mix", *(f"s{j}" for j in range(1, num_speakers + 1)))


def _mix_one(task) -> None:
    wsj0_root, entry, work_dirs = task
    signals = []
    for list_path in entry.paths:
        audio, rate = read_speech(locate(wsj0_root, list_path))
        if rate != WSJ0_RATE:
            raise CorpusError(f"{list_path}: sampled at {rate} Hz, WSJ0 is {WSJ0_RATE} Hz.")
        signals.append(audio)
    for (rate, mode), waves in mix_entry(signals, entry, list(work_dirs)).items():
        for kind, wave in zip(kinds(len(entry.paths)), waves):
            sf.write(str(work_dirs[rate, mode] / kind / f"{entry.name}.wav"), wave, rate,
                     subtype="PCM_16")


def subset_dir(out_root: Path, rate: int, mode: str, subset: str) -> Path:
    """``<out_root>/wav8k/min/tr``-style folder of one generated subset."""
    return out_root / f"wav{rate // 1000}k" / mode / subset


def generate(wsj0_root: Path, lists_dir: Path, out_root: Path, rates: Sequence[int] = (8000,),
             modes: Sequence[str] = ("min",), subsets: Sequence[str] = SUBSETS, nj: int = 1,
             num_speakers: int = 2) -> None:
    """Write every requested subset of wsj0-<num_speakers>mix under ``out_root`` (see the
    module docstring).

    A subset is written into a hidden ``.<subset>.partial`` folder and renamed when complete;
    a complete subset from an earlier run is kept as it is.
    """
    if not wsj0_root.is_dir():
        raise CorpusError(f"WSJ0 not found: {wsj0_root} is not a directory (set WSJ0 in db.sh).")
    for subset in subsets:
        entries = read_list(lists_dir / list_name(num_speakers, subset), num_speakers)
        todo = [(r, m) for r in rates for m in modes if not subset_dir(out_root, r, m, subset).is_dir()]
        if not todo:
            continue
        work = {}
        for rate, mode in todo:
            work[rate, mode] = subset_dir(out_root, rate, mode, f".{subset}.partial")
            shutil.rmtree(work[rate, mode], ignore_errors=True)
            for kind in kinds(num_speakers):
                (work[rate, mode] / kind).mkdir(parents=True)
        tasks = [(wsj0_root, entry, work) for entry in entries]
        desc = f"wsj0-{num_speakers}mix {subset}"
        if nj > 1:
            with multiprocessing.get_context("spawn").Pool(nj) as pool:
                for _ in tqdm(pool.imap_unordered(_mix_one, tasks, chunksize=16),
                              total=len(tasks), desc=desc, unit="mix"):
                    pass
        else:
            for task in tqdm(tasks, desc=desc, unit="mix"):
                _mix_one(task)
        for rate, mode in todo:
            work[rate, mode].rename(subset_dir(out_root, rate, mode, subset))
