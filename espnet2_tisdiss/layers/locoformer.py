"""TF-Locoformer layers: one path along an axis, and the block of TF(+speaker) paths."""

import torch
from torch import nn

from espnet2_tisdiss.layers.rms_group_norm import RMSGroupNorm
from espnet2_tisdiss.layers.rope_attention import RoPESelfAttention
from espnet2_tisdiss.layers.swiglu_ffn import SwiGLUConvDeconv1d


class LocoformerPath(nn.Module):
    """One Locoformer path: [SwiGLU FFN] -> RoPE self-attention -> SwiGLU FFN.

    Each sub-layer is pre-normalised with RMSGroupNorm and has a residual
    connection. With ``macaron=True`` a second FFN runs before the attention.

    Note: the TF-Locoformer paper halves the Macaron FFN outputs; its code and
    the TISDiSS code add them in full, so we do too (checkpoints stay valid).

    References:
        K. Saijo et al., "TF-Locoformer", IWAENC 2024; Feng et al., "TISDiSS",
        arXiv 2509.15666 (Fig. 2).

    Args:
        dim (int): channels C.
        attention_dim (int): attention channels A (heads x head size).
        n_heads (int): attention heads.
        ffn_hidden_dim (int): hidden channels of each SwiGLU FFN.
        ffn_kernel_size (int): Conv1d kernel of the FFN along the path's axis.
        ffn_stride (int): Conv1d stride of the FFN.
        num_groups (int): RMSGroupNorm groups.
        dropout (float): dropout probability.
        eps (float): RMSGroupNorm epsilon.
        macaron (bool): add the FFN before the attention (frequency and time
            paths: True; speaker path: False).

    Shapes:
        input: [..., L, ..., C] (the path runs along L = dim ``axis``, default
        -2; all other dims but C are batch dims); output: same shape.
    """

    def __init__(
        self,
        dim: int,
        attention_dim: int,
        n_heads: int,
        ffn_hidden_dim: int,
        ffn_kernel_size: int,
        ffn_stride: int,
        num_groups: int,
        dropout: float,
        eps: float,
        macaron: bool,
    ):
        super().__init__()

        def ffn() -> SwiGLUConvDeconv1d:
            return SwiGLUConvDeconv1d(
                dim, ffn_hidden_dim, ffn_kernel_size, ffn_stride, dropout=dropout
            )

        if macaron:
            self.pre_ffn_norm = RMSGroupNorm(num_groups, dim, eps=eps)
            self.pre_ffn = ffn()
        self.macaron = macaron
        self.attn_norm = RMSGroupNorm(num_groups, dim, eps=eps)
        self.attn = RoPESelfAttention(dim, attention_dim, n_heads, dropout=dropout)
        self.post_ffn_norm = RMSGroupNorm(num_groups, dim, eps=eps)
        self.post_ffn = ffn()

    def forward(self, x: torch.Tensor, axis: int = -2) -> torch.Tensor:
        if self.macaron:
            x = x + self.pre_ffn(self.pre_ffn_norm(x), axis)
        x = x + self.attn(self.attn_norm(x), axis)
        return x + self.post_ffn(self.post_ffn_norm(x), axis)


class TFLocoformerBlock(nn.Module):
    """A frequency path, then a time path, then (optionally) a speaker path.

    Without the speaker path this is the TISDiSS separation block (one
    TF-Locoformer layer); with it, the reconstruction block, whose extra path
    attends across the J speaker streams at every TF bin.

    References:
        Feng et al., "TISDiSS", arXiv 2509.15666 (Sec. 2, Fig. 2).

    Args:
        speaker_path (bool): add the self-attention path across speakers
            (a non-Macaron Locoformer path).
        **path_options: the arguments of :class:`LocoformerPath` except ``macaron``.

    Shapes:
        without speaker path: [B, C, T, F] -> [B, C, T, F]
        with speaker path: [B, J, C, T, F] -> [B, J, C, T, F]
        The output is a view of a channels-last tensor ([..., T, F, C] in
        memory); such an input is used without a copy.
    """

    def __init__(self, speaker_path: bool, **path_options):
        super().__init__()
        self.freq_path = LocoformerPath(macaron=True, **path_options)
        self.time_path = LocoformerPath(macaron=True, **path_options)
        self.speaker_path = (
            LocoformerPath(macaron=False, **path_options) if speaker_path else None
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Note: every path works along its own axis of the same channels-last
        # tensor, so no transposes or copies happen between the paths.
        x = x.movedim(-3, -1).contiguous()  # [..., T, F, C]
        x = self.freq_path(x, axis=-2)  # along F
        x = self.time_path(x, axis=-3)  # along T
        if self.speaker_path is not None:
            x = self.speaker_path(x, axis=-4)  # along J
        return x.movedim(-1, -3)  # [..., C, T, F]
