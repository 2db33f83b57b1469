"""A full disk (ENOSPC) while each stage writes its outputs.

For every output, first written once, then rewritten with other content while
the disk fills up: the error must say "no space left on device while writing
<that output>", the previous version must be intact byte for byte, and no
temporary file may be left beside it.
"""

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.bin import make_results as make_results_cli
from espnet2_tisdiss.bin import pack_model as pack_model_cli
from espnet2_tisdiss.bin import score_separation
from espnet2_tisdiss.fileio.atomic_io import OutputWriteError, write_atomic, write_wav_atomic
from espnet2_tisdiss.fileio.kaldi_lists import read_scp, write_scp
from espnet2_tisdiss.fileio.model_archive import pack_model, unpack_model
from espnet2_tisdiss.stages import format_data, results, scoring
from tests.faults.injection import WriteFault
from tests.security.hostile import tree
from tests.stages.test_format_data import make_dir
from tests.stages.test_results import write_summary
from tests.stages.test_scoring import make_set, write_depth

def no_space(path) -> str:
    return re.escape(f"no space left on device while writing {path}")


def leftovers(root: Path) -> list:
    """Temporary files or folders of atomic_io under ``root``."""
    return [p for p in root.rglob(".*") if p.name.endswith((".partial", ".old"))]


@pytest.mark.parametrize("size", [4000, 40_000])  # full when the buffer is flushed, or inside write()
@pytest.mark.parametrize("bytes_ok", [0, 5, 3000])
@pytest.mark.parametrize("previous", [b"old content\n", None])
def test_write_atomic_keeps_the_previous_file(tmp_path, monkeypatch, size, bytes_ok, previous):
    path = tmp_path / "out" / "summary.json"
    if previous is not None:
        write_atomic(path, previous)
    fault = WriteFault(bytes_ok=bytes_ok).install(monkeypatch)
    with pytest.raises(OutputWriteError, match=no_space(path)) as error:
        write_atomic(path, "x" * size)
    assert error.value.errno == 28 and fault.opened == 1
    assert (path.read_bytes() if path.exists() else None) == previous
    assert leftovers(tmp_path) == []


def test_write_wav_atomic_keeps_the_previous_wav(tmp_path, monkeypatch):
    path = tmp_path / "reps1" / "wavs" / "1" / "utt.wav"
    write_wav_atomic(path, np.zeros(800, dtype="float32"), 8000)
    before = path.read_bytes()
    WriteFault(bytes_ok=100).install(monkeypatch)
    with pytest.raises(OutputWriteError, match=no_space(path)):
        write_wav_atomic(path, np.ones(1600, dtype="float32"), 8000)
    assert path.read_bytes() == before and sf.info(path).frames == 800
    assert leftovers(tmp_path) == []


def test_write_scp_keeps_the_previous_list(tmp_path, monkeypatch):
    path = tmp_path / "wav.scp"
    write_scp(path, {"a": "/a.wav"})
    WriteFault().install(monkeypatch)
    with pytest.raises(OutputWriteError, match=no_space(path)):
        write_scp(path, {f"u{i}": f"/u{i}.wav" for i in range(100)})
    assert read_scp(path) == {"a": "/a.wav"} and leftovers(tmp_path) == []


@pytest.fixture
def rescored(tmp_path):
    """A scored decode dir (depths 1, 2) whose estimates then changed: the next scoring differs."""
    data, signals = make_set(tmp_path, count=1)
    decode = tmp_path / "decode"
    write_depth(decode, 1, {u: [m, m] for u, (m, s) in signals.items()})
    write_depth(decode, 2, {u: s for u, (m, s) in signals.items()})
    (decode / "timing.json").write_text(json.dumps({"audio_seconds": 2.0, "seconds": {"1": 0.5, "2": 1.0}}))
    scoring.score_test_set(data, decode, progress=False)
    write_depth(decode, 2, {u: [x * 0.5 + 0.01 * m for x in s[::-1]] for u, (m, s) in signals.items()})
    return data, decode


OUTPUTS = ("reps1/scores.tsv", "reps2/scores.tsv", "summary.json")  # in the order scoring writes them


