"""Register TISDiSS into ESPnet's enhancement task: the only module that touches ClassChoices.

Importing this module adds ``separator: tisdiss``, ``wrapper: early_split_pit`` and
``preprocessor: dynamic_mixing_crop`` to ESPnet's own choices, so stock ESPnet tools (``espnet2.bin.enh_inference``,
``EnhancementTask.build_model_from_file``) build our models once it is
imported. Every entry point of this package imports it.
"""

import argparse
import math
import os
import re
from typing import Optional, Tuple

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
    Both first check that the training data gives as many references as the separator has
    outputs (ESPnet's model would silently train on the first ``num_spk`` of them).
    ``build_optimizers``: first refuses numbers that YAML read as text (``lr=2e-4``).
    """

    @classmethod
    def build_optimizers(cls, args: argparse.Namespace, model):
        check_numeric_options(args)
        return super().build_optimizers(args, model)

    @classmethod
    def build_preprocess_fn(cls, args: argparse.Namespace, train: bool):
        check_reference_count(args)
        if getattr(args, "preprocessor", None) != PREPROCESSOR_NAME:
            return super().build_preprocess_fn(args, train)
        conf = dict(args.preprocessor_conf)
        source_dir = os.path.dirname(args.train_data_path_and_name_and_type[0][0])
        ref_num = conf.pop("ref_num", separator_output_count(args) or getattr(args, "num_spk", 1))
        return SpeakerDistinctDynamicMixing(
            train=train, source_scp=os.path.join(source_dir, conf.pop("source_scp_name", "spk1.scp")),
            utt2spk=getattr(args, "utt2spk", None), ref_num=ref_num,
            speech_segment=getattr(args, "speech_segment", None), **conf)

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> ESPnetEnhancementModel:
        check_reference_count(args)
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


def yaml_float_spelling(number: float) -> str:
    """``number`` written so that YAML 1.1 reads it back as the same float: "0.0002", "1.0e-05", ".inf"."""
    number = float(number)
    if math.isnan(number):
        return ".nan"
    if math.isinf(number):
        return ".inf" if number > 0 else "-.inf"
    text = repr(number)  # a dot, or e-notation with a signed exponent ("1e-05")
    mantissa, _, exponent = text.partition("e")
    if exponent and "." not in mantissa:
        mantissa += ".0"
    return f"{mantissa}e{exponent}" if exponent else mantissa


def check_numeric_options(args: argparse.Namespace) -> None:
    """No ``optim_conf`` or ``scheduler_conf`` value is a number that YAML read as text.

    YAML 1.1 (ESPnet's config and option reader) takes e-notation as a float only
    with a dot and a signed exponent: ``2e-4`` and ``1.0e4`` are text, and the
    optimizer then fails with a TypeError deep in torch.

    Raises:
        ValueError: naming the option, its value and a spelling that works (``0.0002``).
    """
    for conf_name in ("optim_conf", "scheduler_conf"):
        for key, value in (getattr(args, conf_name, None) or {}).items():
            if not isinstance(value, str):
                continue
            try:
                number = float(value)
            except ValueError:
                continue
            # float() accepts e-notation, inf/infinity and nan; only the first holds an "e"
            why = ("YAML reads e-notation as a number only with a dot and a signed exponent"
                   if "e" in value.lower() else "YAML read it as text")
            raise ValueError(
                f"{conf_name} {key} is the text {value!r}, not a number: {why}; write "
                f"{key}={yaml_float_spelling(number)} (in --{conf_name} or the config)")


def separator_output_option(args: argparse.Namespace) -> Optional[Tuple[str, int]]:
    """The config's separator option that counts its outputs, and its value; None where none does.

    ESPnet's separators name it ``num_spk`` (TISDiSS, TF-Locoformer, ...) or ``n_srcs``
    (TF-GridNet).
    """
    separator_conf = getattr(args, "separator_conf", None) or {}
    for name in ("num_spk", "n_srcs"):
        if name in separator_conf:
            return name, int(separator_conf[name])
    return None


def separator_output_count(args: argparse.Namespace) -> Optional[int]:
    """How many sources the config's separator outputs, or None where its options do not say."""
    option = separator_output_option(args)
    return None if option is None else option[1]


def check_reference_count(args: argparse.Namespace) -> None:
    """The training data's references (``speech_ref<j>``) match the separator's output count.

    Skipped where there is no training data (inference) or it holds single sources
    (dynamic mixing draws as many as the separator outputs).

    Raises:
        ValueError: saying how many references the data has, the config's option
            (``num_spk`` or ``n_srcs``), and what to change.
    """
    data = getattr(args, "train_data_path_and_name_and_type", None) or []
    names = {name for _, name, _ in data}
    option = separator_output_option(args)
    if option is None or getattr(args, "dynamic_mixing", False) or "speech_mix" not in names:
        return
    option_name, outputs = option
    refs = sum(1 for name in names if re.fullmatch(r"speech_ref\d+", name))
    if refs != outputs:
        raise ValueError(
            f"the training data gives {refs} reference(s) per mixture (speech_ref1..{refs}) but the "
            f"config's separator has {option_name} {outputs}: use a config for {refs} speakers (e.g. "
            f"conf/*_3spk.yaml for three) or data with {outputs} references")
