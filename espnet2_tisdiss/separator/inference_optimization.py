"""Prepare a trained separator for fast inference: int8 matmuls and/or torch.compile.

Which dtype to use, and where each one runs, is decided in ``espnet2_tisdiss.precision``;
this module applies int8 (bfloat16 needs no change to the model: autocast).
"""

from torch import nn

from espnet2_tisdiss import precision
from espnet2_tisdiss.layers.int8_rope_attention import Int8RoPESelfAttention
from espnet2_tisdiss.layers.int8_swiglu_ffn import Int8SwiGLUConvDeconv1d
from espnet2_tisdiss.layers.locoformer import TFLocoformerBlock
from espnet2_tisdiss.layers.rope_attention import RoPESelfAttention
from espnet2_tisdiss.layers.swiglu_ffn import SwiGLUConvDeconv1d

# float module class -> its int8 counterpart (built with ``from_float``)
INT8_COUNTERPARTS = {
    SwiGLUConvDeconv1d: Int8SwiGLUConvDeconv1d,
    RoPESelfAttention: Int8RoPESelfAttention,
}


def optimize_for_inference(
    separator: nn.Module, dtype: str = "float32", compile: bool = False
) -> nn.Module:
    """Put ``separator`` in eval mode and make it faster, in place; returns it.

    The result computes the same function (``forward``, ``forward_all_depths``,
    ``inference_reps`` all unchanged) and keeps the same state_dict, but is for
    inference only: it refuses ``.train()`` once int8 layers are in.

    Args:
        separator: a :class:`TISDiSSSeparator` (or any module built from our layers).
        dtype: ``"float32"`` (weights untouched) or ``"int8"`` (CPU only: the
            SwiGLU FFNs and attention projections use int8 weights per output
            channel and int8 activations quantized per call; RoPE, softmax
            attention, normalisation, the splitter, encoder and decoder stay
            float32). bfloat16 is not applied here: run the forward under
            ``torch.autocast`` on a device with native bfloat16.
        compile: compile every TF-Locoformer block with ``torch.compile``
            (inductor; on the CPU it needs a C++ compiler). The first call
            per input shape takes minutes; later ones are faster.

    Raises:
        ValueError: an unknown dtype, int8 on a non-CPU model or without
            PyTorch's x86 quantization engine, or an FFN stride other than 1
            with int8.
    """
    if dtype not in ("float32", "int8"):
        raise ValueError(
            f"dtype must be float32 or int8, got {dtype!r}; for bfloat16 run the "
            "forward under torch.autocast instead (espnet2_tisdiss.precision.autocast)."
        )
    separator.eval()
    if dtype == "int8":
        precision.resolve_dtype(next(separator.parameters()).device, "int8")  # refuses where it cannot run
        _swap_for_int8(separator)
    if compile:
        for module in separator.modules():
            if isinstance(module, TFLocoformerBlock):
                module.compile()
    return separator


def _swap_for_int8(separator: nn.Module) -> None:
    """Replace every float FFN / attention submodule by its int8 counterpart."""
    for parent in list(separator.modules()):
        for name, child in list(parent.named_children()):
            counterpart = INT8_COUNTERPARTS.get(type(child))
            if counterpart is not None:
                setattr(parent, name, counterpart.from_float(child))
