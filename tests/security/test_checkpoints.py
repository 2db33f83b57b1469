"""Hostile weight files, through load_state_dict_file and the convert_authors_model CLI.

Each refusal must name the file and the problem, run none of the pickled code
(the payload's marker file stays absent) and write nothing.
"""

import json
import pickle
from pathlib import Path

import pytest
import torch
import yaml

from espnet2_tisdiss.bin import convert_authors_model
from espnet2_tisdiss.fileio.checkpoint import CheckpointFileError, load_state_dict_file
from tests.security.hostile import RunsCode, evil_torch_checkpoint, tree

AUTHORS = Path(__file__).resolve().parents[1] / "fixtures/authors_small/j3_emb24"


def authors_config(path: Path) -> Path:
    """A minimal config of the authors' j3_emb24 fixture, in their option names."""
    meta = json.loads((AUTHORS / "meta.json").read_text())
    stft = {"n_fft": 32, "hop_length": 16}
    config = {"encoder": "stft", "encoder_conf": stft, "decoder": "stft", "decoder_conf": stft,
              "separator": "tisdiss", "separator_conf": meta["separator_conf"], "init": None,
              "model_conf": {}, "criterions": [{"name": "si_snr", "conf": {}, "wrapper": "pit",
                                                "wrapper_conf": {"weight": 1.0}}]}
    path.write_text(yaml.safe_dump(config))
    return path


def convert(tmp_path: Path, checkpoint: Path) -> str:
    """Run the CLI; returns its error message (it must exit with one)."""
    with pytest.raises(SystemExit) as exit_info:
        convert_authors_model.main(["--config", str(authors_config(tmp_path / "config.yaml")),
                                    "--checkpoint", str(checkpoint), "--output_dir", str(tmp_path / "out")])
    return str(exit_info.value.code)


def test_the_payload_is_live(tmp_path):
    """Control: an unrestricted unpickler runs the payload, so the refusals below mean something."""
    pickle.loads(pickle.dumps(RunsCode(tmp_path / "marker")))
    assert (tmp_path / "marker").exists()


@pytest.mark.parametrize("form", ["torch zip file", "raw pickle", "legacy torch file"])
def test_code_running_checkpoint_is_refused_unrun(tmp_path, form):
    marker, path = tmp_path / "marker", tmp_path / "evil.pth"
    if form == "torch zip file":
        evil_torch_checkpoint(path, marker)
    elif form == "raw pickle":
        path.write_bytes(pickle.dumps({"weight": RunsCode(marker)}, protocol=2))
    else:
        torch.save({"weight": RunsCode(marker)}, path, _use_new_zipfile_serialization=False)
    with pytest.raises(CheckpointFileError, match=f"Refused checkpoint {path}: .*could run code"):
        load_state_dict_file(path)
    assert not marker.exists()


def test_convert_cli_refuses_code_and_writes_nothing(tmp_path):
    marker = tmp_path / "marker"
    checkpoint = evil_torch_checkpoint(tmp_path / "evil.pth", marker)
    message = convert(tmp_path, checkpoint)
    assert message.startswith(f"error: Refused checkpoint {checkpoint}")
    assert "GLOBAL posix.system" in message and "weights_only=False" not in message
    assert not marker.exists() and not (tmp_path / "out").exists()


@pytest.mark.parametrize("content, message", [
    ([torch.zeros(1)], "is not a state_dict"),
    ({"model": {"w": torch.zeros(1)}, "optimizer": {}}, "is not a state_dict"),  # a training checkpoint
    ({"w": "a string"}, "is not a state_dict"),
])
def test_valid_torch_file_that_is_not_a_state_dict(tmp_path, content, message):
    path = tmp_path / "model.pth"
    torch.save(content, path)
    with pytest.raises(CheckpointFileError, match=f"{path} {message}"):
        load_state_dict_file(path)
    assert f"{path} {message}" in convert(tmp_path, path)
    assert not (tmp_path / "out").exists()


def test_wrong_shapes_and_keys_are_named_and_nothing_written(tmp_path):
    state = load_state_dict_file(AUTHORS / "reference_state_dict.pt")
    state["conv.0.weight"] = torch.zeros(3, 3)
    state["my_extra.weight"] = torch.zeros(1)
    del state["reconstructor_deconv.weight"]
    torch.save(state, tmp_path / "model.pth")
    before = tree(tmp_path)
    message = convert(tmp_path, tmp_path / "model.pth")
    assert "missing keys ['decoder.deconv.weight']" in message
    assert "unexpected keys ['my_extra.weight']" in message
    assert "mis-shaped keys ['encoder.conv.weight: checkpoint (3, 3) vs model" in message
    assert tree(tmp_path) == {**before, "config.yaml": (tmp_path / "config.yaml").read_bytes()}


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_damaged_checkpoint_is_refused(tmp_path, damage):
    path = tmp_path / "model.pth"
    torch.save({"w": torch.arange(1000.0)}, path)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"\x80\x04junk" * 50}[damage])
    with pytest.raises(CheckpointFileError, match=f"checkpoint {path}: the file is truncated, corrupt"):
        load_state_dict_file(path)
