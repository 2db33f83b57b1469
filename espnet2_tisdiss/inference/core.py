"""The separation core: one mixture through a loaded model at several depths in one pass.

Every path that separates calls :func:`separate_depths`: the recipe's decode stage
(``stages/decode.py``), the Python API and ``tisdiss-separate``
(``inference/separator_api.py``), and the depth calibration (``inference/calibration.py``).

For a TISDiSS model the splitter output is computed once and the reconstruction
block is repeated up to the deepest requested depth; the streams after each
requested depth are decoded on the way. The compute time of each depth (as if it
had been run alone: encoding, its repetitions, its decoding) is recorded, so the
real-time factor of every depth comes from the same pass. Depth "auto"
(``adaptive_depth``) follows the same repetitions and stops once the decoded
spectra stop changing. Models without an inference depth (e.g. TF-GridNet) are
run once and reported as depth 1. Every output stream is scaled to its
least-squares fit to the mixture (``espnet2_tisdiss.output_level``); the mixture
is padded by one STFT hop at the end and the outputs trimmed back
(:func:`end_padding`). Silent or constant input gives silence at every depth,
without running the model.
"""

import contextlib
import time
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import torch
from espnet2.layers.stft import Stft

from espnet2_tisdiss import precision
from espnet2_tisdiss.depths import AUTO, Depth
from espnet2_tisdiss.adaptive_depth import AutoDepth, ConvergenceCheck
from espnet2_tisdiss.inference.audio import is_constant
from espnet2_tisdiss.output_level import match_mixture_level


class Timer:
    """Wall-clock seconds of a code block (synchronising CUDA), in ``elapsed``."""

    def __init__(self, device):
        self.device = torch.device(device)
        self.start = self.elapsed = 0.0

    def __enter__(self):
        self._sync()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self._sync()
        self.elapsed = time.perf_counter() - self.start

    def _sync(self):
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)


class DepthOutputs(NamedTuple):
    """What one pass over a mixture gives.

    Attributes:
        waves: {depth: J float32 arrays [S]}; depth is an int or "auto".
        seconds: {depth: compute seconds}, each as if that depth had run alone.
        auto_depth: the depth "auto" stopped at (None when "auto" was not asked).
        changes: the relative changes "auto" measured, ``changes[i]`` between
            depths i + 2 and i + 1 (empty when "auto" was not asked).
    """

    waves: Dict[Depth, List[np.ndarray]]
    seconds: Dict[Depth, float]
    auto_depth: Optional[int]
    changes: List[float] = []


@contextlib.contextmanager
def separation_reps(model, n_sep: Optional[int]):
    """Within the block, ``model`` runs its separation block ``n_sep`` times (None: unchanged).

    Raises:
        ValueError: ``n_sep`` is given for a model without a repeated separation block
            (e.g. TF-GridNet), or is not an integer >= 1.
    """
    if n_sep is None:
        yield model
        return
    separator = model.separator
    if not hasattr(separator, "inference_sep_reps"):
        raise ValueError(f"inference_sep_reps={n_sep}: {type(separator).__name__} has no separation-block "
                         "repetitions to choose (only TISDiSS separators do)")
    before = separator.inference_sep_reps
    separator.inference_sep_reps = n_sep  # checks the value
    try:
        yield model
    finally:
        separator.inference_sep_reps = before


def end_padding(model) -> int:
    """Zeros appended to a mixture before separating it: the longest hop of the model's STFTs.

    Past the last frame's centre, the inverse STFT's window envelope decays to zero, and
    dividing by it turns a model's small errors there into spikes in the last few
    milliseconds: up to 24x the signal's peak in 8 of the 200 streams of the shipped model on
    the mini test set (its SI-SNRi at depth 3 rose from 8.92 to 9.13 dB with the padding), and
    up to 285x in ESPnet's TF-GridNet, whose STFT is inside its separator. One more hop puts
    the last real sample under a full envelope; the outputs are trimmed back. 0 for a model
    without an ESPnet ``Stft`` (time-domain models).
    """
    return max((m.hop_length for m in model.modules() if isinstance(m, Stft)), default=0)


