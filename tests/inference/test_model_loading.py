"""Loading models from every form they are shipped in, with errors that say what is missing."""

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml
from huggingface_hub import constants

from espnet2_tisdiss.compat import separator_from_authors
from espnet2_tisdiss.fileio.checkpoint import load_state_dict_file
from espnet2_tisdiss.inference.errors import ModelLoadError
from espnet2_tisdiss.inference.model_loading import find_model_files, load_from_files, load_pretrained
from tests.inference.tiny_model import CONF, tiny_config, write_model

AUTHORS = Path(__file__).resolve().parents[1] / "fixtures/authors_small/j3_emb24"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return write_model(tmp_path_factory.mktemp("tiny"))


def same_weights(model_a, model_b) -> bool:
    a, b = model_a.state_dict(), model_b.state_dict()
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_packed_archive_records_the_rate(files):
    loaded = load_pretrained(files["archive"])
    assert loaded.fs == 8000 and loaded.source == str(files["archive"])
    assert same_weights(loaded.model, load_from_files(files["config"], files["model"]).model)
    assert not loaded.model.training


def test_folder_layouts(files, tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    shutil.copy(files["config"], flat / "config.yaml")
    shutil.copy(files["model"], flat / "model.pth")
    assert find_model_files(flat)[:2] == (flat / "config.yaml", flat / "model.pth")
    assert load_pretrained(flat).fs is None  # nothing records it here
    assert load_pretrained(flat, fs=16000).fs == 16000

    uploaded = tmp_path / "uploaded"  # recipe stage 8's layout
    (uploaded / "exp/enh").mkdir(parents=True)
    shutil.copy(files["config"], uploaded / "exp/enh/config.yaml")
    shutil.copy(files["model"], uploaded / "exp/enh/model.pth")
    (uploaded / "meta.yaml").write_text(yaml.safe_dump({"fs": 8000}))
    assert load_pretrained(uploaded).fs == 8000

    zoo = tmp_path / "zoo"  # ESPnet model zoo: meta.yaml names the files
    (zoo / "exp/run").mkdir(parents=True)
    shutil.copy(files["config"], zoo / "exp/run/train.yaml")
    shutil.copy(files["model"], zoo / "exp/run/valid.loss.best.pth")
    (zoo / "meta.yaml").write_text(yaml.safe_dump({"yaml_files": {"train_config": "exp/run/train.yaml"},
                                                   "files": {"model_file": "exp/run/valid.loss.best.pth"}}))
    assert find_model_files(zoo)[:2] == (zoo / "exp/run/train.yaml", zoo / "exp/run/valid.loss.best.pth")


def test_config_fs_key_is_used(files, tmp_path):
    config = yaml.safe_load(files["config"].read_text())
    (tmp_path / "c.yaml").write_text(yaml.safe_dump({**config, "fs": 16000}))
    assert load_from_files(tmp_path / "c.yaml", files["model"]).fs == 16000


def test_folder_errors(files, tmp_path):
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(ModelLoadError, match=r"holds no model: expected config.yaml and model.pth.*notes.txt"):
        load_pretrained(tmp_path)
    (tmp_path / "meta.yaml").write_text(yaml.safe_dump({"yaml_files": {"train_config": "../../etc/x.yaml"},
                                                        "files": {"model_file": "model.pth"}}))
    with pytest.raises(ModelLoadError, match="names files outside the model folder"):
        load_pretrained(tmp_path)
    with pytest.raises(ModelLoadError, match="(?s)neither an existing file or folder, nor a Hugging Face Hub tag.*mini_2mix"):
        load_pretrained(tmp_path / "no such model")


def test_bad_files_are_named(files, tmp_path):
    (tmp_path / "junk.tar.gz").write_bytes(b"junk")
    with pytest.raises(ModelLoadError, match="junk.tar.gz"):
        load_pretrained(tmp_path / "junk.tar.gz")
    with pytest.raises(ModelLoadError, match="nope.yaml"):
        load_from_files(tmp_path / "nope.yaml", files["model"])
    wrong = write_model(tmp_path / "wider", tiny_config(emb_dim=24))
    with pytest.raises(ModelLoadError, match="mis-shaped keys"):
        load_from_files(files["config"], wrong["model"])


def test_any_enhancement_model_loads_but_only_tisdiss_separates(tmp_path):
    """One loader for every path: the decode stage also loads TF-GridNet; the Separator refuses it."""
    from espnet2_tisdiss.inference import Separator
    from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

    config = tmp_path / "config.yaml"
    shutil.copy(CONF / "tfgridnet_mini.yaml", config)
    model = TISDiSSEnhancementTask.build_model(TISDiSSEnhancementTask.get_parser().parse_args(["--config", str(config)]))
    torch.save(model.state_dict(), tmp_path / "model.pth")
    loaded = load_from_files(config, tmp_path / "model.pth", fs=8000)
    assert type(loaded.model.separator).__name__ == type(model.separator).__name__
    with pytest.raises(ModelLoadError, match="not TISDiSS; separate it with the recipe's decode stage"):
        Separator(loaded)


def test_inference_config_overrides_conf_keys(tmp_path):
    files = write_model(tmp_path / "m")
    (tmp_path / "deep.yaml").write_text("separator_conf:\n  inference_reps: 5\n")
    loaded = load_from_files(files["config"], files["model"], inference_config=tmp_path / "deep.yaml")
    assert loaded.model.separator.inference_reps == 5
    assert loaded.model.separator.n_re == load_from_files(files["config"], files["model"]).model.separator.n_re
    (tmp_path / "bad.yaml").write_text("optim: sgd\n")
    with pytest.raises(ModelLoadError, match=r"inference config keys \['optim'\] not allowed"):
        load_from_files(files["config"], files["model"], inference_config=tmp_path / "bad.yaml")


def test_authors_config_and_checkpoint(tmp_path):
    meta = json.loads((AUTHORS / "meta.json").read_text())
    authors_config = {**tiny_config(), "separator": "tisdiss", "separator_conf": meta["separator_conf"]}
    authors_config["criterions"] = [{"name": "si_snr", "conf": {}, "wrapper": "pit", "wrapper_conf": {}}]
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(authors_config))
    loaded = load_from_files(tmp_path / "config.yaml", AUTHORS / "reference_state_dict.pt", fs=8000)
    reference = separator_from_authors(meta["separator_conf"], load_state_dict_file(AUTHORS / "reference_state_dict.pt"))
    assert loaded.model.separator.num_spk == 3
    assert same_weights(loaded.model.separator, reference)


def write_hub_cache(cache: Path, repo_id: str, files) -> Path:
    """A Hugging Face cache holding one snapshot of ``repo_id`` in stage 8's layout."""
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / commit
    (snapshot / "exp/enh").mkdir(parents=True)
    shutil.copy(files["config"], snapshot / "exp/enh/config.yaml")
    shutil.copy(files["model"], snapshot / "exp/enh/model.pth")
    (snapshot / "meta.yaml").write_text(yaml.safe_dump({"fs": 8000}))
    (repo / "refs").mkdir()
    (repo / "refs/main").write_text(commit)
    return snapshot


def test_hub_tag_from_the_local_cache(files, tmp_path, monkeypatch):
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    write_hub_cache(tmp_path / "hub", "someone/tisdiss_tiny", files)
    loaded = load_pretrained("someone/tisdiss_tiny", local_files_only=True)
    assert loaded.fs == 8000 and loaded.source == "someone/tisdiss_tiny"
    assert same_weights(loaded.model, load_from_files(files["config"], files["model"]).model)
    with pytest.raises(ModelLoadError, match=r"'someone/other' is not in the local Hugging Face cache .*"
                                             r"offline mode is on.*huggingface-cli download someone/other"):
        load_pretrained("someone/other", local_files_only=True)
