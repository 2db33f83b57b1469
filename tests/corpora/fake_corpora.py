"""Tiny fake benchmark corpora in the real layouts (names, folders, rates, metadata), a few
short files each, for the preparers and the recipes' stages 1-2."""

import csv
from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np
import soundfile as sf

WSJ_NAMES = {  # subset -> mixture file stems (<utt1>_<snr1>_<utt2>_<snr2>)
    "tr": ["01aa010a_1.2_20ba010b_-1.2", "01ab010c_0.3_22ga010d_-0.3", "40na010x_2_01aa010a_-2"],
    "cv": ["011a010e_0.5_20ca010f_-0.5", "012b010g_1_21ab010h_-1"],
    "tt": ["050a050a_0.1_051a050b_-0.1", "052c050c_0.7_053a050d_-0.7"],
}
LIBRI_IDS = {  # subset -> mixture_ID (<spk>-<chapter>-<utt>_<spk>-<chapter>-<utt>)
    "train-360": ["100-121669-0001_2002-139469-0003", "1034-121119-0049_2911-12359-0007"],
    "train-100": ["103-1240-0000_1069-133699-0000"],
    "dev": ["1272-128104-0000_2428-83705-0003", "1462-170138-0004_3752-4943-0021"],
    "test": ["1089-134686-0000_121-121726-0002", "1188-133604-0001_1221-135766-0007"],
}


def pcm(rng: np.random.Generator, n: int, scale: float = 0.2) -> np.ndarray:
    """Random int16 samples (as int32, so sums do not wrap)."""
    return np.round(rng.uniform(-scale, scale, n) * 32768).astype(np.int32)


def write_pcm(path: Path, samples: np.ndarray, fs: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples.astype(np.int16), fs, subtype="PCM_16")


def wsj0_2mix_tree(root: Path, fs: int = 8000, mode: str = "min", seed: int = 0,
                   lengths: Sequence[int] = (2400, 2000, 2800)) -> Dict[str, List[str]]:
    """``<root>/wav{fs}/<mode>/{tr,cv,tt}/{mix,s1,s2}``; mix = s1 + s2 exactly. Returns the stems."""
    rng = np.random.default_rng(seed)
    for subset, names in WSJ_NAMES.items():
        for i, name in enumerate(names):
            n = lengths[i % len(lengths)]
            s1, s2 = pcm(rng, n), pcm(rng, n)
            folder = root / f"wav{fs // 1000}k" / mode / subset
            for kind, x in (("mix", s1 + s2), ("s1", s1), ("s2", s2)):
                write_pcm(folder / kind / f"{name}.wav", x, fs)
    return WSJ_NAMES


def librimix_tree(root: Path, fs: int = 8000, mode: str = "min", seed: int = 0) -> Dict[str, List[str]]:
    """``<root>/Libri2Mix/wav{fs}/<mode>/<subset>/{mix_clean,mix_both,s1,s2,noise}`` + metadata."""
    rng = np.random.default_rng(seed)
    base = root / "Libri2Mix" / f"wav{fs // 1000}k" / mode
    for subset, ids in LIBRI_IDS.items():
        rows = {"mix_clean": [], "mix_both": []}
        for i, mix_id in enumerate(ids):
            n = 2000 + 400 * i
            s1, s2, noise = pcm(rng, n), pcm(rng, n), pcm(rng, n, 0.05)
            signals = {"s1": s1, "s2": s2, "noise": noise, "mix_clean": s1 + s2,
                       "mix_both": s1 + s2 + noise}
            for folder, x in signals.items():
                write_pcm(base / subset / folder / f"{mix_id}.wav", x, fs)
            paths = {k: f"/elsewhere/{subset}/{k}/{mix_id}.wav" for k in signals}  # stale, as after a move
            rows["mix_clean"].append([mix_id, paths["mix_clean"], paths["s1"], paths["s2"], n])
            rows["mix_both"].append([mix_id, paths["mix_both"], paths["s1"], paths["s2"], paths["noise"], n])
        (base / "metadata").mkdir(parents=True, exist_ok=True)
        for mix, lines in rows.items():
            header = ["mixture_ID", "mixture_path", "source_1_path", "source_2_path"]
            header += ["noise_path"] if mix == "mix_both" else []
            with open(base / "metadata" / f"mixture_{subset}_{mix}.csv", "w", newline="") as f:
                csv.writer(f).writerows([header + ["length"], *lines])
    return LIBRI_IDS


def whamr_tree(root: Path, fs: int = 8000, mode: str = "min", seed: int = 0) -> Dict[str, List[str]]:
    """``<root>/wav{fs}/<mode>/{tr,cv,tt}/{mix_both_reverb,mix_single_reverb,s1_anechoic,...}``."""
    rng = np.random.default_rng(seed)
    for subset, names in WSJ_NAMES.items():
        for i, name in enumerate(names):
            n = 2000 + 300 * i
            folder = root / f"wav{fs // 1000}k" / mode / subset
            s1, s2, noise = pcm(rng, n), pcm(rng, n), pcm(rng, n, 0.05)
            r1, r2 = (np.convolve(s, [1, 0, 0.3])[:n] for s in (s1, s2))  # a crude "reverb"
            signals = {"s1_anechoic": s1, "s2_anechoic": s2, "s1_reverb": r1, "s2_reverb": r2,
                       "noise": noise, "mix_single_reverb": r1 + noise, "mix_clean_reverb": r1 + r2,
                       "mix_both_reverb": r1 + r2 + noise}
            for folder_name, x in signals.items():
                write_pcm(folder / folder_name / f"{name}.wav", x, fs)
    return WSJ_NAMES
