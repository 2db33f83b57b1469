"""Stage 6a: score the separated sources of one test set at every decoded depth.

Inputs
  ``<data_dir>/wav.scp``, ``<data_dir>/spk1.scp`` .. ``spkJ.scp``: mixtures and
  references, Kaldi style, one "utt_id path" a line (split on the first
  whitespace, so paths may contain spaces; relative paths are taken from the cwd).
  ``<decode_dir>/reps<k>/spk1.scp`` .. ``spkJ.scp``: the estimates at depth k,
  with the same utterance ids; the depths are the numbers of the ``reps<k>`` folders.
  ``<decode_dir>/reps_auto/spk<j>.scp`` and ``utt2depth`` (optional): the adaptive
  depth's estimates and the depth each utterance used (stage 5's "auto").
  ``<decode_dir>/timing.json`` (optional):
  ``{"audio_seconds": A, "seconds": {"<k>": S_k}}``, RTF(k) = S_k / A (NaN when absent).

Outputs (each written atomically, ``espnet2_tisdiss.fileio.atomic_io``: a killed run leaves
every file either absent, as before, or complete; a rerun recomputes all of them)
  ``<decode_dir>/reps<k>/scores.tsv``: tab-separated, header
  ``utt_id si_snr si_snri sdr sdri stoi``, one row per utterance (4 decimals).
  ``<decode_dir>/summary.json``: ``{"test_set": <name of data_dir>, "num_utts": n,
  "depths": {"<k>": {"si_snr", "si_snri", "sdr", "sdri", "stoi", "rtf"}}}``
  (means over utterances; NaN is written as null); depth "auto" also has
  "mean_depth", the average depth its utterances used.

Metrics, per utterance, averaged over the J speakers: the estimates are matched to
the references by the permutation maximising the summed SI-SNR; SI-SNR (zero-mean
scale-invariant SNR), SDR (BSS-eval v4 SDR with a 512-tap distortion filter, as
``fast_bss_eval.sdr`` computes it, here for the SI-SNR permutation), their
improvements SI-SNRi/SDRi over the mixture used as every estimate, all in dB and
clamped to +-100 dB (so a perfect estimate stays finite), and classic STOI
(pystoi) at the file's rate. Multi-channel files are scored on their first channel.
Within an utterance all files must share one sample rate; lengths may differ by
at most ``max_length_diff`` samples, and all signals are then trimmed to the shortest.
"""

import json
import math
import multiprocessing
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import fast_bss_eval.numpy as bss
import numpy as np
import soundfile as sf
from pystoi import stoi
from scipy.optimize import linear_sum_assignment
from tqdm import tqdm

from espnet2_tisdiss.depths import AUTO, Depth, depth_folder, depth_order, folder_depth, parse_depth
from espnet2_tisdiss.fileio.atomic_io import write_atomic
from espnet2_tisdiss.fileio.kaldi_lists import read_scp

METRICS = ("si_snr", "si_snri", "sdr", "sdri", "stoi")
CLAMP_DB = 100.0
MAX_LENGTH_DIFF = 512


def _few(ids: Sequence[str], count: int = 3) -> str:
    ids = sorted(ids)
    more = f" (+{len(ids) - count} more)" if len(ids) > count else ""
    return ", ".join(ids[:count]) + more


def check_same_ids(expected: Dict[str, str], expected_name: Path, got: Dict[str, str], got_name: Path):
    """Raise a ValueError naming a few ids missing from or extra in ``got``."""
    missing, extra = set(expected) - set(got), set(got) - set(expected)
    if missing or extra:
        parts = [f"missing {_few(missing)}"] if missing else []
        parts += [f"extra {_few(extra)}"] if extra else []
        raise ValueError(f"utterance ids of {got_name} do not match {expected_name}: {'; '.join(parts)}")


def speaker_lists(folder: Path) -> List[Path]:
    """``spk1.scp`` .. ``spkJ.scp`` of ``folder`` (J = the last consecutive one)."""
    lists = []
    while (folder / f"spk{len(lists) + 1}.scp").is_file():
        lists.append(folder / f"spk{len(lists) + 1}.scp")
    return lists


def find_depths(decode_dir: Union[str, Path]) -> List[Depth]:
    """The k of every ``reps<k>`` folder of ``decode_dir``, sorted numerically, then "auto" if decoded."""
    decode_dir = Path(decode_dir)
    if not decode_dir.is_dir():
        raise ValueError(f"decode dir not found: {decode_dir}")
    depths = sorted((depth for p in decode_dir.iterdir()
                     if p.is_dir() and (depth := folder_depth(p.name)) is not None), key=depth_order)
    if not depths:
        raise ValueError(f"no reps<k> folders in {decode_dir}: nothing was decoded there")
    return depths


