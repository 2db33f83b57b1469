"""Export a trained TISDiSS model to ONNX: three graphs and a description, for ``onnx_runtime``.

The graphs hold no complex numbers and no STFT (the runtime does those in numpy):

    encode_split.onnx   real_imag [1, T, F, 2] (the normalised mixture's STFT) -> streams [1, J, C, T, F]
                        (encoder, the separation block N_sep times, the splitter)
    reconstruct.onnx    streams -> streams: one repetition of the reconstruction block
    decode.onnx         streams -> real_imag [1, J, T, F, 2]

so that any depth, also ``auto``, is a loop over ``reconstruct.onnx``. ``model.json`` holds
the rest: sample rate, STFT settings, J, N_sep (baked into the first graph), N_re, the
calibrated ``auto`` threshold and whether the mixture is normalised by its standard
deviation. The graphs are exported from the plain layer path (standard PyTorch modules,
``scaled_dot_product_attention``) with ``torch.onnx.export(dynamo=True)``; T is dynamic.
Needs ``pip install .[onnx]``.
"""

import copy
import json
from pathlib import Path
from typing import Optional, Union

import torch
from espnet2.enh.decoder.stft_decoder import STFTDecoder
from espnet2.enh.encoder.stft_encoder import STFTEncoder
from torch import nn

from espnet2_tisdiss.deploy.onnx_runtime import DESCRIPTION, FORMAT_VERSION
from espnet2_tisdiss.fileio.atomic_io import atomic_dir
from espnet2_tisdiss.inference.model_loading import LoadedModel
from espnet2_tisdiss.separator import TISDiSSSeparator

GRAPHS = {"encode_split": "encode_split.onnx", "reconstruct": "reconstruct.onnx", "decode": "decode.onnx"}
OPSET = 18


class EncodeSplit(nn.Module):
    """real_imag [B, T, F, 2] -> streams [B, J, C, T, F]."""

    def __init__(self, separator: TISDiSSSeparator):
        super().__init__()
        self.separator = separator

    def forward(self, real_imag: torch.Tensor) -> torch.Tensor:
        return self.separator.separate_and_split(self.separator.encoder.embed(real_imag))


class Reconstruct(nn.Module):
    """streams [B, J, C, T, F] -> streams after one more repetition."""

    def __init__(self, separator: TISDiSSSeparator):
        super().__init__()
        self.separator = separator

    def forward(self, streams: torch.Tensor) -> torch.Tensor:
        return self.separator.reconstruct_once(streams)


class Decode(nn.Module):
    """streams [B, J, C, T, F] -> real_imag [B, J, T, F, 2]."""

    def __init__(self, separator: TISDiSSSeparator):
        super().__init__()
        self.separator = separator

    def forward(self, streams: torch.Tensor) -> torch.Tensor:
        return self.separator.decoder.real_imag(streams)


def stft_settings(model) -> dict:
    """The STFT of ``model`` as the numpy runtime takes it; ValueError for what it cannot do."""
    encoder, decoder = model.encoder, model.decoder
    if not isinstance(encoder, STFTEncoder) or not isinstance(decoder, STFTDecoder):
        raise ValueError(f"only models with ESPnet's stft encoder and decoder export, got "
                         f"{type(encoder).__name__} / {type(decoder).__name__}")
    stft = encoder.stft
    if not (stft.center and stft.onesided and not stft.normalized) \
            or getattr(encoder, "spec_transform_type", None) is not None:
        raise ValueError("the ONNX runtime's STFT supports center=True, onesided=True, normalized=False "
                         "and no spec_transform")
    settings = {"n_fft": stft.n_fft, "hop_length": stft.hop_length, "win_length": stft.win_length,
                "window": stft.window}
    inverse = decoder.stft
    if (inverse.n_fft, inverse.hop_length, inverse.win_length, inverse.window) != tuple(settings.values()):
        raise ValueError("the decoder's STFT differs from the encoder's")
    return settings


def export_onnx(loaded: LoadedModel, output_dir: Union[str, Path],
                inference_sep_reps: Optional[int] = None) -> Path:
    """Write the three graphs and ``model.json`` of ``loaded`` into ``output_dir`` (replaced whole).

    Args:
        loaded: a loaded TISDiSS model (``load_pretrained`` / ``load_from_files``).
        inference_sep_reps: separation-block repetitions baked into ``encode_split.onnx``
            (default: the trained N_sep).

    Raises:
        ValueError: not a TISDiSS model, or an STFT the runtime cannot reproduce.
    """
    model = copy.deepcopy(loaded.model).float().eval()
    separator = model.separator
    if not isinstance(separator, TISDiSSSeparator):
        raise ValueError(f"only TISDiSS models export to ONNX, got {type(separator).__name__}")
    stft = stft_settings(model)
    if inference_sep_reps is not None:
        separator.inference_sep_reps = inference_sep_reps
    description = {
        "format": FORMAT_VERSION, "source": str(loaded.source), "fs": loaded.fs, "stft": stft,
        "num_spk": separator.num_spk, "n_sep": separator.n_sep, "inference_sep_reps": separator.inference_sep_reps,
        "n_re": separator.n_re, "auto_threshold": loaded.auto_threshold,
        "normalize": bool(model.normalize_variance or model.normalize_variance_per_ch),
        "graphs": GRAPHS,
    }
    with atomic_dir(output_dir) as work:
        export_graphs(separator, stft["n_fft"] // 2 + 1, work)
        (work / DESCRIPTION).write_text(json.dumps(description, indent=1))
    return Path(output_dir)


def export_graphs(separator: TISDiSSSeparator, n_freq: int, folder: Path) -> None:
    """The three graphs (``GRAPHS``) of ``separator`` (changed to the plain layer path, eval) for
    spectrograms of ``n_freq`` bins, into ``folder``."""
    separator.layer_path = "plain"
    separator.eval()
    frames = torch.export.Dim("frames", min=2, max=1 << 20)
    example = torch.randn(1, 16, n_freq, 2)
    with torch.no_grad():
        streams = EncodeSplit(separator)(example)
    graphs = {
        "encode_split": (EncodeSplit(separator), example, "real_imag", "streams", {1: frames}),
        "reconstruct": (Reconstruct(separator), streams, "streams", "streams_next", {3: frames}),
        "decode": (Decode(separator), streams, "streams", "real_imag", {3: frames}),
    }
    for name, (module, inputs, input_name, output_name, dynamic) in graphs.items():
        with torch.no_grad():
            torch.onnx.export(module.eval(), (inputs,), str(folder / GRAPHS[name]), input_names=[input_name],
                              output_names=[output_name], dynamic_shapes=(dynamic,), dynamo=True,
                              opset_version=OPSET, verbose=False)
