"""Pick the compute device and dtype for inference, and the autocast context that applies it."""

import contextlib
import warnings
from pathlib import Path
from typing import ContextManager, Optional

import torch

DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}
# CPU flags (as /proc/cpuinfo spells them) that mean bfloat16 matmuls run in hardware.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


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


def cpu_has_native_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """True when the CPU advertises bfloat16 instructions (AVX512-BF16 or AMX-BF16)."""
    try:
        flags = set(cpuinfo.read_text(errors="replace").split())
    except OSError:
        return False
    return any(flag in flags for flag in NATIVE_BF16_FLAGS)


def cuda_has_native_bf16(device: torch.device) -> bool:
    """True when the GPU computes bfloat16 in hardware (compute capability 8.0 and up: A100, H100, ...).

    Note: ``torch.cuda.is_bf16_supported()`` also counts GPUs that only emulate it (T4, V100),
    where bfloat16 is slower than float32; hence ``including_emulation=False``.
    """
    with torch.cuda.device(device):
        return torch.cuda.is_bf16_supported(including_emulation=False)


def default_dtype(device: torch.device) -> str:
    """``"bfloat16"`` where the device computes it natively, else ``"float32"``."""
    if device.type == "cuda":
        return "bfloat16" if cuda_has_native_bf16(device) else "float32"
    return "bfloat16" if cpu_has_native_bf16() else "float32"


def resolve_dtype(device: torch.device, dtype: Optional[str]) -> str:
    """The dtype to run in: ``dtype``, or the device's default when None.

    An explicit bfloat16 on a CPU without native support is allowed but warned
    about: PyTorch then emulates it, several times slower than float32.
    """
    if dtype is None:
        return default_dtype(device)
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {sorted(DTYPES)}, got {dtype!r}.")
    if dtype == "bfloat16" and device.type == "cpu" and not cpu_has_native_bf16():
        warnings.warn(
            "bfloat16 requested on a CPU without native bfloat16 (no avx512_bf16/amx_bf16 in "
            "/proc/cpuinfo): it is emulated and will be slow; float32 is faster here.",
            stacklevel=2,
        )
    return dtype


def autocast(device: torch.device, dtype: str) -> ContextManager:
    """Autocast to ``dtype`` on ``device`` (a no-op for float32)."""
    if dtype == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=DTYPES[dtype])


def full_precision(device: torch.device) -> ContextManager:
    """Turn autocast off inside an autocast block (complex spectra need float32)."""
    return torch.autocast(device_type=device.type, enabled=False)
