"""The TISDiSS separator: encode -> separate xN_sep -> split into J -> reconstruct xN_re -> decode.

Vocabulary (used across the package):
    N_sep (``n_sep``): repetitions of the weight-shared separation block.
    N_re (``n_re``): repetitions of the weight-shared reconstruction block
        during training; at inference any depth ``inference_reps`` >= 1 works.
    J (``num_spk``): number of output streams (speakers).
    Shapes: B batch, T frames, F frequency bins, C channels.
"""

from collections import OrderedDict
from numbers import Integral
from typing import Dict, Iterator, List, Optional, Tuple, Union

import torch
from espnet2.enh.separator.abs_separator import AbsSeparator
from torch import nn
from torch.utils.checkpoint import checkpoint

from espnet2_tisdiss.layers.locoformer import TFLocoformerBlock
from espnet2_tisdiss.layers.mixture_residual import MixtureResidual
from espnet2_tisdiss.layers.paths import check_layer_path, set_layer_path
from espnet2_tisdiss.layers.spectrogram_conv import SpectrogramDecoder, SpectrogramEncoder
from espnet2_tisdiss.layers.speaker_splitter import SpeakerSplitter

Streams = List[torch.Tensor]  # J complex tensors [B, T, F]


def _check_count(name: str, value, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


class TISDiSSSeparator(AbsSeparator):
    """TISDiSS: training-time and inference-time scalable discriminative separation.

    A complex spectrogram is embedded by a 3x3 Conv2d + gLN, refined by a
    TF-Locoformer separation block repeated N_sep times with shared weights
    (the encoded mixture is added back before every repetition after the
    first, and before every layer after the first when a block has several),
    split into J speaker streams, refined by a reconstruction block
    (TF-Locoformer plus a self-attention path across speakers) repeated N_re
    times with shared weights, and decoded to J complex spectrograms.

    In training mode the splitter's output and the output after every
    reconstruction repetition are all decoded (N_re + 1 stages) for the
    early-split multi-loss. In eval mode only the output after
    ``inference_reps`` repetitions is decoded; any depth >= 1 works, also
    beyond the trained N_re.

    References:
        Y. Feng et al., "TISDiSS: A Training-Time and Inference-Time Scalable
        Framework for Discriminative Source Separation", arXiv 2509.15666.
        K. Saijo et al., "TF-Locoformer", IWAENC 2024.

    Args (the authors' option name in brackets; see ``espnet2_tisdiss.compat.options``):
        input_dim (int): F, given by ESPnet's task from the encoder; the
            network is convolutional along F and works for any F.
        num_spk (int): J, output streams [num_spk].
        n_sep (int): N_sep, repetitions of the separation block [encoder_repeat_times].
        n_re (int): N_re, repetitions of the reconstruction block in training,
            and the default inference depth [reconstructor_repeat_times].
        sep_layers (int): distinct TF-Locoformer layers inside the separation
            block [encoder_n_layers].
        re_layers (int): distinct layers inside the reconstruction block
            [reconstructor_n_layers].
        emb_dim (int): C, embedding channels [emb_dim].
        attention_dim (int or None): attention channels; None means ``emb_dim``
            [attention_dim].
        n_heads (int): attention heads; must divide ``attention_dim`` [n_heads].
        ffn_hidden_dim (int): hidden channels of every SwiGLU FFN [ffn_hidden_dim].
        ffn_kernel_size (int): FFN Conv1d kernel [conv1d_kernel].
        ffn_stride (int): FFN Conv1d stride [conv1d_shift].
        num_groups (int): RMSGroupNorm groups; must divide ``emb_dim`` [num_groups].
        dropout (float): dropout probability in [0, 1) [dropout].
        eps (float): epsilon of the normalisation layers [eps].
        inference_reps (int or None): reconstruction repetitions in eval mode;
            None means ``n_re``. Also settable as an attribute.
        inference_sep_reps (int or None): separation-block repetitions in eval
            mode (the authors vary ``encoder_repeat_times`` at inference too);
            None means ``n_sep``. Also settable as an attribute.
        activation_checkpointing (bool): in training, keep only the input of
            every block application (each repetition of the separation and
            reconstruction blocks) and recompute its inside during the
            backward (torch.utils.checkpoint, non-reentrant): activation
            memory no longer grows with N_re by a whole block per repetition,
            for about one extra forward of compute. Same gradients.
        layer_path (str): which implementation the layers run
            (``espnet2_tisdiss.layers.paths``): ``"auto"`` (tuned on the CPU,
            plain elsewhere, decided per call by the input's device),
            ``"plain"`` (standard PyTorch modules and autograd) or
            ``"tuned"`` (the CPU-tuned code; CPU only). Same parameters and state_dict
            for all three. Also settable as an attribute.

    Shapes:
        input: complex [B, T, F]; ilens: [B].
        eval output: J complex [B, T, F].
        training output: N_re + 1 stages, each J complex [B, T, F] (splitter
        first, final repetition last).
        Embeddings ([B, C, T, F], streams [B, J, C, T, F]) are stored
        channels-last ([..., T, F, C] in memory), the layout every layer
        works in without transposes.
    """

    def __init__(
        self,
        input_dim: int,
        num_spk: int = 2,
        # repetition structure
        n_sep: int = 2,
        n_re: int = 6,
        sep_layers: int = 1,
        re_layers: int = 1,
        # TF-Locoformer layers
        emb_dim: int = 128,
        attention_dim: Optional[int] = None,
        n_heads: int = 4,
        ffn_hidden_dim: int = 384,
        ffn_kernel_size: int = 4,
        ffn_stride: int = 1,
        num_groups: int = 4,
        dropout: float = 0.0,
        eps: float = 1.0e-5,
        # inference
        inference_reps: Optional[int] = None,
        inference_sep_reps: Optional[int] = None,
        # training memory
        activation_checkpointing: bool = False,
        # implementation
        layer_path: str = "auto",
    ):
        super().__init__()
        self._num_spk = _check_count("num_spk", num_spk)
        self.n_sep = _check_count("n_sep", n_sep)
        self.n_re = _check_count("n_re", n_re)
        _check_count("sep_layers", sep_layers)
        _check_count("re_layers", re_layers)
        emb_dim = _check_count("emb_dim", emb_dim)
        attention_dim = emb_dim if attention_dim is None else attention_dim
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
        self.inference_reps = inference_reps
        self.inference_sep_reps = inference_sep_reps
        if not isinstance(activation_checkpointing, bool):
            raise ValueError(
                f"activation_checkpointing must be true or false, got {activation_checkpointing!r}."
            )
        self.activation_checkpointing = activation_checkpointing

        path_options = dict(
            dim=emb_dim,
            attention_dim=_check_count("attention_dim", attention_dim),
            n_heads=_check_count("n_heads", n_heads),
            ffn_hidden_dim=_check_count("ffn_hidden_dim", ffn_hidden_dim),
            ffn_kernel_size=_check_count("ffn_kernel_size", ffn_kernel_size),
            ffn_stride=_check_count("ffn_stride", ffn_stride),
            num_groups=_check_count("num_groups", num_groups),
            dropout=dropout,
            eps=eps,
        )
        self.encoder = SpectrogramEncoder(emb_dim, eps=eps)
        self.separation_block = nn.ModuleList(
            TFLocoformerBlock(speaker_path=False, **path_options)
            for _ in range(sep_layers)
        )
        self.mixture_residual = MixtureResidual(emb_dim)
        self.splitter = SpeakerSplitter(emb_dim, 2 * emb_dim, num_spk, dropout=dropout)
        self.reconstruction_block = nn.ModuleList(
            TFLocoformerBlock(speaker_path=True, **path_options)
            for _ in range(re_layers)
        )
        self.decoder = SpectrogramDecoder(emb_dim)
        self.layer_path = layer_path

    @property
    def num_spk(self) -> int:
        return self._num_spk

    @property
    def layer_path(self) -> str:
        """The layers' implementation: ``"auto"``, ``"plain"`` or ``"tuned"``."""
        return self._layer_path

    @layer_path.setter
    def layer_path(self, value: str) -> None:
        self._layer_path = check_layer_path(value)
        set_layer_path(self, value)

    @property
    def inference_reps(self) -> int:
        """Reconstruction repetitions used in eval mode (default: ``n_re``)."""
        return self._inference_reps

    @inference_reps.setter
    def inference_reps(self, value: Optional[int]) -> None:
        self._inference_reps = (
            self.n_re if value is None else _check_count("inference_reps", value)
        )

    @property
    def inference_sep_reps(self) -> int:
        """Separation-block repetitions used in eval mode (default: ``n_sep``)."""
        return self._inference_sep_reps

    @inference_sep_reps.setter
    def inference_sep_reps(self, value: Optional[int]) -> None:
        self._inference_sep_reps = (
            self.n_sep if value is None else _check_count("inference_sep_reps", value)
        )

    # -- named steps -------------------------------------------------------
    def encode_and_split(self, spec: torch.Tensor) -> torch.Tensor:
        """Complex [B, T, F] -> J streams [B, J, C, T, F] (before reconstruction).

        The separation block runs ``n_sep`` times in training mode and
        ``inference_sep_reps`` times in eval mode.
        """
        return self.separate_and_split(self.encoder(spec))

    def separate_and_split(self, mixture: torch.Tensor) -> torch.Tensor:
        """The encoded mixture [B, C, T, F] -> J streams [B, J, C, T, F] (separation block, splitter)."""
        x = mixture
        for rep in range(self.n_sep if self.training else self.inference_sep_reps):
            for index, layer in enumerate(self.separation_block):
                if rep > 0 or index > 0:
                    # Note: with several layers per block the authors' code adds the
                    # mixture back before every layer but the first, not only
                    # between repetitions; we follow it so their checkpoints match.
                    x = self.mixture_residual(mixture, x)
                x = self._run_layer(layer, x)  # [B, C, T, F]
        return _channels_last(self.splitter(x))  # [B, J, C, T, F]

    def reconstruct(self, streams: torch.Tensor, n_reps: int) -> Iterator[torch.Tensor]:
        """Yield the streams [B, J, C, T, F] after each of ``n_reps`` repetitions."""
        for _rep in range(n_reps):
            streams = self.reconstruct_once(streams)
            yield streams

    def reconstruct_once(self, streams: torch.Tensor) -> torch.Tensor:
        """One repetition of the reconstruction block: streams [B, J, C, T, F] -> the same shape."""
        for layer in self.reconstruction_block:
            streams = self._run_layer(layer, streams)
        return streams

    def _run_layer(self, layer: nn.Module, x: torch.Tensor) -> torch.Tensor:
        """``layer(x)``, through activation checkpointing when it is on and grads are recorded."""
        if self.activation_checkpointing and self.training and torch.is_grad_enabled():
            return checkpoint(layer, x, use_reentrant=False)
        return layer(x)

    def decode(self, streams: torch.Tensor) -> Streams:
        """Streams [B, J, C, T, F] -> J complex spectrograms [B, T, F]."""
        return list(self.decoder(streams).unbind(1))

    # -- ESPnet separator contract -----------------------------------------
    def forward(
        self,
        input: torch.Tensor,
        ilens: torch.Tensor,
        additional: Optional[Dict] = None,
    ) -> Tuple[Union[Streams, List[Streams]], torch.Tensor, OrderedDict]:
        """Separate a mixture spectrogram.

        Args:
            input: complex mixture STFT [B, T, F].
            ilens: frame counts [B] (returned unchanged; the model is not
                length-masked, as in the authors' code).
            additional: unused, part of ESPnet's contract.

        Returns:
            eval mode: J complex [B, T, F] at depth ``inference_reps``;
            training mode: N_re + 1 lists of J complex [B, T, F];
            ilens [B]; an empty OrderedDict.
        """
        streams = self.encode_and_split(_check_spectrogram(input))
        if self.training:
            stages = [self.decode(streams)]
            stages += [self.decode(s) for s in self.reconstruct(streams, self.n_re)]
            return stages, ilens, OrderedDict()
        for streams in self.reconstruct(streams, self.inference_reps):
            pass
        return self.decode(streams), ilens, OrderedDict()

    def forward_all_depths(
        self, input: torch.Tensor, ilens: torch.Tensor, max_reps: int
    ) -> List[Streams]:
        """Outputs at every depth 1..max_reps from one pass at depth ``max_reps``.

        Returns:
            ``max_reps`` lists, the k-th holding J complex [B, T, F] equal to
            the eval-mode output with ``inference_reps = k``.
        """
        max_reps = _check_count("max_reps", max_reps)
        streams = self.encode_and_split(_check_spectrogram(input))
        return [self.decode(s) for s in self.reconstruct(streams, max_reps)]


def _channels_last(x: torch.Tensor) -> torch.Tensor:
    """The same [..., C, T, F] tensor, stored as [..., T, F, C] (a view of it).

    Note: the TF-Locoformer blocks and the decoder work on channels-last
    memory; the splitter leaves the speaker axis inside ([B, T, F, J, C]), so
    one copy here spares the decoder and the first block a copy each.
    """
    return x.movedim(-3, -1).contiguous().movedim(-1, -3)


def _check_spectrogram(spec) -> torch.Tensor:
    if not torch.is_tensor(spec) or not spec.is_complex() or spec.dim() != 3:
        got = (
            f"{tuple(spec.shape)} {spec.dtype}" if torch.is_tensor(spec) else type(spec).__name__
        )
        raise ValueError(
            "TISDiSSSeparator expects a complex single-channel STFT [B, T, F] "
            f"(ESPnet's stft encoder output), got {got}. For multi-channel audio, "
            "pick one channel before the encoder."
        )
    return spec
