"""The one table between our separator options and the authors' (WingSingFung/TISDiSS).

``OPTION_NAMES`` renames options that exist on both sides. ``REQUIRED_VALUES``
lists the authors' options whose value selects the paper's architecture: any
other value is a model this package does not implement. ``SUPERVISION_FLAGS``
only choose which intermediate outputs the authors' trainer supervised; they do
not change the weights or the inference output, so a checkpoint loads whatever
their values (our early-split loss always uses the paper's stages).
"""

import logging
from typing import Any, Dict

# ours -> authors'
OPTION_NAMES = {
    "num_spk": "num_spk",
    "n_sep": "encoder_repeat_times",
    "n_re": "reconstructor_repeat_times",
    "sep_layers": "encoder_n_layers",
    "re_layers": "reconstructor_n_layers",
    "emb_dim": "emb_dim",
    "attention_dim": "attention_dim",
    "n_heads": "n_heads",
    "ffn_hidden_dim": "ffn_hidden_dim",
    "ffn_kernel_size": "conv1d_kernel",
    "ffn_stride": "conv1d_shift",
    "num_groups": "num_groups",
    "dropout": "dropout",
    "eps": "eps",
}

# The authors' defaults where they differ from ours, used when their config omits an option.
AUTHORS_DEFAULTS = {
    "attention_dim": 128,
    "encoder_repeat_times": 2,
    "reconstructor_repeat_times": 3,
    "repeat_residual_module": False,
    "reconstructor_repeat_residual_module": True,
}

# authors' option -> the only value that is the paper's architecture
REQUIRED_VALUES = {
    "norm_type": "rmsgroupnorm",
    "tf_order": "ft",
    "ffn_type": ["swiglu_conv1d", "swiglu_conv1d"],
    "spk_path_enable": True,
    "repeat_residual_module": True,
    "reconstructor_repeat_residual_module": False,
    "split_compress": False,
    "mask": False,
    "spk_spliter_type": "swiglu_conv_deconv2d",
    "input_type": "stft",
    "band_split": False,
}

SUPERVISION_FLAGS = (
    "encoder_decoder",
    "encoder_multi_decoder",
    "encoder_n_layers_multi_decoder",
    "reconstructor_multi_decoder",
    "reconstructor_n_layers_multi_decoder",
    "spliter_loss",
)

# Options with no effect on an STFT-input, non-band-split model, or on results.
IGNORED = (
    "flash_attention",
    "segment_size",
    "split_type",
    "band_split_encoder_type",
    "band_split_decoder_type",
    "stft_n_fft",
    "stft_hop_length",
    "stft_win_length",
    "stft_normalized",
    "sample_rate",
    "num_bands",
    "stereo",
    "band_split_decoder_depth",
    "mlp_expansion_factor",
    "freqs_per_bands",
)


def options_from_authors(authors_conf: Dict[str, Any]) -> Dict[str, Any]:
    """Translate the authors' ``separator_conf`` into our constructor options.

    Raises:
        ValueError: naming the option, for an unknown option or a value that
            selects an architecture other than the paper's.
    """
    conf = {**AUTHORS_DEFAULTS, **authors_conf}
    authors_to_ours = {theirs: ours for ours, theirs in OPTION_NAMES.items()}
    known = set(authors_to_ours) | set(REQUIRED_VALUES) | set(SUPERVISION_FLAGS) | set(IGNORED)
    unknown = sorted(set(conf) - known)
    if unknown:
        raise ValueError(f"Unknown TISDiSS separator option(s) {unknown}; known: {sorted(known)}.")
    for name, required in REQUIRED_VALUES.items():
        if name in conf and conf[name] != required:
            raise ValueError(
                f"Authors' option {name}={conf[name]!r} selects a variant that is not "
                f"the paper's model; only {name}={required!r} is supported."
            )
    flags = {k: conf[k] for k in SUPERVISION_FLAGS if k in conf}
    if flags:
        logging.info(
            "Ignoring the authors' training-supervision flags %s: they do not change "
            "the weights or inference; our early_split_pit loss supervises the "
            "splitter and every reconstruction repetition.",
            flags,
        )
    ours = {authors_to_ours[k]: v for k, v in conf.items() if k in authors_to_ours}
    hidden = ours.get("ffn_hidden_dim")
    if isinstance(hidden, (list, tuple)):
        if len(hidden) != 2 or hidden[0] != hidden[1]:
            raise ValueError(
                f"Authors' ffn_hidden_dim={hidden!r}: the paper's model uses two equal "
                "Macaron FFN sizes, e.g. [384, 384]."
            )
        ours["ffn_hidden_dim"] = hidden[0]
    return ours
