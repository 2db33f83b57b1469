"""Separate with an exported model (``tisdiss-export``) using onnxruntime and numpy only: no torch.

The loop is the separation core's (``espnet2_tisdiss.inference.core``) on the three graphs:
normalise the mixture by its standard deviation (when the model was trained so), STFT,
``encode_split``, ``reconstruct`` once per depth (``auto``: until the decoded spectra change by
less than the threshold, ``espnet2_tisdiss.adaptive_depth``), ``decode``, inverse STFT, each
stream fitted to the mixture's level (``espnet2_tisdiss.output_level``). Silent or constant input
gives silence.

    python -m espnet2_tisdiss.deploy.onnx_runtime --model_dir exported mix.wav --output_dir out \\
        --inference_reps auto

Writes ``<stem>_spk<j>.wav`` per input. The input must be one channel at the model's rate.
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from espnet2_tisdiss.adaptive_depth import AutoDepth, ConvergenceCheck
from espnet2_tisdiss.cli_types import depth_value
from espnet2_tisdiss.depths import AUTO, Depth
from espnet2_tisdiss.deploy.stft import NumpySTFT
from espnet2_tisdiss.output_level import match_mixture_level

DESCRIPTION = "model.json"
FORMAT_VERSION = 1


class OnnxSeparator:
    """An exported model, loaded into onnxruntime sessions.

    Args:
        model_dir: ``tisdiss-export``'s output folder.
        threads: intra-op threads of each session (None: onnxruntime's default).

    Raises:
        ValueError: the folder is not an export of a format this runtime reads.
    """

    def __init__(self, model_dir: Union[str, Path], threads: Optional[int] = None):
        import onnxruntime

        model_dir = Path(model_dir)
        path = model_dir / DESCRIPTION
        if not path.is_file():
            raise ValueError(f"{model_dir} holds no {DESCRIPTION}: export a model with tisdiss-export first")
        self.description = json.loads(path.read_text())
        if self.description.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: format {self.description.get('format')!r}, this runtime reads "
                             f"{FORMAT_VERSION}; export the model again")
        options = onnxruntime.SessionOptions()
        if threads is not None:
            options.intra_op_num_threads = threads
        self.sessions = {name: onnxruntime.InferenceSession(str(model_dir / file), options,
                                                            providers=["CPUExecutionProvider"])
                         for name, file in self.description["graphs"].items()}
        stft = self.description["stft"]
        self.stft = NumpySTFT(stft["n_fft"], stft["hop_length"], stft["win_length"], stft["window"])
        self.fs: int = self.description["fs"]
        self.num_spk: int = self.description["num_spk"]
        self.auto_threshold: float = self.description["auto_threshold"] or AutoDepth.threshold

    def _run(self, name: str, value: np.ndarray) -> np.ndarray:
        session = self.sessions[name]
        return session.run(None, {session.get_inputs()[0].name: value})[0]

    def separate_depths(self, mixture: np.ndarray, depths: Sequence[Depth],
                        auto: Optional[AutoDepth] = None) -> Tuple[Dict[Depth, List[np.ndarray]], Optional[int]]:
        """``({depth: J float32 arrays [S]}, the depth "auto" used or None)`` for one mixture [S]."""
        auto = auto or AutoDepth(threshold=self.auto_threshold)
        length = len(mixture)
        if np.all(mixture == mixture[0]):
            silence = [np.zeros(length, np.float32) for _ in range(self.num_spk)]
            return {depth: silence for depth in depths}, (1 if AUTO in depths else None)
        scale = float(np.std(mixture.astype(np.float64), ddof=1)) if self.description["normalize"] else 1.0  # as torch.std
        padded = np.pad(mixture, (0, self.stft.hop))  # [S + hop]: as the core (``end_padding``)
        spec = self.stft.forward(padded / scale)  # [T, F]
        real_imag = np.stack([spec.real, spec.imag], -1)[None].astype(np.float32)  # [1, T, F, 2]
        streams = self._run("encode_split", real_imag)

        def waves(decoded):  # [1, J, T, F, 2] -> J arrays [S]
            complex_spec = decoded[0, ..., 0].astype(np.float64) + 1j * decoded[0, ..., 1]
            return match_mixture_level([w[:length] for w in self.stft.inverse(complex_spec, len(padded))], mixture)

        fixed = sorted(d for d in depths if d != AUTO)
        check = ConvergenceCheck(auto.threshold) if AUTO in depths else None
        outputs, auto_depth = {}, None
        last = max(fixed + ([auto.max_reps] if check else []))
        for depth in range(1, last + 1):
            streams = self._run("reconstruct", streams)
            if depth in fixed or (check is not None and auto_depth is None):
                decoded = self._run("decode", streams)
            if depth in fixed:
                outputs[depth] = waves(decoded)
            if check is not None and auto_depth is None and (check.update([decoded]) or depth == auto.max_reps):
                outputs[AUTO], auto_depth = waves(decoded), depth
            if depth >= max(fixed, default=0) and (check is None or auto_depth is not None):
                break
        return outputs, auto_depth


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path, help="mixture wav files (one channel, the model's rate)")
    parser.add_argument("--model_dir", type=Path, required=True, help="tisdiss-export's output folder")
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument("--inference_reps", type=depth_value, default=None,
                        help="depth >= 1 or 'auto' (default: the trained N_re)")
    parser.add_argument("--max_reps", type=int, default=8, help="deepest depth 'auto' tries")
    parser.add_argument("--auto_threshold", type=float, default=None,
                        help="default: the threshold calibrated for the model")
    parser.add_argument("--threads", type=int, default=None)
    args = parser.parse_args(argv)
    import soundfile

    try:
        separator = OnnxSeparator(args.model_dir, args.threads)
    except ValueError as err:
        sys.exit(f"error: {err}")
    depth = args.inference_reps or separator.description["n_re"]
    auto = AutoDepth(args.max_reps, args.auto_threshold or separator.auto_threshold)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    failed = 0
    for path in args.inputs:
        try:
            mixture, rate = soundfile.read(str(path), dtype="float32")
            if mixture.ndim != 1 or rate != separator.fs or len(mixture) <= separator.stft.n_fft // 2:
                raise ValueError(f"expected one channel at {separator.fs} Hz, longer than "
                                 f"{separator.stft.n_fft // 2} samples; got shape {mixture.shape} at {rate} Hz")
            if not np.isfinite(mixture).all():
                raise ValueError("the waveform contains NaN or infinite samples")
            outputs, used = separator.separate_depths(mixture, [depth], auto)
        except (ValueError, RuntimeError, OSError) as err:
            print(f"{path}: {err}", file=sys.stderr)
            failed += 1
            continue
        for j, wave in enumerate(outputs[depth], start=1):
            soundfile.write(str(args.output_dir / f"{path.stem}_spk{j}.wav"), wave, rate, subtype="FLOAT")
        print(f"{path}: depth {used if depth == AUTO else depth}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
