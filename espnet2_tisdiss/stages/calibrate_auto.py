"""Calibrate the threshold of depth "auto" for one model on a validation set.

For every validation mixture the separation core runs depths 1..K in one pass
and records the relative change of the decoded spectra between consecutive
depths (``inference.core``), and each depth's output is scored (PIT SI-SNR
against the references). "auto" with threshold t stops a mixture at the first
depth k >= 2 whose change is below t (at K when none is), so its quality and
mean depth follow from these tables for every t without running the model
again. The chosen threshold is the largest one (hence the shallowest average
depth) whose mean SI-SNR is within ``tolerance_db`` of the best fixed depth's.

The validation set, not a test set, is what the threshold is fitted on; the
recipe then decodes the test sets with it (stage 5) and packs it with the
model (stage 7, ``meta.yaml: auto_threshold``), where the API and
``tisdiss-separate`` use it as their default.
"""

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
import soundfile as sf
from scipy.optimize import linear_sum_assignment

from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from espnet2_tisdiss.adaptive_depth import AutoDepth
from espnet2_tisdiss.inference.core import separate_depths
from espnet2_tisdiss.stages.scoring import si_snr_matrix


@dataclass
class Calibration:
    """The chosen threshold and what it gives on the validation set.

    Attributes:
        threshold: the default threshold of "auto".
        mean_depth: the average depth "auto" used with it.
        si_snr: its mean SI-SNR (dB).
        best_depth: the fixed depth with the best mean SI-SNR, and ``best_si_snr`` that value.
        fixed_si_snr: mean SI-SNR of every fixed depth 1..K.
        num_utts: how many validation mixtures were used.
    """

    threshold: float
    mean_depth: float
    si_snr: float
    best_depth: int
    best_si_snr: float
    fixed_si_snr: List[float]
    num_utts: int

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def pit_si_snr(refs: np.ndarray, ests: np.ndarray) -> float:
    """Mean SI-SNR (dB) of ``ests`` [J, S] against ``refs`` [J, S] under the best permutation."""
    matrix = si_snr_matrix(refs, ests)
    rows, cols = linear_sum_assignment(matrix, maximize=True)
    return float(matrix[rows, cols].mean())


def depth_profile(model, mixture: np.ndarray, refs: np.ndarray, max_reps: int,
                  device: str = "cpu") -> Tuple[np.ndarray, np.ndarray]:
    """(SI-SNR at depths 1..K [K], relative change at depths 2..K [K-1]) of one mixture [S]."""
    depths = list(range(1, max_reps + 1))
    # A threshold no change reaches makes "auto" run to K and record every change.
    result = separate_depths(model, mixture, depths + ["auto"], device,
                             AutoDepth(max_reps, threshold=np.finfo(np.float64).tiny))
    length = min(len(mixture), refs.shape[1])
    scores = [pit_si_snr(refs[:, :length], np.stack(result.waves[k])[:, :length]) for k in depths]
    return np.array(scores), np.array(result.changes)


def auto_depths(changes: np.ndarray, threshold: float) -> np.ndarray:
    """The depth "auto" stops at for each mixture: ``changes`` [N, K-1] -> [N] in 1..K."""
    max_reps = changes.shape[1] + 1
    below = changes < threshold
    return np.where(below.any(axis=1), below.argmax(axis=1) + 2, max_reps)


def choose_threshold(scores: np.ndarray, changes: np.ndarray, tolerance_db: float = 0.05) -> Calibration:
    """The largest threshold whose "auto" SI-SNR is within ``tolerance_db`` of the best fixed depth.

    Where no threshold comes that close (quality falls past the best depth, and
    "auto" overshoots it), the threshold with the best "auto" SI-SNR.

    Args:
        scores: SI-SNR [N, K] of N mixtures at depths 1..K.
        changes: relative changes [N, K-1] at depths 2..K.
    """
    if scores.ndim != 2 or scores.shape[0] == 0 or scores.shape[1] < 2:
        raise ValueError("calibration needs at least one mixture and a maximum depth of at least 2")
    fixed = scores.mean(axis=0)
    best = int(fixed.argmax())
    rows = np.arange(len(scores))
    # Candidates, largest first: just above each measured change (that change then stops the
    # loop), and the smallest change itself (nothing stops before K).
    candidates = np.unique(np.concatenate([np.nextafter(changes.ravel(), np.inf), [changes.min()]]))[::-1]
    outcomes = []
    for threshold in candidates:
        depth = auto_depths(changes, threshold)
        outcomes.append((float(threshold), float(depth.mean()), float(scores[rows, depth - 1].mean())))
    close = [o for o in outcomes if o[2] >= fixed[best] - tolerance_db]
    threshold, mean_depth, quality = close[0] if close else max(outcomes, key=lambda o: o[2])
    return Calibration(threshold, mean_depth, quality, best + 1, float(fixed[best]),
                       [float(v) for v in fixed], len(scores))


def calibrate(model, mixtures: Sequence[np.ndarray], references: Sequence[np.ndarray], max_reps: int = 8,
              tolerance_db: float = 0.05, device: str = "cpu") -> Calibration:
    """Calibrate on ``mixtures`` ([S] each) with ``references`` ([J, S] each)."""
    profiles = [depth_profile(model, mix, refs, max_reps, device) for mix, refs in zip(mixtures, references)]
    scores = np.stack([p[0] for p in profiles])
    changes = np.stack([p[1] for p in profiles])
    return choose_threshold(scores, changes, tolerance_db)


def read_references(data_dir, utts: Sequence[str]) -> Dict[str, np.ndarray]:
    """{utt: references [J, S]} from ``spk<j>.scp`` of a Kaldi data dir."""
    lists = []
    j = 1
    while (Path(data_dir) / f"spk{j}.scp").is_file():
        lists.append(read_scp(Path(data_dir) / f"spk{j}.scp"))
        j += 1
    if not lists:
        raise ValueError(f"{data_dir} has no spk1.scp: calibration needs the references")
    refs = {}
    for utt in utts:
        waves = [sf.read(lst[utt], dtype="float32", always_2d=True)[0][:, 0] for lst in lists]
        length = min(len(w) for w in waves)
        refs[utt] = np.stack([w[:length] for w in waves])
    return refs