def si_snr_matrix(refs: np.ndarray, ests: np.ndarray) -> np.ndarray:
    """SI-SNR in dB of every estimate against every reference, [J_ref, J_est]."""
    return -bss.pairwise_si_sdr_loss(ests, refs, zero_mean=True, clamp_db=CLAMP_DB)


def paired_sdr(refs: np.ndarray, ests: np.ndarray) -> np.ndarray:
    """BSS-eval v4 SDR in dB of ``ests[j]`` against ``refs[j]``, [J] (no permutation)."""
    return -bss.pairwise_sdr_loss(ests[:, None], refs[:, None], clamp_db=CLAMP_DB)[:, 0, 0]


def score_utterance(mixture: np.ndarray, refs: np.ndarray, ests: np.ndarray, rate: int,
                    baseline: Optional[Dict[str, np.ndarray]] = None) -> Dict[str, float]:
    """Metrics of ``ests`` [J, S] for ``refs`` [J, S] and ``mixture`` [S], averaged over speakers.

    ``baseline`` ({"si_snr": [J], "sdr": [J]} of the mixture) is computed when not given.
    """
    if baseline is None:
        baseline = mixture_baseline(mixture, refs)
    matrix = si_snr_matrix(refs, ests)
    rows, cols = linear_sum_assignment(matrix, maximize=True)  # rows == 0 .. J-1
    ests, si_snr = ests[cols], matrix[rows, cols]  # estimate cols[j] belongs to reference j
    sdr = paired_sdr(refs, ests)
    quality = [stoi(ref, est, rate, extended=False) for ref, est in zip(refs, ests)]
    return {
        "si_snr": float(np.mean(si_snr)),
        "si_snri": float(np.mean(si_snr - baseline["si_snr"])),
        "sdr": float(np.mean(sdr)),
        "sdri": float(np.mean(sdr - baseline["sdr"])),
        "stoi": float(np.mean(quality)),
    }


def mixture_baseline(mixture: np.ndarray, refs: np.ndarray) -> Dict[str, np.ndarray]:
    """SI-SNR and SDR [J] of the mixture used as the estimate of every reference."""
    copies = np.repeat(mixture[None], len(refs), axis=0)
    return {"si_snr": np.diagonal(si_snr_matrix(refs, copies)).copy(), "sdr": paired_sdr(refs, copies)}


def load_audio(utt: str, path: str, what: str):
    """(first channel as float64 [S], rate); a ValueError names ``utt`` on failure."""
    try:
        audio, rate = sf.read(path, dtype="float64", always_2d=True)
    except Exception as error:  # soundfile raises several types for missing or bad files
        raise ValueError(f"{utt}: cannot read {what} {path!r}: {error}") from error
    return audio[:, 0], rate


def _load_group(utt: str, paths: Dict[str, str], max_length_diff: int) -> Dict[str, np.ndarray]:
    """Read ``{name: path}``, check rates and lengths, trim to the shortest; adds "rate"."""
    signals, rates = {}, {}
    for name, path in paths.items():
        signals[name], rates[name] = load_audio(utt, path, name)
    if len(set(rates.values())) > 1:
        raise ValueError(f"{utt}: sample rates differ: {', '.join(f'{k} {v} Hz' for k, v in rates.items())}")
    lengths = {name: len(s) for name, s in signals.items()}
    if max(lengths.values()) - min(lengths.values()) > max_length_diff:
        raise ValueError(f"{utt}: lengths differ by more than {max_length_diff} samples: "
                         + ", ".join(f"{k} {v}" for k, v in lengths.items()))
    shortest = min(lengths.values())
    trimmed = {name: s[:shortest] for name, s in signals.items()}
    trimmed["rate"] = next(iter(rates.values()))
    return trimmed


def score_job(job) -> Dict[Depth, Dict[str, float]]:
    """Score one utterance at every depth: ``job = (utt, mix, [refs], {k: [ests]}, max_diff)``."""
    utt, mix_path, ref_paths, est_paths, max_length_diff = job
    scores, baselines = {}, {}
    for depth, paths in est_paths.items():
        named = {"mixture": mix_path, **{f"reference {j + 1}": p for j, p in enumerate(ref_paths)},
                 **{f"estimate {j + 1} (depth {depth})": p for j, p in enumerate(paths)}}
        group = _load_group(utt, named, max_length_diff)
        arrays = [group[name] for name in named]
        mixture, refs = arrays[0], np.stack(arrays[1:1 + len(ref_paths)])
        ests = np.stack(arrays[1 + len(ref_paths):])
        if len(mixture) not in baselines:
            baselines[len(mixture)] = mixture_baseline(mixture, refs)
        scores[depth] = score_utterance(mixture, refs, ests, group["rate"], baselines[len(mixture)])
    return scores