@torch.inference_mode()
def separate_depths(model, mixture: np.ndarray, depths: Sequence[Depth], device="cpu",
                    auto: AutoDepth = AutoDepth(), dtype: str = "float32") -> DepthOutputs:
    """One pass over ``mixture`` [S] at every depth of ``depths`` (integers >= 1 and/or "auto").

    Args:
        model: an ``ESPnetEnhancementModel`` in eval mode on ``device``.
        mixture: one channel [S] at the model's rate.
        depths: integers >= 1 and/or "auto".
        auto: the options of "auto" (``max_reps``, ``threshold``); its time
            includes the decodes it needs to compare repetitions.
        dtype: "float32", "int8" (a model prepared by ``optimize_for_inference``) or
            "bfloat16" (autocast for the blocks; decoding stays float32).
    """
    device = torch.device(device)
    if is_constant(mixture):
        silence = [np.zeros(len(mixture), dtype=np.float32) for _ in range(model.separator.num_spk)]
        return DepthOutputs({depth: silence for depth in depths}, {depth: 0.0 for depth in depths},
                            1 if AUTO in depths else None)
    length = len(mixture)
    padded = np.pad(np.asarray(mixture, dtype=np.float32), (0, end_padding(model)))  # [S + P]
    wave = torch.as_tensor(padded, device=device)[None]  # [1, S + P]
    lengths = torch.tensor([wave.shape[1]], device=device)
    separator = model.separator
    staged = hasattr(separator, "encode_and_split")
    timer = Timer(device)
    with timer:
        scale = wave[:, :length].std() if model.normalize_variance or model.normalize_variance_per_ch else 1.0
        spec, flens = model.encoder(wave / scale, lengths)  # complex [1, T, F]
        with precision.autocast(device, dtype):
            streams = separator.encode_and_split(spec) if staged else None  # [1, J, C, T, F]
    elapsed = timer.elapsed

    def to_waves(specs):  # J complex [1, T, F] -> J arrays [S] at the mixture's level
        return match_mixture_level(
            [model.decoder(s, lengths)[0][0, :length].float().cpu().numpy() for s in specs], mixture)

    def decode(current):  # streams [1, J, C, T, F] -> J complex [1, T, F], in float32
        with precision.full_precision(device):
            return separator.decode(current.float())

    if not staged:
        with timer:
            with precision.autocast(device, dtype):
                specs = separator(spec, flens)[0]
            waves = to_waves(specs)
        return DepthOutputs({1: waves}, {1: elapsed + timer.elapsed}, None)
    outputs, seconds = {}, {}
    fixed = sorted(d for d in depths if d != AUTO)
    check = ConvergenceCheck(auto.threshold) if AUTO in depths else None
    auto_depth, auto_seconds = None, 0.0  # auto_seconds: its decodes and checks so far
    last = max(fixed + ([auto.max_reps] if check else []))
    repetitions = separator.reconstruct(streams, last)
    for depth in range(1, last + 1):
        with timer:
            with precision.autocast(device, dtype):
                current = next(repetitions)
        elapsed += timer.elapsed
        auto_running = check is not None and auto_depth is None
        if depth in fixed or auto_running:
            with timer:
                spectra = decode(current)
            decode_seconds = timer.elapsed
        if depth in fixed:
            with timer:
                outputs[depth] = to_waves(spectra)
            seconds[depth] = elapsed + decode_seconds + timer.elapsed
        if auto_running:
            with timer:
                stable = check.update(spectra)
            auto_seconds += decode_seconds + timer.elapsed
            if stable or depth == auto.max_reps:
                with timer:
                    outputs[AUTO] = to_waves(spectra)
                seconds[AUTO] = elapsed + auto_seconds + timer.elapsed
                auto_depth = depth
        if depth >= max(fixed, default=0) and (check is None or auto_depth is not None):
            break
    return DepthOutputs(outputs, seconds, auto_depth, check.changes if check else [])
