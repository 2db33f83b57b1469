"""Separate any audio with a trained TISDiSS model (Python API behind ``tisdiss-separate``)."""

from espnet2_tisdiss.depths import AUTO
from espnet2_tisdiss.adaptive_depth import AutoDepth
from espnet2_tisdiss.inference.errors import AudioError, ModelLoadError, SeparationMemoryError
from espnet2_tisdiss.inference.separator_api import SeparationResult, Separator

__all__ = ["AUTO", "AudioError", "AutoDepth", "ModelLoadError", "SeparationMemoryError", "SeparationResult",
           "Separator"]
