"""Prepare a trained separator for fast inference: int8 matmuls and/or torch.compile.

Choosing a precision (the documented rule, :func:`reduced_precision`):

* ``bfloat16`` where the device computes it natively: CUDA GPUs that support
  it, CPUs with AVX512-BF16 or AMX-BF16. It needs no change to the model: run
  the forward under ``torch.autocast`` (``espnet2_tisdiss.inference.precision``
  does). On AVX2-only CPUs bfloat16 matmuls are emulated, hundreds of times
  slower than float32.
* ``int8`` on other x86-64 CPUs (AVX2): :func:`optimize_for_inference` with
  ``dtype="int8"`` swaps the FFNs and attention projections (about 95% of the
  FLOPs) for int8-matmul versions.
* otherwise float32.
"""

from pathlib import Path
from typing import Optional

import torch
from torch import nn

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
DTYPES = ("float32", "int8")
# CPU flags (as /proc/cpuinfo spells them) that mean bfloat16 matmuls run in hardware.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> set:
    """The CPU's feature flags (empty where /proc/cpuinfo is missing)."""
    try:
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def reduced_precision(device: torch.device, flags: Optional[set] = None) -> Optional[str]:
    """The fastest reduced precision this device computes natively, or None.

    ``"bfloat16"`` (apply with autocast) on CUDA GPUs that support it and on
    CPUs with AVX512-BF16/AMX-BF16; ``"int8"`` (apply with
    :func:`optimize_for_inference`) on other x86 CPUs with AVX2; else None.
    """
    if device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else None
    flags = cpu_flags() if flags is None else flags
    if any(flag in flags for flag in NATIVE_BF16_FLAGS):
        return "bfloat16"
    if "avx2" in flags and "x86" in torch.backends.quantized.supported_engines:
        return "int8"
    return None


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
    if dtype not in DTYPES:
        raise ValueError(
            f"dtype must be one of {DTYPES}, got {dtype!r}; for bfloat16 run the "
            "forward under torch.autocast instead."
        )
    separator.eval()
    if dtype == "int8":
        _check_int8_device(separator)
        _swap_for_int8(separator)
    if compile:
        for module in separator.modules():
            if isinstance(module, TFLocoformerBlock):
                module.compile()
    return separator


def _check_int8_device(separator: nn.Module) -> None:
    device = next(separator.parameters()).device
    if device.type != "cpu":
        raise ValueError(f"int8 inference runs on the CPU; the model is on {device}.")
    if "x86" not in torch.backends.quantized.supported_engines:
        raise ValueError(
            "int8 inference needs PyTorch's x86 quantization engine, which this "
            f"build lacks (engines: {torch.backends.quantized.supported_engines}); use float32."
        )


def _swap_for_int8(separator: nn.Module) -> None:
    """Replace every float FFN / attention submodule by its int8 counterpart."""
    for parent in list(separator.modules()):
        for name, child in list(parent.named_children()):
            counterpart = INT8_COUNTERPARTS.get(type(child))
            if counterpart is not None:
                setattr(parent, name, counterpart.from_float(child))
