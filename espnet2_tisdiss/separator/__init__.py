from espnet2_tisdiss.separator.inference_optimization import optimize_for_inference
from espnet2_tisdiss.separator.tisdiss_separator import TISDiSSSeparator

__all__ = ["TISDiSSSeparator", "optimize_for_inference"]
