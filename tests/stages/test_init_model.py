"""Stage 4's --init_param: every kind of trained model becomes ESPnet's init_param value."""

import pytest
import torch

from espnet2_tisdiss.fileio.checkpoint import CheckpointFileError
from espnet2_tisdiss.fileio.model_archive import pack_model
from espnet2_tisdiss.stages.init_model import init_param, main


@pytest.fixture
def weights(tmp_path):
    model = {"separator.w": torch.ones(2), "encoder.x": torch.zeros(1)}
    torch.save(model, tmp_path / "model.pth")
    (tmp_path / "config.yaml").write_text("separator: tisdiss\n")
    return tmp_path / "model.pth"


def test_pth_folder_and_packed_model(weights, tmp_path):
    assert init_param(str(weights), tmp_path / "work") == str(weights.resolve())
    assert init_param(str(tmp_path), tmp_path / "work") == str(weights.resolve())  # a folder with model.pth
    packed = pack_model(tmp_path / "config.yaml", weights, tmp_path / "packed.tar.gz")
    unpacked = init_param(str(packed), tmp_path / "work")
    assert unpacked == str((tmp_path / "work/model.pth").resolve())
    assert torch.equal(torch.load(unpacked, weights_only=True)["separator.w"], torch.ones(2))
    assert init_param(str(packed), tmp_path / "work") == unpacked  # a rerun (resume) unpacks afresh


def test_bare_separator_and_espnet_spec(weights, tmp_path):
    torch.save({"w": torch.ones(2)}, tmp_path / "sep.pth")
    assert init_param(str(tmp_path / "sep.pth"), tmp_path / "work").endswith("sep.pth::separator")
    spec = f"{weights}:separator:separator"
    assert init_param(spec, tmp_path / "work") == spec


def test_refusals(tmp_path, capsys):
    with pytest.raises(ValueError, match="holds no model.pth"):
        init_param(str(tmp_path), tmp_path / "work")
    with pytest.raises(ValueError, match="nothing.pth does not exist"):
        init_param(str(tmp_path / "nothing.pth"), tmp_path / "work")
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointFileError):
        init_param(str(tmp_path / "bad.pth"), tmp_path / "work")
    assert main(["--source", str(tmp_path / "bad.pth"), "--work_dir", str(tmp_path / "w")]) == 1
    assert "error: --init_param" in capsys.readouterr().err
