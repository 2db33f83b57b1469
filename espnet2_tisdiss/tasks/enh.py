"""Register TISDiSS into ESPnet's enhancement task: the only module that touches ClassChoices.

Importing this module adds ``separator: tisdiss``, ``wrapper: early_split_pit`` and
``preprocessor: dynamic_mixing_crop`` to ESPnet's own choices, so stock ESPnet tools (``espnet2.bin.enh_inference``,
``EnhancementTask.build_model_from_file``) build our models once it is
imported. Every entry point of this package imports it.
"""

import argparse
import os

from espnet2.enh.espnet_model import ESPnetEnhancementModel
from espnet2.tasks.enh import EnhancementTask, loss_wrapper_choices, preprocessor_choices, separator_choices

from espnet2_tisdiss.loss import EarlySplitPITSolver
from espnet2_tisdiss.model import EarlySplitEnhancementModel
from espnet2_tisdiss.preprocessing import PREPROCESSOR_NAME, SpeakerDistinctDynamicMixing
from espnet2_tisdiss.separator import TISDiSSSeparator

SEPARATOR_NAME = "tisdiss"
LOSS_WRAPPER_NAME = "early_split_pit"

separator_choices.classes[SEPARATOR_NAME] = TISDiSSSeparator
loss_wrapper_choices.classes[LOSS_WRAPPER_NAME] = EarlySplitPITSolver
preprocessor_choices.classes[PREPROCESSOR_NAME] = SpeakerDistinctDynamicMixing


class TISDiSSEnhancementTask(EnhancementTask):
    """ESPnet's ``EnhancementTask``; the model it builds normalises staged outputs.

    ``build_model``: the stock model is rebuilt from the same modules as an
    :class:`EarlySplitEnhancementModel` (identical state_dict), so
    ``normalize_variance: true`` works with the early-split loss.
    ``build_preprocess_fn``: also builds ``preprocessor: dynamic_mixing_crop``, from
    the same options as ESPnet's ``dynamic_mixing`` plus ``speech_segment``.
    """

    @classmethod
    def build_preprocess_fn(cls, args: argparse.Namespace, train: bool):
        if getattr(args, "preprocessor", None) != PREPROCESSOR_NAME:
            return super().build_preprocess_fn(args, train)
        conf = dict(args.preprocessor_conf)
        source_dir = os.path.dirname(args.train_data_path_and_name_and_type[0][0])
        return SpeakerDistinctDynamicMixing(
            train=train, source_scp=os.path.join(source_dir, conf.pop("source_scp_name", "spk1.scp")),
            utt2spk=getattr(args, "utt2spk", None), ref_num=conf.pop("ref_num", args.separator_conf["num_spk"]),
            speech_segment=getattr(args, "speech_segment", None), **conf)

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
