"""ESPnet's enhancement model with variance normalisation that also covers multi-stage outputs."""

from typing import Dict, List, Optional

import torch
from espnet2.enh.espnet_model import ESPnetEnhancementModel


class EarlySplitEnhancementModel(ESPnetEnhancementModel):
    """``ESPnetEnhancementModel`` whose ``normalize_variance`` works with staged outputs.

    With ``normalize_variance: true`` the stock ``forward`` divides the
    mixture by its standard deviation and multiplies each estimated signal by
    it afterwards, which fails when the separator returns a list of stages
    (TISDiSS in training mode). Here the same normalisation is applied inside
    ``forward_enhance`` instead, to every stage, so training matches the
    authors' recipe. Eval mode, inference and all other options are unchanged,
    and the state_dict is the stock model's.
    """

    def forward(self, speech_mix: torch.Tensor, speech_mix_lengths=None, **kwargs):
        if not self.normalize_variance:
            return super().forward(speech_mix, speech_mix_lengths, **kwargs)
        self.normalize_variance = False  # the stock forward must not normalise too
        self._normalize_in_enhance = True
        try:
            return super().forward(speech_mix, speech_mix_lengths, **kwargs)
        finally:
            self.normalize_variance = True
            self._normalize_in_enhance = False

    def forward_enhance(
        self,
        speech_mix: torch.Tensor,
        speech_lengths: torch.Tensor,
        additional: Optional[Dict] = None,
        fs: Optional[int] = None,
    ):
        if not getattr(self, "_normalize_in_enhance", False):
            return super().forward_enhance(speech_mix, speech_lengths, additional, fs=fs)
        dims = (1, 2) if speech_mix.dim() > 2 else 1
        std = speech_mix.std(dim=dims, keepdim=True)  # [B, 1] or [B, 1, 1]
        speech_pre, feature_mix, feature_pre, others = super().forward_enhance(
            speech_mix / std, speech_lengths, additional, fs=fs
        )
        if speech_pre is not None:
            scale = std.squeeze(2) if std.dim() > 2 else std  # [B, 1]
            speech_pre = _rescale(speech_pre, scale)
        return speech_pre, feature_mix, feature_pre, others


def _rescale(signals: List, scale: torch.Tensor) -> List:
    """Multiply every tensor in a (possibly nested) list of [B, S] signals by scale [B, 1]."""
    return [_rescale(s, scale) if isinstance(s, (list, tuple)) else s * scale for s in signals]
