"""Stage 5: separate a data set at several inference depths in one forward pass.

For a TISDiSS model the splitter output is computed once and the reconstruction
block is repeated up to the deepest requested depth; the streams after each
requested depth are decoded on the way. The compute time of each depth (as if
it had been run alone: encoding, its repetitions, its decoding) is recorded,
so the real-time factor of every depth comes from the same pass. Models without
an inference depth (e.g. TF-GridNet) are decoded once and reported as depth 1.

Depth "auto" (``espnet2_tisdiss.inference.adaptive_depth``) follows the same
repetitions and stops per utterance once the estimate stops changing.

Writes ``<output_dir>/reps<k>/wavs/<j>/<utt>.wav`` (float wav),
``<output_dir>/reps<k>/spk<j>.scp`` and ``<output_dir>/timing.json``
(``{"audio_seconds": .., "seconds": {"<k>": ..}}``); for "auto" the folder is
``reps_auto/``, with ``reps_auto/utt2depth`` ("utt depth" per line: the depth used).
"""

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence

import numpy as np
import soundfile as sf
import torch
import yaml

from espnet2_tisdiss.checkpoint import load_state_dict_file
from espnet2_tisdiss.compat.state_dict import load_strict
from espnet2_tisdiss.depths import AUTO, Depth, depth_folder, depth_order
from espnet2_tisdiss.inference.adaptive_depth import AutoDepth, ConvergenceCheck
from espnet2_tisdiss.stages.kaldi_lists import write_scp
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

INFERENCE_KEYS = ("encoder", "encoder_conf", "separator", "separator_conf", "decoder", "decoder_conf")


def load_model(train_config: Path, model_file: Path, inference_config: Optional[Path] = None,
               device: str = "cpu") -> torch.nn.Module:
    """Build the enhancement model of ``train_config`` and load ``model_file`` strictly."""
    config = yaml.safe_load(Path(train_config).read_text(encoding="utf-8"))
    if inference_config is not None:
        overrides = yaml.safe_load(Path(inference_config).read_text(encoding="utf-8")) or {}
        unknown = sorted(set(overrides) - set(INFERENCE_KEYS))
        if unknown:
            raise ValueError(f"inference config keys {unknown} not allowed; use {list(INFERENCE_KEYS)}")
        for key, value in overrides.items():
            config[key] = {**config.get(key, {}), **value} if isinstance(value, dict) else value
    model = TISDiSSEnhancementTask.build_model(argparse.Namespace(**config))
    load_strict(model, load_state_dict_file(model_file), f"model ({model_file})")
    return model.to(device).eval()


class Timer:
    """Accumulates wall-clock seconds of code blocks (synchronising CUDA)."""

    def __init__(self, device: str):
        self.device = device
        self.start = 0.0

    def __enter__(self):
        self._sync()
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self._sync()
        self.elapsed = time.perf_counter() - self.start

    def _sync(self):
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()


class DepthOutputs(NamedTuple):
    """What one pass over a mixture gives.

    Attributes:
        waves: {depth: J arrays [S]}; depth is an int or "auto".
        seconds: {depth: compute seconds}, each as if that depth had run alone.
        auto_depth: the depth "auto" stopped at (None when "auto" was not asked).
    """

    waves: Dict[Depth, List[np.ndarray]]
    seconds: Dict[Depth, float]
    auto_depth: Optional[int]


