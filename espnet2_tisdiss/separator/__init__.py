from espnet2_tisdiss.separator.tisdiss_separator import TISDiSSSeparator

__all__ = ["TISDiSSSeparator"]
