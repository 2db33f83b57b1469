"""Running out of memory on a long input names the file, its duration and the option that helps.

The allocation failure is injected (PyTorch's CPU and CUDA messages, numpy's
MemoryError) where the model runs; any other runtime error passes through as it was.
"""

import numpy as np
import pytest
import soundfile as sf
import torch

from espnet2_tisdiss.bin import separate_depths as decode_cli
from espnet2_tisdiss.bin.separate import main as separate_main
from espnet2_tisdiss.fileio.decode_journal import JOURNAL_NAME
from espnet2_tisdiss.inference import SeparationMemoryError, Separator
from espnet2_tisdiss.inference.memory import is_out_of_memory
from espnet2_tisdiss.stages import decode
from tests.inference.tiny_model import write_model

CPU_MESSAGE = ("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
               "you tried to allocate 85899345920 bytes. Error code 12 (Cannot allocate memory)")
CUDA_MESSAGE = "CUDA out of memory. Tried to allocate 20.00 GiB (GPU 0; 79.10 GiB total capacity)\nmore advice"
FAILURES = {
    "cpu": lambda: RuntimeError(CPU_MESSAGE),
    "cuda": lambda: torch.OutOfMemoryError(CUDA_MESSAGE),
    "numpy": lambda: MemoryError("Unable to allocate 80.0 GiB for an array"),
}


@pytest.fixture(scope="module")
def model_files(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("tiny"))


def fail_when_longer_than(monkeypatch, target, name, samples: int, make_error) -> None:
    """Patch ``target.name`` (a function taking the signal second) to fail on longer inputs."""
    original = getattr(target, name)

    def patched(first, signal, *args, **kwargs):
        if len(signal) > samples:
            raise make_error()
        return original(first, signal, *args, **kwargs)

    monkeypatch.setattr(target, name, patched)


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_classifier(kind):
    assert is_out_of_memory(FAILURES[kind]())
    assert not is_out_of_memory(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))
    assert not is_out_of_memory(ValueError("out of memory"))  # only runtime and memory errors count


@pytest.mark.parametrize("chunk_seconds,expected", [(None, "whole (chunk_seconds=None)"),
                                                    (1.0, "in chunks of 1 s")])
@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_api_names_the_duration_and_a_smaller_chunk(model_files, monkeypatch, kind, chunk_seconds, expected):
    separator = Separator.from_pretrained(model_files["archive"])
    fail_when_longer_than(monkeypatch, Separator, "_separate_segment", 0, FAILURES[kind])
    with pytest.raises(SeparationMemoryError) as caught:
        separator.separate(np.zeros(24000, np.float32), 8000, 1, chunk_seconds=chunk_seconds, overlap_seconds=0.5)
    message = str(caught.value)
    assert f"out of memory on cpu separating 3.0 s of audio {expected}" in message
    suggested = 10 if chunk_seconds is None else 1  # never below one second
    assert f"chunk_seconds={suggested} (--chunk_seconds {suggested} on the command line)" in message
    assert caught.value.seconds == 3.0 and caught.value.suggested_chunk_seconds == suggested
    assert "more advice" not in message  # only the first line of PyTorch's text


def test_api_passes_other_runtime_errors_through(model_files, monkeypatch):
    separator = Separator.from_pretrained(model_files["archive"])
    fail_when_longer_than(monkeypatch, Separator, "_separate_segment", 0, lambda: RuntimeError("shape mismatch"))
    with pytest.raises(RuntimeError, match="^shape mismatch$"):
        separator.separate(np.zeros(8000, np.float32), 8000, 1)


def test_cli_names_the_file_and_goes_on(model_files, monkeypatch, tmp_path, capsys):
    long, short = tmp_path / "long meeting.wav", tmp_path / "short.wav"
    sf.write(long, 0.1 * np.random.default_rng(0).standard_normal(48000), 16000)
    sf.write(short, 0.1 * np.random.default_rng(1).standard_normal(4000), 8000)
    fail_when_longer_than(monkeypatch, Separator, "_separate_segment", 8000, FAILURES["cpu"])
    code = separate_main([str(long), str(short), "--model", str(model_files["archive"]), "--inference_reps", "1",
                          "--chunk_seconds", "4", "--overlap_seconds", "1"])
    err = capsys.readouterr().err
    assert code == 1
    assert f"error: {long} (3.0 s): out of memory separating it in chunks of 4 s ([enforce fail" in err
    assert "rerun this file with a smaller --chunk_seconds, e.g. --chunk_seconds 2" in err
    assert not (tmp_path / "long meeting_spk1.wav").exists()
    assert sf.info(tmp_path / "short_spk1.wav").frames == 4000
    assert f"1 file(s) failed: {long}" in err


def test_decode_stage_names_the_utterance_and_keeps_the_finished_ones(model_files, monkeypatch, tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    lines = []
    for utt, seconds in (("a_short", 0.2), ("b_long", 2.5)):
        sf.write(data / f"{utt}.wav", 0.1 * np.random.default_rng(2).standard_normal(int(seconds * 8000)), 8000)
        lines.append(f"{utt} {data / f'{utt}.wav'}\n")
    (data / "wav.scp").write_text("".join(lines))
    fail_when_longer_than(monkeypatch, decode, "separate_depths", 8000, FAILURES["cuda"])
    out = tmp_path / "decode"
    with pytest.raises(SystemExit) as caught:
        decode_cli.main(["--train_config", str(model_files["config"]), "--model_file", str(model_files["model"]),
                         "--data_dir", str(data), "--output_dir", str(out), "--inference_reps", "1"])
    message = str(caught.value)
    assert message.startswith(f"error: b_long: {data / 'b_long.wav'} (2.5 s): out of memory on cpu "
                              "(CUDA out of memory. Tried to allocate 20.00 GiB")
    assert "tisdiss-separate --chunk_seconds 10" in message and "a rerun continues" in message
    assert (out / "reps1/wavs/1/a_short.wav").is_file() and (out / JOURNAL_NAME).is_file()
    assert not (out / "reps1/wavs/1/b_long.wav").exists()
