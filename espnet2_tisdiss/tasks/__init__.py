from espnet2_tisdiss.tasks.enh import TISDiSSEnhancementTask

__all__ = ["TISDiSSEnhancementTask"]
