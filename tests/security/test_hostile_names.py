"""File names with spaces, quotes, leading dashes and non-ASCII text, through formatting and the CLI.

Paths may hold any of these (a Kaldi list's path is the rest of the line);
utterance ids cannot hold whitespace, and an id that would make an output
file land elsewhere ("..", "a/b") is refused by name.
"""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.bin.separate import main as separate_main
from espnet2_tisdiss.fileio.kaldi_lists import read_scp, write_scp
from espnet2_tisdiss.stages.format_data import DataDirError, format_data_dir
from tests.hostile_names import HOSTILE_FILE_STEMS, HOSTILE_FOLDER, write_hostile_set
from tests.inference.tiny_model import write_model

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    return str(write_model(tmp_path_factory.mktemp("tiny model"))["archive"])


@pytest.mark.parametrize("fs", [8000, 16000])  # referenced in place / resampled into the dump dir
def test_format_data_keeps_hostile_paths_and_ids(tmp_path, fs):
    files = write_hostile_set(tmp_path / "data", tmp_path, count=5, seed=0, fs=fs)
    dump = tmp_path / "dump 'd' ü"
    counts = format_data_dir(tmp_path / "data", dump, fs=8000, min_seconds=0.1)
    assert counts == {"kept": 5, "dropped_short": 0}
    mixtures = read_scp(dump / "wav.scp")
    assert sorted(mixtures) == sorted(files)
    for utt, paths in files.items():
        if fs == 8000:
            assert mixtures[utt] == str(paths[0].resolve())
        else:
            assert mixtures[utt] == str((dump / "wav/wav" / f"{utt}.wav").resolve())
        assert sf.info(mixtures[utt]).frames == 4000


def test_id_with_a_space_is_named_with_its_line(tmp_path):
    files = write_hostile_set(tmp_path / "data", tmp_path, count=2, seed=0)
    utt = sorted(files)[1]
    scp = tmp_path / "data/wav.scp"
    lines = scp.read_text().splitlines()
    number = next(i for i, line in enumerate(lines, start=1) if line.startswith(utt + " "))
    lines[number - 1] = f"my {lines[number - 1]}"  # the id becomes "my <utt>"
    scp.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataDirError) as caught:
        format_data_dir(tmp_path / "data", tmp_path / "dump", fs=8000, min_seconds=0.1)
    message = str(caught.value)
    assert f"{scp}:{number}: utterance id {f'my {utt}'!r} contains a space" in message
    assert "paths may contain spaces" in message
    assert not (tmp_path / "dump").exists()


def test_missing_file_is_named_with_its_line(tmp_path):
    write_hostile_set(tmp_path / "data", tmp_path, count=2, seed=0)
    scp = tmp_path / "data/spk2.scp"
    scp.write_text(scp.read_text().replace(" s2.wav", " s2 gone.wav", 1))
    with pytest.raises(DataDirError, match=r"spk2\.scp:1: utterance .*: no such file .*s2 gone\.wav"):
        format_data_dir(tmp_path / "data", tmp_path / "dump", fs=8000, min_seconds=0.1)


@pytest.mark.parametrize("utt", ["a b", "a\tb", ""])
def test_write_scp_refuses_ids_with_whitespace(tmp_path, utt):
    with pytest.raises(ValueError, match="empty or contains whitespace"):
        write_scp(tmp_path / "wav.scp", {"fine": "/x y.wav", utt: "/z.wav"})
    assert not (tmp_path / "wav.scp").exists()


@pytest.mark.parametrize("value", [" /lead.wav", "/trail.wav ", "/a\nb.wav", ""])
def test_write_scp_refuses_values_that_would_not_read_back(tmp_path, value):
    with pytest.raises(ValueError, match="cannot hold|is empty"):
        write_scp(tmp_path / "wav.scp", {"u": value})


def test_hostile_values_round_trip(tmp_path):
    entries = {"-d": "/my data/-x 'q' \"dq\" ü.wav", "Müller_日本": "rel/a\tb  c.wav", "$x": "-lead dash.wav"}
    write_scp(tmp_path / "l.scp", entries)
    assert read_scp(tmp_path / "l.scp") == entries


@pytest.mark.parametrize("utt", ["..", "a/b", "../../escape"])
def test_format_data_refuses_ids_that_are_not_file_names(tmp_path, utt):
    write_hostile_set(tmp_path / "data", tmp_path, count=1, seed=0)
    for name in ("wav.scp", "spk1.scp", "spk2.scp"):
        scp = tmp_path / "data" / name
        _, path = scp.read_text().rstrip("\n").split(" ", 1)
        scp.write_text(f"{utt} {path}\n")
    with pytest.raises(ValueError, match="cannot name an output file"):
        format_data_dir(tmp_path / "data", tmp_path / "dump", fs=16000, min_seconds=0.1)


def hostile_inputs(root: Path, count: int = len(HOSTILE_FILE_STEMS)):
    folder = root / HOSTILE_FOLDER
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    paths = []
    for stem in HOSTILE_FILE_STEMS[:count]:
        paths.append(folder / f"{stem}.wav")
        sf.write(paths[-1], 0.1 * rng.standard_normal(2400), 8000)
    return paths


def test_cli_separates_a_folder_of_hostile_names(archive, tmp_path, capsys):
    paths = hostile_inputs(tmp_path)
    out = tmp_path / "-out 'x' ü"
    code = separate_main([str(tmp_path / "my data"), "--model", archive, f"--output_dir={out}",
                          "--inference_reps", "1"])
    err = capsys.readouterr().err
    assert code == 0, err
    for path in paths:
        for j in (1, 2):
            written = out / path.parent.name / f"{path.stem}_spk{j}.wav"
            assert sf.info(written).frames == 2400
            assert np.isfinite(sf.read(written)[0]).all()


def test_cli_wav_scp_with_hostile_paths_and_ids(archive, tmp_path, capsys):
    paths = hostile_inputs(tmp_path, count=3)
    ids = ["-dash", "it's_\"q\"", "Müller_日本"]
    (tmp_path / "wav.scp").write_text("".join(f"{u} {p}\n" for u, p in zip(ids, paths)), encoding="utf-8")
    code = separate_main([str(tmp_path / "wav.scp"), "--model", archive, "--output_dir", str(tmp_path / "sep"),
                          "--inference_reps", "1"])
    assert code == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "sep").iterdir()) == sorted(
        f"{u}_spk{j}.wav" for u in ids for j in (1, 2))


def test_cli_refuses_an_utterance_id_that_escapes_the_output_dir(archive, tmp_path, capsys):
    path = hostile_inputs(tmp_path, count=1)[0]
    (tmp_path / "wav.scp").write_text(f"../escaped {path}\n")
    with pytest.raises(SystemExit) as caught:
        separate_main([str(tmp_path / "wav.scp"), "--model", archive, "--output_dir", str(tmp_path / "sep")])
    assert "utterance id '../escaped' cannot name an output file" in str(caught.value)
    assert not (tmp_path / "escaped_spk1.wav").exists() and not (tmp_path / "sep").exists()


def test_console_script_with_a_leading_dash_file_after_double_dash(archive, tmp_path):
    """A real process, run from the file's folder: "-lead dash.wav" is a file after "--"."""
    path = hostile_inputs(tmp_path, count=1)[0]
    done = subprocess.run([sys.executable, "-m", "espnet2_tisdiss.bin.separate", "--model", archive,
                           "--inference_reps", "1", "--", path.name], cwd=path.parent,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert sf.info(path.parent / f"{path.stem}_spk2.wav").frames == 2400
    assert f"{path.name}: depth 1" in done.stdout