@pytest.mark.parametrize("files_ok", range(len(OUTPUTS)))
def test_scoring_keeps_previous_scores(rescored, monkeypatch, files_ok):
    data, decode = rescored
    before = tree(decode)
    WriteFault(files_ok=files_ok, bytes_ok=20).install(monkeypatch)
    with pytest.raises(OutputWriteError, match=no_space(decode / OUTPUTS[files_ok])):
        scoring.score_test_set(data, decode, progress=False)
    after = tree(decode)
    assert after[OUTPUTS[files_ok]] == before[OUTPUTS[files_ok]]
    assert {k: v for k, v in after.items() if k not in OUTPUTS[:files_ok]} == \
        {k: v for k, v in before.items() if k not in OUTPUTS[:files_ok]}
    assert leftovers(decode) == []
    monkeypatch.undo()
    summary = scoring.score_test_set(data, decode, progress=False)  # the rerun completes it
    assert json.loads((decode / "summary.json").read_text()) == summary


def test_score_separation_cli_reports_the_full_disk(rescored, monkeypatch):
    data, decode = rescored
    WriteFault().install(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        score_separation.main(["--data_dir", str(data), "--decode_dir", str(decode), "--no_progress"])
    assert re.match("error: " + no_space(decode / "reps1/scores.tsv"), str(exit_info.value.code))


@pytest.mark.parametrize("files_ok", [0, 1])
def test_results_keeps_previous_results_and_plot(tmp_path, monkeypatch, files_ok):
    decode = write_summary(tmp_path / "decode", "test", {1: (10.0, 0.1), 2: (12.0, 0.2)})
    output, plot = tmp_path / "RESULTS.md", tmp_path / "quality_vs_depth.png"
    results.make_results([decode], output, plot, title="first")
    before = (output.read_bytes(), plot.read_bytes())
    WriteFault(files_ok=files_ok, bytes_ok=200).install(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        make_results_cli.main(["--decode_dirs", str(decode), "--output", str(output), "--plot", str(plot),
                               "--title", "second"])
    assert re.match("error: " + no_space([output, plot][files_ok]), str(exit_info.value.code))
    assert plot.read_bytes() == before[1]
    assert (b"## second" in output.read_bytes()) == (files_ok == 1)
    assert files_ok == 1 or output.read_bytes() == before[0]
    assert leftovers(tmp_path) == []


def test_pack_keeps_the_previous_archive(tmp_path, monkeypatch):
    (tmp_path / "config.yaml").write_text("a: 1\n")
    (tmp_path / "w.pth").write_bytes(np.random.default_rng(0).bytes(300_000))
    archive = pack_model(tmp_path / "config.yaml", tmp_path / "w.pth", tmp_path / "exp/packed.tar.gz")
    before = archive.read_bytes()
    (tmp_path / "w.pth").write_bytes(np.random.default_rng(1).bytes(300_000))
    WriteFault(bytes_ok=50_000).install(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        pack_model_cli.main(["--train_config", str(tmp_path / "config.yaml"), "--model_file",
                             str(tmp_path / "w.pth"), "--output", str(archive)])
    assert re.match("error: " + no_space(archive), str(exit_info.value.code))
    assert archive.read_bytes() == before and leftovers(tmp_path) == []
    monkeypatch.undo()
    _, model, _ = unpack_model(archive, tmp_path / "unpacked")
    assert model.read_bytes() == np.random.default_rng(0).bytes(300_000)


@pytest.mark.parametrize("files_ok", [0, 3, 7])  # a resampled wav, another wav, a list
def test_format_data_keeps_the_previous_dump_dir(tmp_path, monkeypatch, files_ok):
    src = make_dir(tmp_path)  # 16 kHz: every wav is resampled into the dump dir
    dump = tmp_path / "dump"
    format_data.format_data_dir(src, dump, fs=8000, min_seconds=0.0)
    before = tree(dump)
    fault = WriteFault(files_ok=files_ok, bytes_ok=2).install(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        format_data.main(["--src", str(src), "--dst", str(dump), "--fs", "8000", "--min_seconds", "0.5"])
    assert str(exit_info.value.code).startswith("error: no space left on device while writing ")
    assert fault.opened == files_ok + 1
    assert tree(dump) == before and leftovers(tmp_path) == []
