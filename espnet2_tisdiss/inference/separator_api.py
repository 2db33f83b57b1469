"""Separate any waveform with a trained TISDiSS model, at a fixed or an adaptive depth.

Example:
    >>> from espnet2_tisdiss.inference import Separator
    >>> sep = Separator.from_pretrained("exp/tisdiss/packed_model.tar.gz")
    >>> spk1, spk2 = sep(mixture, fs=16000, inference_reps=3)  # each [S] at 16 kHz
    >>> result = sep.separate(mixture, fs=16000, inference_reps="auto")
    >>> result.depths                                          # depth used per chunk

The input is resampled to the model's rate and the outputs back to the input's,
trimmed or padded to the input's length. Each output is at the level its
speaker has in the mixture: the model's stream times its least-squares gain onto
the mixture (``espnet2_tisdiss.output_level``; a model trained with SI-SNR
outputs any level it likes).

Shapes: S samples, J streams (speakers).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Union

import numpy as np
import torch

from espnet2_tisdiss import precision
from espnet2_tisdiss.depths import AUTO, Depth
from espnet2_tisdiss.adaptive_depth import AutoDepth
from espnet2_tisdiss.inference.audio import fit_length, resample
from espnet2_tisdiss.inference.chunking import separate_in_chunks
from espnet2_tisdiss.inference.core import separate_depths, separation_reps
from espnet2_tisdiss.inference.errors import AudioError, ModelLoadError, SeparationMemoryError
from espnet2_tisdiss.inference.memory import first_line, is_out_of_memory, release_cached_memory, smaller_chunk
from espnet2_tisdiss.inference.model_loading import LoadedModel, load_from_files, load_pretrained
from espnet2_tisdiss.separator import TISDiSSSeparator, optimize_for_inference


@dataclass
class SeparationResult:
    """J separated signals and the depth used.

    Attributes:
        sources: J float32 arrays [S] at the input's rate and length.
        depths: the reconstruction depth used for each chunk (one entry when
            the input fits in one chunk).
    """

    sources: List[np.ndarray]
    depths: List[int]


class Separator:
    """A TISDiSS model ready to separate waveforms (see the module docstring).

    Args:
        loaded: the model and its sample rate (``model_loading``).
        device: "cpu", "cuda" or "cuda:<i>".
        dtype: "float32", "bfloat16" or "int8" (``espnet2_tisdiss.precision``); None
            picks bfloat16 where the device runs it natively, else float32.
    """

    def __init__(self, loaded: LoadedModel, device: str = "cpu", dtype: Optional[str] = None):
        if loaded.fs is None:
            raise ModelLoadError(
                f"the sample rate of {loaded.source} is not recorded; give it (fs=8000, or "
                "--model_fs 8000 on the command line)."
            )
        self.device = precision.check_device(device)
        self.dtype = precision.resolve_dtype(self.device, dtype)
        if not isinstance(loaded.model.separator, TISDiSSSeparator):
            raise ModelLoadError(
                f"{loaded.source} is a {type(loaded.model.separator).__name__} model, not TISDiSS; separate it "
                "with the recipe's decode stage (./run.sh --stage 5) or ESPnet's enh_inference.")
        self.model = loaded.model.to(self.device).eval()
        if self.dtype == "int8":
            optimize_for_inference(self.model.separator, "int8")
        self.fs = int(loaded.fs)
        self.source = loaded.source
        # Depth "auto"'s default: calibrated for the model where its files record it.
        self.auto_threshold = loaded.auto_threshold or AutoDepth.threshold
        self.normalize = bool(self.model.normalize_variance or self.model.normalize_variance_per_ch)
        self.min_samples = int(self.model.encoder.stft.n_fft)

    @classmethod
    def from_pretrained(cls, path_or_tag: Union[str, Path], fs: Optional[int] = None, device: str = "cpu",
                        dtype: Optional[str] = None, local_files_only: Optional[bool] = None) -> "Separator":
        """Load a packed ``.tar.gz``, a model folder or a Hub tag ``user/name[@rev]``.

        ``fs`` gives the model's sample rate where the source does not record it.
        """
        return cls(load_pretrained(path_or_tag, fs, local_files_only), device, dtype)

    @classmethod
    def from_files(cls, train_config: Union[str, Path], model_file: Union[str, Path], fs: Optional[int] = None,
                   device: str = "cpu", dtype: Optional[str] = None) -> "Separator":
        """Load a training config and weights: ours, or the authors' config.yaml and .pth."""
        return cls(load_from_files(train_config, model_file, fs), device, dtype)

    @property
    def num_spk(self) -> int:
        """J, the number of separated streams."""
        return self.model.separator.num_spk

    def __call__(self, wave, fs: int, inference_reps: Optional[Depth] = None, **options) -> List[np.ndarray]:
        """The J separated signals [S] of ``wave``; options as in :meth:`separate`."""
        return self.separate(wave, fs, inference_reps, **options).sources

    def separate(self, wave, fs: int, inference_reps: Optional[Depth] = None, max_reps: int = 8,
                 auto_threshold: Optional[float] = None, chunk_seconds: Optional[float] = 30.0,
                 overlap_seconds: float = 2.0, inference_sep_reps: Optional[int] = None) -> SeparationResult:
        """Separate one mixture.

        Args:
            wave: the mixture, numpy array or tensor [S] (one channel).
            fs: its sample rate in Hz.
            inference_reps: reconstruction depth (int >= 1), ``"auto"`` to stop
                once the estimate changes by less than ``auto_threshold``
                (relative) between repetitions, at most ``max_reps``; None: the
                model's trained N_re.
            auto_threshold: None: the threshold calibrated for the model (see
                ``self.auto_threshold``).
            chunk_seconds: longer inputs are separated in chunks of this length
                (None: the whole input at once; memory then grows with S).
            overlap_seconds: overlap of consecutive chunks, cross-faded.
            inference_sep_reps: repetitions of the separation block (int >= 1);
                None: the model's trained N_sep.

        Raises:
            AudioError: not one channel, not finite, or shorter than one STFT window.
            SeparationMemoryError: out of memory (it names a smaller ``chunk_seconds``).
            ValueError: a bad option.
        """
        depth = self._check_depth(inference_reps, max_reps, auto_threshold)
        audio = torch.as_tensor(wave).detach().cpu().numpy().astype(np.float32, copy=False)
        if audio.ndim != 1:
            raise AudioError(f"expected one channel [S], got shape {tuple(audio.shape)}; pick a channel first.")
        if not np.isfinite(audio).all():
            raise AudioError("the waveform contains NaN or infinite samples")
        if fs is None or int(fs) != fs or fs <= 0:
            raise ValueError(f"fs must be a positive integer sample rate in Hz, got {fs!r}.")
        fs = int(fs)
        at_model_rate = resample(audio, fs, self.fs)  # [S']
        if len(at_model_rate) < self.min_samples:
            raise AudioError(
                f"too short: {len(audio) / fs:.4f} s; the model needs at least "
                f"{self.min_samples / self.fs:.4f} s (one {self.min_samples}-sample STFT window at {self.fs} Hz)"
            )
        bounds = None if chunk_seconds is None else self._chunk_samples(chunk_seconds, overlap_seconds)
        try:
            with separation_reps(self.model, inference_sep_reps):
                if bounds is None:
                    streams, used = self._separate_segment(at_model_rate, depth)  # [J, S']
                    depths = [used]
                else:
                    streams, depths = separate_in_chunks(lambda x: self._separate_segment(x, depth),
                                                         at_model_rate, *bounds)
        except (RuntimeError, MemoryError) as err:
            if not is_out_of_memory(err):
                raise
            release_cached_memory(self.device)
            raise self._memory_error(len(audio) / fs, chunk_seconds, err) from err
        sources = fit_length(resample(np.ascontiguousarray(streams.T), self.fs, fs), len(audio))  # [S, J]
        return SeparationResult([np.ascontiguousarray(s) for s in sources.T], depths)

    # -- steps ---------------------------------------------------------------
    def _check_depth(self, inference_reps, max_reps, auto_threshold) -> Union[int, AutoDepth]:
        if inference_reps is None:
            return self.model.separator.n_re
        if inference_reps == AUTO:
            return AutoDepth(max_reps, self.auto_threshold if auto_threshold is None else auto_threshold)
        if isinstance(inference_reps, bool) or not isinstance(inference_reps, (int, np.integer)) \
                or inference_reps < 1:
            raise ValueError(f"inference_reps must be an integer >= 1 or 'auto', got {inference_reps!r}.")
        return int(inference_reps)

    def _memory_error(self, seconds: float, chunk_seconds: Optional[float],
                      err: BaseException) -> SeparationMemoryError:
        """The out-of-memory error of a ``seconds`` long input, suggesting a smaller chunk."""
        suggested = smaller_chunk(chunk_seconds)
        how = "whole (chunk_seconds=None)" if chunk_seconds is None else f"in chunks of {chunk_seconds:g} s"
        return SeparationMemoryError(
            f"out of memory on {self.device} separating {seconds:.1f} s of audio {how} ({first_line(err)}); "
            f"separate it in smaller chunks, e.g. chunk_seconds={suggested:g} "
            f"(--chunk_seconds {suggested:g} on the command line)",
            seconds, chunk_seconds, suggested)

    def _chunk_samples(self, chunk_seconds: float, overlap_seconds: float):
        """(chunk, overlap) in samples at the model's rate."""
        chunk, overlap = round(chunk_seconds * self.fs), round(overlap_seconds * self.fs)
        if chunk < self.min_samples:
            raise ValueError(f"chunk_seconds={chunk_seconds} is shorter than one STFT window "
                             f"({self.min_samples / self.fs} s).")
        if not 0 < overlap < chunk:
            raise ValueError(f"overlap_seconds={overlap_seconds} must be > 0 and below "
                             f"chunk_seconds={chunk_seconds}.")
        return chunk, overlap

    def _separate_segment(self, segment: np.ndarray, depth: Union[int, AutoDepth]):
        """One chunk [L] at the model's rate -> (J streams [J, L], depth used)."""
        if isinstance(depth, AutoDepth):
            result = separate_depths(self.model, segment, [AUTO], self.device, depth, self.dtype)
            return np.stack(result.waves[AUTO]), result.auto_depth
        result = separate_depths(self.model, segment, [depth], self.device, dtype=self.dtype)
        return np.stack(result.waves[depth]), depth
