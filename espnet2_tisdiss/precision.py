"""The compute dtype of inference: one table, one CPU-feature probe, one default rule.

==========  ===================================================================
dtype       how it is applied
==========  ===================================================================
float32     as the model is
bfloat16    the forward under ``torch.autocast`` (spectra stay float32); fast
            only where the device computes it natively: GPUs of compute
            capability 8.0 and up, CPUs with AVX512-BF16 or AMX-BF16
int8        the SwiGLU FFNs and attention projections swapped for int8
            matmuls (``separator.optimize_for_inference``); x86 CPUs with
            PyTorch's x86 quantization engine only; opt-in, since it changes
            the outputs slightly
==========  ===================================================================

The default is bfloat16 where the device computes it natively, else float32.
"""

import contextlib
import warnings
from pathlib import Path
from typing import ContextManager, FrozenSet, Optional, Tuple

import torch

DTYPES = ("float32", "bfloat16", "int8")
# CPU flags (as /proc/cpuinfo spells them) that mean bfloat16 matmuls run in hardware.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def cpu_field(names: Tuple[str, ...], cpuinfo: Path = Path("/proc/cpuinfo")) -> Optional[str]:
    """The value of the first /proc/cpuinfo line starting with one of ``names`` (None if none)."""
    try:
        text = cpuinfo.read_text(errors="replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(names):
            return line.split(":", 1)[1].strip()
    return None


def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> FrozenSet[str]:
    """The CPU's feature flags (empty where /proc/cpuinfo is missing or has none)."""
    return frozenset((cpu_field(("flags", "Features"), cpuinfo) or "").split())  # x86, Arm


def cpu_model(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The CPU's model name, for reports."""
    return cpu_field(("model name", "Model"), cpuinfo) or "unknown CPU"


def cpu_has_native_bf16(flags: Optional[FrozenSet[str]] = None) -> bool:
    """True when the CPU advertises bfloat16 instructions (AVX512-BF16 or AMX-BF16)."""
    flags = cpu_flags() if flags is None else flags
    return any(flag in flags for flag in NATIVE_BF16_FLAGS)


def cuda_has_native_bf16(device: torch.device) -> bool:
    """True when the GPU computes bfloat16 in hardware (compute capability 8.0 and up: A100, H100, ...).

    Note: ``torch.cuda.is_bf16_supported()`` also counts GPUs that only emulate it (T4, V100),
    where bfloat16 is slower than float32; hence ``including_emulation=False``.
    """
    with torch.cuda.device(device):
        return torch.cuda.is_bf16_supported(including_emulation=False)


def int8_available(flags: Optional[FrozenSet[str]] = None) -> bool:
    """True on x86 CPUs with AVX2 where PyTorch has its x86 quantization engine."""
    flags = cpu_flags() if flags is None else flags
    return "avx2" in flags and "x86" in torch.backends.quantized.supported_engines


def native_dtypes(device: torch.device) -> Tuple[str, ...]:
    """The dtypes of :data:`DTYPES` that run at hardware speed on ``device``, float32 first."""
    if device.type == "cuda":
        return ("float32", "bfloat16") if cuda_has_native_bf16(device) else ("float32",)
    flags = cpu_flags()
    return ("float32",) + (("bfloat16",) if cpu_has_native_bf16(flags) else ()) + \
        (("int8",) if int8_available(flags) else ())


def default_dtype(device: torch.device) -> str:
    """``"bfloat16"`` where the device computes it natively, else ``"float32"``."""
    return "bfloat16" if "bfloat16" in native_dtypes(device) else "float32"


def check_device(device: str) -> torch.device:
    """``torch.device(device)``, refusing devices this machine does not have."""
    try:
        parsed = torch.device(device)
    except RuntimeError as err:
        raise ValueError(f"unknown device {device!r}; use cpu, cuda or cuda:<index>.") from err
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} requested but CUDA is not available here; use --device cpu.")
    if parsed.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device!r} is not supported; use cpu, cuda or cuda:<index>.")
    return parsed


def resolve_dtype(device: torch.device, dtype: Optional[str]) -> str:
    """The dtype to run in: ``dtype``, or the device's default when None.

    Raises:
        ValueError: an unknown dtype, or int8 where it cannot run (a GPU, a
            CPU without AVX2 or without PyTorch's x86 quantization engine).

    An explicit bfloat16 on a CPU without native support is allowed but warned
    about: PyTorch then emulates it, several times slower than float32.
    """
    if dtype is None:
        return default_dtype(device)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}.")
    if dtype == "int8" and (device.type != "cpu" or not int8_available()):
        where = "on the CPU" if device.type == "cpu" else f"on {device}"
        raise ValueError(
            f"int8 cannot run {where}: it needs an x86 CPU with AVX2 and PyTorch's x86 quantization "
            f"engine (engines here: {', '.join(torch.backends.quantized.supported_engines)}). "
            "Use float32, or bfloat16 where the device computes it natively.")
    if dtype == "bfloat16" and device.type == "cpu" and not cpu_has_native_bf16():
        warnings.warn(
            "bfloat16 requested on a CPU without native bfloat16 (no avx512_bf16/amx_bf16 in "
            "/proc/cpuinfo): it is emulated and will be slow; float32 is faster here.",
            stacklevel=2,
        )
    return dtype


def autocast(device: torch.device, dtype: str) -> ContextManager:
    """Autocast to bfloat16 on ``device`` for ``"bfloat16"``; a no-op for float32 and int8."""
    if dtype != "bfloat16":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


def full_precision(device: torch.device) -> ContextManager:
    """Turn autocast off inside an autocast block (complex spectra need float32)."""
    return torch.autocast(device_type=device.type, enabled=False)
