"""Rename the authors' separator state_dict keys to ours and load them strictly."""

import re
from typing import Dict, Mapping

import torch

# (authors' pattern, our replacement), applied in order to every key.
KEY_RULES = (
    (r"^conv\.0\.", "encoder.conv."),
    (r"^conv\.1\.", "encoder.norm."),
    (r"^encoder_blocks\.", "separation_block."),
    (r"^reconstructor_blocks\.", "reconstruction_block."),
    (r"^spk_spliter\.conv2d\.", "splitter.conv."),
    (r"^spk_spliter\.deconv2d\.", "splitter.deconv."),
    (r"^reconstructor_deconv\.", "decoder.deconv."),
    (r"^concat_block\.0\.", "mixture_residual.conv."),
    (r"^concat_block\.1\.", "mixture_residual.act."),
    (r"\.frame_path\.", ".time_path."),
    (r"\.spk_path\.", ".speaker_path."),
    # The authors build FFNs in reverse order: ffn.0 runs after attention, ffn.1 before.
    (r"\.ffn_norm\.0\.", ".post_ffn_norm."),
    (r"\.ffn_norm\.1\.", ".pre_ffn_norm."),
    (r"\.ffn\.0\.", ".post_ffn."),
    (r"\.ffn\.1\.", ".pre_ffn."),
    (r"\.conv1d\.", ".conv."),
    (r"\.deconv1d\.", ".deconv."),
    (r"\.gamma$", ".weight"),
    (r"\.attn\.aggregate_heads\.0\.", ".attn.out_proj."),
    (r"\.attn\.rope\.freqs$", ".attn.rope.inv_freq"),
)


class CheckpointMismatchError(ValueError):
    """A checkpoint does not fit the separator built from its configuration."""


def rename_authors_key(key: str) -> str:
    for pattern, replacement in KEY_RULES:
        key = re.sub(pattern, replacement, key)
    return key


def separator_state_dict(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Bare separator keys from either a separator or a whole ESPnet model state_dict."""
    prefix = "separator."
    if any(k.startswith(prefix) for k in state_dict):
        return {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    return dict(state_dict)


def convert_authors_state_dict(state_dict: Mapping[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename the authors' separator keys (bare or ``separator.``-prefixed) to ours."""
    return {rename_authors_key(k): v for k, v in separator_state_dict(state_dict).items()}


def _first(keys, shown: int = 8) -> str:
    more = f" (+{len(keys) - shown} more)" if len(keys) > shown else ""
    return f"{keys[:shown]}{more}"


def load_strict(module: torch.nn.Module, state_dict: Mapping[str, torch.Tensor], origin: str) -> None:
    """Load ``state_dict`` into ``module``; any missing, unexpected or mis-shaped key raises.

    Args:
        origin: how the keys were named, for the error message (e.g. "authors'").

    Raises:
        CheckpointMismatchError: listing every offending key.
    """
    own = module.state_dict()
    missing = sorted(set(own) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(own))
    misshaped = [
        f"{k}: checkpoint {tuple(state_dict[k].shape)} vs model {tuple(own[k].shape)}"
        for k in sorted(set(own) & set(state_dict))
        if state_dict[k].shape != own[k].shape
    ]
    problems = [
        f"{what} {_first(keys)}"
        for what, keys in (("missing keys", missing), ("unexpected keys", unexpected),
                           ("mis-shaped keys", misshaped))
        if keys
    ]
    if problems:
        raise CheckpointMismatchError(
            f"The {origin} checkpoint does not match the separator built from its "
            f"configuration: {'; '.join(problems)}. Check that the config and the "
            "checkpoint come from the same training run."
        )
    module.load_state_dict(state_dict, strict=True)
