from espnet2_tisdiss.loss.early_split_pit import EarlySplitPITSolver

__all__ = ["EarlySplitPITSolver"]
