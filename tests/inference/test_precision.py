"""Device and dtype choice: bfloat16 only where it is native, a warning where it is emulated."""

import contextlib

import pytest
import torch

from espnet2_tisdiss.inference import precision

CPU = torch.device("cpu")


@pytest.mark.parametrize("flags,native", [("fpu sse avx2", False), ("avx2 avx512f avx512_bf16", True),
                                          ("avx2 amx_tile amx_bf16", True)])
def test_native_bf16_from_cpu_flags(tmp_path, flags, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert precision.cpu_has_native_bf16(cpuinfo) is native


def test_cpu_default_follows_the_flags(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: True)
    assert precision.resolve_dtype(CPU, None) == "bfloat16"
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    assert precision.resolve_dtype(CPU, None) == "float32"


def test_emulated_bf16_warns(monkeypatch):
    monkeypatch.setattr(precision, "cpu_has_native_bf16", lambda: False)
    with pytest.warns(UserWarning, match="without native bfloat16.*will be slow"):
        assert precision.resolve_dtype(CPU, "bfloat16") == "bfloat16"


def test_bad_dtype_and_devices():
    with pytest.raises(ValueError, match="dtype must be one of"):
        precision.resolve_dtype(CPU, "float16")
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        precision.check_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available here; use --device cpu"):
            precision.check_device("cuda:0")


def test_autocast_is_a_no_op_for_float32():
    with precision.autocast(CPU, "float32"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    with precision.autocast(CPU, "bfloat16"):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
        with precision.full_precision(CPU):
            assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32


@pytest.mark.parametrize("native,expected", [(False, "float32"), (True, "bfloat16")])
def test_cuda_default_counts_no_emulated_bf16(monkeypatch, native, expected):
    """A T4 or V100 'supports' bfloat16 only by emulation: float32 is the default there."""
    calls = []

    def is_bf16_supported(including_emulation=True):
        calls.append(including_emulation)
        return native or including_emulation  # emulation is always available

    monkeypatch.setattr(torch.cuda, "is_bf16_supported", is_bf16_supported)
    monkeypatch.setattr(torch.cuda, "device", lambda device: contextlib.nullcontext())
    assert precision.default_dtype(torch.device("cuda:0")) == expected
    assert calls == [False]
