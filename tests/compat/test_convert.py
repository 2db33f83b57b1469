"""Convert an authors'-format experiment and load it with ESPnet's own loader."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml
from espnet2.tasks.enh import EnhancementTask

import espnet2_tisdiss.tasks  # noqa: F401
from espnet2_tisdiss.bin import convert_authors_model
from espnet2_tisdiss.fileio.checkpoint import load_state_dict_file

REPO = Path(__file__).resolve().parents[2]


def full_config() -> dict:
    """A complete ESPnet enhancement config, as a training run writes it."""
    out = subprocess.run(
        [sys.executable, "-m", "espnet2_tisdiss.bin.enh_train", "--config",
         str(REPO / "conf/tisdiss_tiny.yaml"), "--print_config"],
        capture_output=True, text=True, check=True,
    ).stdout
    return yaml.safe_load(out)


@pytest.fixture(scope="module")
def authors_experiment(tmp_path_factory):
    from tests.conftest import REFERENCE_DIR

    if not REFERENCE_DIR.is_dir():
        pytest.skip("reference fixture not found")
    meta = json.loads((REFERENCE_DIR / "meta.json").read_text())
    config = full_config()
    config["separator"] = "tisdiss"
    config["separator_conf"] = meta["separator_conf"]
    config["criterions"] = [{"name": "si_snr", "conf": {}, "wrapper": "pit",
                             "wrapper_conf": {"weight": 1.0, "independent_perm": True}}]
    root = tmp_path_factory.mktemp("authors")
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    state = load_state_dict_file(REFERENCE_DIR / "reference_state_dict.pt")
    torch.save({f"separator.{k}": v for k, v in state.items()}, root / "valid.loss.ave_5best.pth")
    return root


def test_converted_model_loads_in_stock_espnet_and_matches_authors(authors_experiment, tmp_path):
    from tests.conftest import REFERENCE_DIR

    convert_authors_model.main(["--config", str(authors_experiment / "config.yaml"),
                                "--checkpoint", str(authors_experiment / "valid.loss.ave_5best.pth"),
                                "--output_dir", str(tmp_path)])
    config = yaml.safe_load((tmp_path / "config.yaml").read_text())
    assert config["separator"] == "tisdiss" and config["separator_conf"]["n_re"] == 6
    assert config["criterions"][0]["wrapper"] == "early_split_pit"
    model, _ = EnhancementTask.build_model_from_file(tmp_path / "config.yaml", tmp_path / "model.pth", "cpu")
    io = torch.load(REFERENCE_DIR / "io.pt", weights_only=True)
    sep = model.separator.eval()
    sep.inference_reps = 1
    with torch.no_grad():
        out, _, _ = sep(io["input"], io["ilens"])
    ref = io["eval_reps1"]
    assert ((torch.stack(out, 1) - ref).abs().max() / ref.abs().max()) < 1e-3


def test_wrong_checkpoint_stops_before_writing(authors_experiment, tmp_path):
    bad = tmp_path / "bad.pth"
    state = torch.load(authors_experiment / "valid.loss.ave_5best.pth", weights_only=True)
    del state["separator.conv.0.weight"]
    torch.save(state, bad)
    out = tmp_path / "out"
    with pytest.raises(SystemExit, match=r"missing keys \['encoder.conv.weight'\]"):
        convert_authors_model.main(["--config", str(authors_experiment / "config.yaml"),
                                    "--checkpoint", str(bad), "--output_dir", str(out)])
    assert not out.exists()


def test_not_a_tisdiss_config(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"separator": "tfgridnetv2", "separator_conf": {}}))
    with pytest.raises(SystemExit, match="Not a TISDiSS config"):
        convert_authors_model.main(["--config", str(path), "--checkpoint", str(path),
                                    "--output_dir", str(tmp_path / "o")])