def read_rtf(decode_dir: Path, depths: List[Depth]) -> Dict[Depth, float]:
    """RTF of every depth from ``timing.json``; NaN (with a warning) where unknown."""
    path = decode_dir / "timing.json"
    if not path.is_file():
        warnings.warn(f"{path} not found: RTF reported as NaN", stacklevel=2)
        return {k: math.nan for k in depths}
    try:
        timing = json.loads(path.read_text(encoding="utf-8"))
        audio_seconds = float(timing["audio_seconds"])
        seconds = {parse_depth(k): float(v) for k, v in timing["seconds"].items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(f"{path}: expected {{'audio_seconds': float, 'seconds': {{'<k>': float}}}}: "
                         f"{error!r}") from error
    if not audio_seconds > 0:
        raise ValueError(f"{path}: audio_seconds must be > 0, got {audio_seconds}")
    unknown = [k for k in depths if k not in seconds]
    if unknown:
        warnings.warn(f"{path} has no seconds for depth(s) {unknown}: RTF reported as NaN", stacklevel=2)
    return {k: seconds[k] / audio_seconds if k in seconds else math.nan for k in depths}


def mean_auto_depth(decode_dir: Path, mixtures: Dict[str, str], mixtures_name: Path) -> float:
    """The average over utterances of ``reps_auto/utt2depth``."""
    path = decode_dir / depth_folder(AUTO) / "utt2depth"
    used = read_scp(path)
    check_same_ids(mixtures, mixtures_name, used, path)
    try:
        return float(np.mean([parse_depth(used[utt]) for utt in mixtures]))
    except ValueError as error:
        raise ValueError(f"{path}: {error}") from error


def _json_value(value: float):
    return None if isinstance(value, float) and math.isnan(value) else value


def score_test_set(data_dir: Union[str, Path], decode_dir: Union[str, Path], nj: int = 1,
                   max_length_diff: int = MAX_LENGTH_DIFF, progress: bool = True) -> Dict:
    """Score every depth of ``decode_dir``, write scores.tsv and summary.json; return the summary."""
    data_dir, decode_dir = Path(data_dir), Path(decode_dir)
    if not data_dir.is_dir():
        raise ValueError(f"data dir not found: {data_dir}")
    depths = find_depths(decode_dir)
    mixtures = read_scp(data_dir / "wav.scp")
    if not mixtures:
        raise ValueError(f"{data_dir / 'wav.scp'} lists no utterance")
    ref_lists = speaker_lists(data_dir)
    if not ref_lists:
        raise ValueError(f"missing scp file: {data_dir / 'spk1.scp'} (no references)")
    references = [read_scp(p) for p in ref_lists]
    for scp, entries in zip(ref_lists, references):
        check_same_ids(mixtures, data_dir / "wav.scp", entries, scp)
    estimates = {}
    for depth in depths:
        folder = decode_dir / depth_folder(depth)
        estimates[depth] = [read_scp(folder / p.name) for p in ref_lists]
        for scp, entries in zip(ref_lists, estimates[depth]):
            check_same_ids(mixtures, data_dir / "wav.scp", entries, folder / scp.name)
    rtf = read_rtf(decode_dir, depths)

    jobs = [(utt, mix, [r[utt] for r in references], {k: [e[utt] for e in estimates[k]] for k in depths},
             max_length_diff) for utt, mix in mixtures.items()]
    bar = dict(total=len(jobs), desc=f"scoring {data_dir.resolve().name}", unit="utt", disable=not progress)
    if nj > 1:
        context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
        with ProcessPoolExecutor(max_workers=nj, mp_context=context) as pool:
            results = list(tqdm(pool.map(score_job, jobs, chunksize=max(1, len(jobs) // (8 * nj))), **bar))
    else:
        results = [score_job(job) for job in tqdm(jobs, **bar)]

    summary = {"test_set": data_dir.resolve().name, "num_utts": len(jobs), "depths": {}}
    for depth in depths:
        rows = [result[depth] for result in results]
        lines = ["\t".join(("utt_id",) + METRICS)]
        lines += ["\t".join([utt] + [f"{row[m]:.4f}" for m in METRICS]) for utt, row in zip(mixtures, rows)]
        write_atomic(decode_dir / depth_folder(depth) / "scores.tsv", "\n".join(lines) + "\n")
        means = {m: float(np.mean([row[m] for row in rows])) for m in METRICS}
        summary["depths"][str(depth)] = {**means, "rtf": rtf[depth]}
    if AUTO in depths:
        summary["depths"][AUTO]["mean_depth"] = mean_auto_depth(decode_dir, mixtures, data_dir / "wav.scp")
    stored = {**summary, "depths": {k: {m: _json_value(v) for m, v in d.items()}
                                    for k, d in summary["depths"].items()}}
    write_atomic(decode_dir / "summary.json", json.dumps(stored, indent=2, allow_nan=False) + "\n")
    return summary
