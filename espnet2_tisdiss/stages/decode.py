"""Stage 5: separate a data set at several inference depths in one forward pass.

For a TISDiSS model the splitter output is computed once and the reconstruction
block is repeated up to the deepest requested depth; the streams after each
requested depth are decoded on the way. The compute time of each depth (as if
it had been run alone: encoding, its repetitions, its decoding) is recorded,
so the real-time factor of every depth comes from the same pass. Models without
an inference depth (e.g. TF-GridNet) are decoded once and reported as depth 1.

Writes ``<output_dir>/reps<k>/wavs/<j>/<utt>.wav`` (float wav),
``<output_dir>/reps<k>/spk<j>.scp`` and ``<output_dir>/timing.json``
(``{"audio_seconds": .., "seconds": {"<k>": ..}}``).
"""

import argparse
import json
import os
import shutil
import time
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import soundfile as sf
import torch
import yaml

from espnet2_tisdiss.checkpoint import load_state_dict_file
from espnet2_tisdiss.compat.state_dict import load_strict
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


@torch.inference_mode()
def separate_depths(model, mixture: np.ndarray, depths: List[int], device: str = "cpu"):
    """One pass over ``mixture`` [S] -> ({depth: J arrays [S]}, {depth: seconds})."""
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
        return {1: waves}, {1: elapsed + timer.elapsed}
    wanted = set(depths)
    repetitions = separator.reconstruct(streams, max(depths))
    for depth in range(1, max(depths) + 1):
        with timer:
            current = next(repetitions)
        elapsed += timer.elapsed
        if depth in wanted:
            with timer:
                outputs[depth] = to_waves(separator.decode(current))
            seconds[depth] = elapsed + timer.elapsed
    return outputs, seconds


def write_wav(path: Path, audio: np.ndarray, fs: int) -> None:
    """Write atomically: a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    sf.write(partial, audio, fs, subtype="FLOAT", format="WAV")
    os.replace(partial, path)


def decode_set(model, wavs: Dict[str, str], output_dir: Path, depths: List[int],
               fs: Optional[int] = None, device: str = "cpu", progress=None) -> Dict:
    """Separate every utterance of ``wavs`` ({utt: path}); returns the timing summary."""
    if output_dir.exists():
        shutil.rmtree(output_dir)  # a decode dir always reflects one decoding run
    lists: Dict[int, Dict[int, Dict[str, str]]] = {}
    audio_seconds, seconds = 0.0, {}
    for utt, path in progress(sorted(wavs.items())) if progress else sorted(wavs.items()):
        mixture, rate = sf.read(path, dtype="float32", always_2d=True)
        if mixture.shape[1] != 1:
            raise ValueError(f"{utt}: {path} has {mixture.shape[1]} channels; the model is single-channel.")
        if fs is not None and rate != fs:
            raise ValueError(f"{utt}: {path} is {rate} Hz but the model expects {fs} Hz.")
        outputs, times = separate_depths(model, mixture[:, 0], depths, device)
        audio_seconds += mixture.shape[0] / rate
        for depth, waves in outputs.items():
            seconds[depth] = seconds.get(depth, 0.0) + times[depth]
            for j, wave in enumerate(waves, start=1):
                target = output_dir / f"reps{depth}" / "wavs" / str(j) / f"{utt}.wav"
                write_wav(target, wave, rate)
                lists.setdefault(depth, {}).setdefault(j, {})[utt] = str(target.resolve())
    for depth, speakers in lists.items():
        for j, entries in speakers.items():
            write_scp(output_dir / f"reps{depth}" / f"spk{j}.scp", entries)
    timing = {"audio_seconds": audio_seconds, "seconds": {str(k): v for k, v in sorted(seconds.items())}}
    (output_dir / "timing.json").write_text(json.dumps(timing, indent=1))
    return timing