@torch.inference_mode()
def separate_depths(model, mixture: np.ndarray, depths: Sequence[Depth], device: str = "cpu",
                    auto: AutoDepth = AutoDepth()) -> DepthOutputs:
    """One pass over ``mixture`` [S] at every depth of ``depths`` (integers >= 1 and/or "auto").

    "auto" follows the same repetitions, decoding the spectra after each one
    until they stop changing (``auto.threshold``) or ``auto.max_reps`` is
    reached (``espnet2_tisdiss.inference.adaptive_depth``); its time includes
    those decodes.
    """
    wave = torch.as_tensor(mixture, dtype=torch.float32, device=device)[None]  # [1, S]
    lengths = torch.tensor([wave.shape[1]], device=device)
    timer = Timer(device)
    with timer:
        scale = wave.std() if model.normalize_variance or model.normalize_variance_per_ch else 1.0
        spec, flens = model.encoder(wave / scale, lengths)  # [1, T, F]
        separator = model.separator
        staged = hasattr(separator, "forward_all_depths")
        streams = separator.encode_and_split(spec) if staged else None
    elapsed = timer.elapsed

    def to_waves(specs):
        return [(model.decoder(s, lengths)[0] * scale)[0].float().cpu().numpy() for s in specs]

    outputs, seconds = {}, {}
    if not staged:
        with timer:
            waves = to_waves(separator(spec, flens)[0])
        return DepthOutputs({1: waves}, {1: elapsed + timer.elapsed}, None)
    fixed = sorted(d for d in depths if d != AUTO)
    check = ConvergenceCheck(auto.threshold) if AUTO in depths else None
    auto_depth, auto_seconds = None, 0.0  # auto_seconds: its decodes and checks so far
    last = max(fixed + ([auto.max_reps] if check else []))
    repetitions = separator.reconstruct(streams, last)
    for depth in range(1, last + 1):
        with timer:
            current = next(repetitions)
        elapsed += timer.elapsed
        auto_running = check is not None and auto_depth is None
        if depth in fixed or auto_running:
            with timer:
                spectra = separator.decode(current)
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
    return DepthOutputs(outputs, seconds, auto_depth)


def write_wav(path: Path, audio: np.ndarray, fs: int) -> None:
    """Write atomically: a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    sf.write(partial, audio, fs, subtype="FLOAT", format="WAV")
    os.replace(partial, path)


def decode_set(model, wavs: Dict[str, str], output_dir: Path, depths: Sequence[Depth],
               fs: Optional[int] = None, device: str = "cpu", progress=None,
               auto: AutoDepth = AutoDepth()) -> Dict:
    """Separate every utterance of ``wavs`` ({utt: path}); returns the timing summary."""
    if output_dir.exists():
        shutil.rmtree(output_dir)  # a decode dir always reflects one decoding run
    lists: Dict[Depth, Dict[int, Dict[str, str]]] = {}
    audio_seconds, seconds, auto_depths = 0.0, {}, {}
    for utt, path in progress(sorted(wavs.items())) if progress else sorted(wavs.items()):
        mixture, rate = sf.read(path, dtype="float32", always_2d=True)
        if mixture.shape[1] != 1:
            raise ValueError(f"{utt}: {path} has {mixture.shape[1]} channels; the model is single-channel.")
        if fs is not None and rate != fs:
            raise ValueError(f"{utt}: {path} is {rate} Hz but the model expects {fs} Hz.")
        result = separate_depths(model, mixture[:, 0], depths, device, auto)
        audio_seconds += mixture.shape[0] / rate
        if result.auto_depth is not None:
            auto_depths[utt] = str(result.auto_depth)
        for depth, waves in result.waves.items():
            seconds[depth] = seconds.get(depth, 0.0) + result.seconds[depth]
            for j, wave in enumerate(waves, start=1):
                target = output_dir / depth_folder(depth) / "wavs" / str(j) / f"{utt}.wav"
                write_wav(target, wave, rate)
                lists.setdefault(depth, {}).setdefault(j, {})[utt] = str(target.resolve())
    for depth, speakers in lists.items():
        for j, entries in speakers.items():
            write_scp(output_dir / depth_folder(depth) / f"spk{j}.scp", entries)
    if auto_depths:
        write_scp(output_dir / depth_folder(AUTO) / "utt2depth", auto_depths)
    ordered = sorted(seconds.items(), key=lambda item: depth_order(item[0]))
    timing = {"audio_seconds": audio_seconds, "seconds": {str(k): v for k, v in ordered}}
    (output_dir / "timing.json").write_text(json.dumps(timing, indent=1))
    return timing
