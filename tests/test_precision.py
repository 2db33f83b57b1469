"""The one dtype rule: bfloat16 only where native, a warning where emulated, int8 only on x86 CPUs."""

import contextlib

import pytest
import torch

from espnet2_tisdiss import precision

CPU = torch.device("cpu")


@pytest.mark.parametrize("flags,native", [("fpu sse avx2", False), ("avx2 avx512f avx512_bf16", True),
                                          ("avx2 amx_tile amx_bf16", True)])
def test_native_bf16_from_cpu_flags(tmp_path, flags, native):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nflags\t\t: {flags}\n")
    assert precision.cpu_flags(cpuinfo) == frozenset(flags.split())
    assert precision.cpu_has_native_bf16(precision.cpu_flags(cpuinfo)) is native
    assert precision.cpu_flags(tmp_path / "missing") == frozenset()


def test_native_dtypes_follow_the_cpu_flags(monkeypatch):
    x86 = "x86" in torch.backends.quantized.supported_engines
    for flags, expected in [({"avx2", "amx_bf16"}, ("float32", "bfloat16") + (("int8",) if x86 else ())),
                            ({"avx2", "fma"}, ("float32",) + (("int8",) if x86 else ())),
                            ({"asimd", "bf16"}, ("float32",)),  # Arm: no int8 engine path, no x86 bf16 flags
                            (set(), ("float32",))]:
        monkeypatch.setattr(precision, "cpu_flags", lambda flags=frozenset(flags): flags)
        assert precision.native_dtypes(CPU) == expected
        assert precision.default_dtype(CPU) == ("bfloat16" if "bfloat16" in expected else "float32")


def test_int8_runs_on_x86_cpus_only(monkeypatch):
    if not precision.int8_available():
        pytest.skip("this CPU has no int8 path")
    assert precision.resolve_dtype(CPU, "int8") == "int8"
    with precision.autocast(CPU, "int8"):  # int8 is applied to the model, not by autocast
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.float32
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"asimd"}))  # as on an Arm CPU
    with pytest.raises(ValueError, match="int8 cannot run on the CPU: it needs an x86 CPU with AVX2"):
        precision.resolve_dtype(CPU, "int8")
    with pytest.raises(ValueError, match="int8 cannot run on cuda:0"):
        precision.resolve_dtype(torch.device("cuda:0"), "int8")


def test_cpu_default_follows_the_flags(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512_bf16"}))
    assert precision.resolve_dtype(CPU, None) == "bfloat16"
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
    assert precision.resolve_dtype(CPU, None) == "float32"


def test_emulated_bf16_warns(monkeypatch):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))
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
