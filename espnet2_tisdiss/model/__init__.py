from espnet2_tisdiss.model.early_split_model import EarlySplitEnhancementModel

__all__ = ["EarlySplitEnhancementModel"]
