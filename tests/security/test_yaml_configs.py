"""YAML configs with code-running tags, through every entry point that reads a config.

PyYAML's safe loader must refuse ``!!python/object/apply:os.system``: the
payload's marker file stays absent and nothing is written.
"""

import pytest
import yaml

from espnet2_tisdiss.bin import convert_authors_model, enh_inference, separate_depths
from espnet2_tisdiss.fileio.safe_yaml import ConfigFileError, load_yaml_mapping
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask
from tests.security.hostile import evil_torch_checkpoint, evil_yaml


@pytest.fixture
def evil(tmp_path):
    """(the hostile config, the marker its payload would create)."""
    marker = tmp_path / "marker"
    return evil_yaml(tmp_path / "config.yaml", marker), marker


def test_the_payload_is_live(evil):
    """Control: an unsafe loader runs the payload, so the refusals below mean something."""
    path, marker = evil
    yaml.unsafe_load(path.read_text())
    assert marker.exists()


def test_load_yaml_mapping_refuses_tags_and_non_mappings(evil, tmp_path):
    path, marker = evil
    with pytest.raises(ConfigFileError, match=rf"cannot read config {path}: it is not plain YAML .*"
                                              r"python/object/apply:os.system"):
        load_yaml_mapping(path)
    assert not marker.exists()
    (tmp_path / "list.yaml").write_text("- a\n- b\n")
    with pytest.raises(ConfigFileError, match="list.yaml must be a YAML mapping .*got list"):
        load_yaml_mapping(tmp_path / "list.yaml")
    with pytest.raises(ConfigFileError, match="does not exist"):
        load_yaml_mapping(tmp_path / "absent.yaml")


def test_convert_cli_refuses_a_code_running_config(evil, tmp_path):
    path, marker = evil
    checkpoint = evil_torch_checkpoint(tmp_path / "evil.pth", marker)
    with pytest.raises(SystemExit) as exit_info:
        convert_authors_model.main(["--config", str(path), "--checkpoint", str(checkpoint),
                                    "--output_dir", str(tmp_path / "out")])
    assert str(exit_info.value.code).startswith(f"error: cannot read the authors' config {path}: it is not plain YAML")
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_enh_inference_refuses_a_code_running_inference_config(evil):
    path, marker = evil
    with pytest.raises(SystemExit) as exit_info:
        enh_inference.main(["--inference_reps", "2", "--inference_config", str(path)])
    assert str(exit_info.value.code).startswith(f"error: cannot read inference config {path}")
    assert not marker.exists()


def test_espnet_build_model_from_file_uses_the_safe_loader(evil):
    """ESPnet's own loader (enh_inference, training resume) reads config.yaml with yaml.safe_load."""
    path, marker = evil
    with pytest.raises(yaml.constructor.ConstructorError, match="python/object/apply:os.system"):
        TISDiSSEnhancementTask.build_model_from_file(config_file=path)
    assert not marker.exists()


def test_separate_depths_refuses_a_code_running_train_config(evil, tmp_path):
    """Read by stages/decode.py with yaml.safe_load: refused (as a YAML error) before any weight is read."""
    path, marker = evil
    weights = evil_torch_checkpoint(tmp_path / "evil.pth", marker)
    (tmp_path / "mix.wav").write_bytes(b"")
    with pytest.raises((yaml.YAMLError, SystemExit), match="python/object/apply:os.system"):
        separate_depths.main(["--train_config", str(path), "--model_file", str(weights),
                              "--wav", str(tmp_path / "mix.wav"), "--output_dir", str(tmp_path / "out")])
    assert not marker.exists() and not (tmp_path / "out").exists()
