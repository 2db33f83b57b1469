"""Register TISDiSS into ESPnet's enhancement task: the only module that touches ClassChoices.

Importing this module adds ``separator: tisdiss`` and ``wrapper: early_split_pit``
to ESPnet's own choices, so stock ESPnet tools (``espnet2.bin.enh_inference``,
``EnhancementTask.build_model_from_file``) build our models once it is
imported. Every entry point of this package imports it.
"""

import argparse

from espnet2.enh.espnet_model import ESPnetEnhancementModel
from espnet2.tasks.enh import EnhancementTask, loss_wrapper_choices, separator_choices

from espnet2_tisdiss.loss import EarlySplitPITSolver
from espnet2_tisdiss.model import EarlySplitEnhancementModel
from espnet2_tisdiss.separator import TISDiSSSeparator

SEPARATOR_NAME = "tisdiss"
LOSS_WRAPPER_NAME = "early_split_pit"

separator_choices.classes[SEPARATOR_NAME] = TISDiSSSeparator
loss_wrapper_choices.classes[LOSS_WRAPPER_NAME] = EarlySplitPITSolver


class TISDiSSEnhancementTask(EnhancementTask):
    """ESPnet's ``EnhancementTask``; the model it builds normalises staged outputs.

    Only ``build_model`` differs: the stock model is rebuilt from the same
    modules as an :class:`EarlySplitEnhancementModel` (identical state_dict),
    so ``normalize_variance: true`` works with the early-split loss.
    """

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetEnhancementModel:
        model = super().build_model(args)
        if type(model) is not ESPnetEnhancementModel:
            return model  # e.g. diffusion models: nothing to change
        return EarlySplitEnhancementModel(
            encoder=model.encoder,
            separator=model.separator,
            decoder=model.decoder,
            loss_wrappers=list(model.loss_wrappers),
            mask_module=model.mask_module,
            **args.model_conf,
        )
