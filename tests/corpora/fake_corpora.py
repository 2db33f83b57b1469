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
WSJ3_NAMES = {  # subset -> wsj0-3mix file stems (<utt1>_<snr1>_<utt2>_<snr2>_<utt3>_<snr3>)
    "tr": ["01aa010a_1.2_20ba010b_-0.4_40na010x_-0.8", "01ab010c_0.3_22ga010d_2.1_202a010e_-2.4"],
    "cv": ["011a010e_0.5_20ca010f_-1.5_01ha010g_1"],
    "tt": ["050a050a_0.1_051a050b_-0.7_052c050c_0.6", "053a050d_2_050a050e_-1_051a050f_-1"],
}
LIBRI_IDS = {  # subset -> mixture_ID (<spk>-<chapter>-<utt>_<spk>-<chapter>-<utt>)
    "train-360": ["100-121669-0001_2002-139469-0003", "1034-121119-0049_2911-12359-0007"],
    "train-100": ["103-1240-0000_1069-133699-0000"],
    "dev": ["1272-128104-0000_2428-83705-0003", "1462-170138-0004_3752-4943-0021"],
    "test": ["1089-134686-0000_121-121726-0002", "1188-133604-0001_1221-135766-0007"],
}
LIBRI3_IDS = {  # subset -> Libri3Mix mixture_ID (three LibriSpeech utterances)
    "train-360": ["100-121669-0001_2002-139469-0003_1034-121119-0049"],
    "train-100": ["103-1240-0000_1069-133699-0000_1088-134315-0001"],
    "dev": ["1272-128104-0000_2428-83705-0003_1462-170138-0004",
            "3752-4943-0021_1272-128104-0002_2035-147961-0000"],
    "test": ["1089-134686-0000_121-121726-0002_1188-133604-0001"],
}


def pcm(rng: np.random.Generator, n: int, scale: float = 0.2) -> np.ndarray:
    """Random int16 samples (as int32, so sums do not wrap)."""
    return np.round(rng.uniform(-scale, scale, n) * 32768).astype(np.int32)


def write_pcm(path: Path, samples: np.ndarray, fs: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), samples.astype(np.int16), fs, subtype="PCM_16")


def wsj0_mix_tree(root: Path, fs: int = 8000, mode: str = "min", seed: int = 0,
                  lengths: Sequence[int] = (2400, 2000, 2800), num_speakers: int = 2) -> Dict[str, List[str]]:
    """``<root>/wav{fs}/<mode>/{tr,cv,tt}/{mix,s1,...,sN}``; mix = s1 + ... + sN exactly (wsj0-2mix,
    or wsj0-3mix with ``num_speakers=3``). Returns the stems."""
    rng = np.random.default_rng(seed)
    names = WSJ_NAMES if num_speakers == 2 else WSJ3_NAMES
    for subset, stems in names.items():
        for i, name in enumerate(stems):
            n = lengths[i % len(lengths)]
            sources = [pcm(rng, n) for _ in range(num_speakers)]
            folder = root / f"wav{fs // 1000}k" / mode / subset
            signals = {"mix": sum(sources), **{f"s{j + 1}": x for j, x in enumerate(sources)}}
            for kind, x in signals.items():
                write_pcm(folder / kind / f"{name}.wav", x, fs)
    return names


def librimix_tree(root: Path, fs: int = 8000, mode: str = "min", seed: int = 0,
                  num_speakers: int = 2) -> Dict[str, List[str]]:
    """``<root>/Libri<N>Mix/wav{fs}/<mode>/<subset>/{mix_clean,mix_both,s1,...,sN,noise}`` + metadata."""
    rng = np.random.default_rng(seed)
    base = root / f"Libri{num_speakers}Mix" / f"wav{fs // 1000}k" / mode
    all_ids = LIBRI_IDS if num_speakers == 2 else LIBRI3_IDS
    refs = [f"s{j}" for j in range(1, num_speakers + 1)]
    for subset, ids in all_ids.items():
        rows = {"mix_clean": [], "mix_both": []}
        for i, mix_id in enumerate(ids):
            n = 2000 + 400 * i
            sources, noise = [pcm(rng, n) for _ in refs], pcm(rng, n, 0.05)
            signals = {**dict(zip(refs, sources)), "noise": noise, "mix_clean": sum(sources),
                       "mix_both": sum(sources) + noise}
            for folder, x in signals.items():
                write_pcm(base / subset / folder / f"{mix_id}.wav", x, fs)
            paths = {k: f"/elsewhere/{subset}/{k}/{mix_id}.wav" for k in signals}  # stale, as after a move
            rows["mix_clean"].append([mix_id, paths["mix_clean"], *(paths[r] for r in refs), n])
            rows["mix_both"].append([mix_id, paths["mix_both"], *(paths[r] for r in refs), paths["noise"], n])
        (base / "metadata").mkdir(parents=True, exist_ok=True)
        for mix, lines in rows.items():
            header = ["mixture_ID", "mixture_path", *(f"source_{j}_path" for j in range(1, num_speakers + 1))]
            header += ["noise_path"] if mix == "mix_both" else []
            with open(base / "metadata" / f"mixture_{subset}_{mix}.csv", "w", newline="") as f:
                csv.writer(f).writerows([header + ["length"], *lines])
    return all_ids


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
