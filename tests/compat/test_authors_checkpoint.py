import json

import pytest
import torch

from espnet2_tisdiss.compat import CheckpointMismatchError, separator_from_authors
from espnet2_tisdiss.compat.options import options_from_authors
from espnet2_tisdiss.fileio.checkpoint import CheckpointFileError, load_state_dict_file


@pytest.fixture(scope="module")
def authors(request):
    from tests.conftest import REFERENCE_DIR

    if not REFERENCE_DIR.is_dir():
        pytest.skip("reference fixture not found")
    meta = json.loads((REFERENCE_DIR / "meta.json").read_text())
    return meta["separator_conf"], load_state_dict_file(REFERENCE_DIR / "reference_state_dict.pt")


def test_options_are_renamed():
    ours = options_from_authors(
        {"encoder_repeat_times": 3, "reconstructor_repeat_times": 4, "conv1d_kernel": 5,
         "ffn_hidden_dim": [64, 64], "repeat_residual_module": True,
         "reconstructor_repeat_residual_module": False, "spliter_loss": True}
    )
    assert ours == {"n_sep": 3, "n_re": 4, "ffn_kernel_size": 5, "ffn_hidden_dim": 64,
                    "attention_dim": 128}


@pytest.mark.parametrize(
    "conf,message",
    [
        ({"band_split": True}, "band_split"),
        ({"tf_order": "tf"}, "tf_order"),
        ({"repeat_residual_module": False}, "repeat_residual_module"),
        ({"ffn_hidden_dim": [64, 128]}, "ffn_hidden_dim"),
        ({"my_option": 1}, "my_option"),
    ],
)
def test_unsupported_authors_options(conf, message):
    base = {"repeat_residual_module": True, "reconstructor_repeat_residual_module": False}
    with pytest.raises(ValueError, match=message):
        options_from_authors({**base, **conf})


def test_whole_model_state_dict_with_separator_prefix(authors):
    conf, state = authors
    prefixed = {f"separator.{k}": v for k, v in state.items()}
    sep = separator_from_authors(conf, prefixed)
    assert torch.equal(sep.encoder.conv.weight, state["conv.0.weight"])
    assert torch.equal(
        sep.reconstruction_block[0].time_path.pre_ffn.conv.weight,
        state["reconstructor_blocks.0.frame_path.ffn.1.conv1d.weight"],
    )


def test_missing_key_is_named(authors):
    conf, state = authors
    state = dict(state)
    del state["spk_spliter.deconv2d.bias"]
    with pytest.raises(CheckpointMismatchError, match=r"missing keys \['splitter.deconv.bias'\]"):
        separator_from_authors(conf, state)


def test_unexpected_key_is_named(authors):
    conf, state = authors
    state = {**state, "extra.weight": torch.zeros(1)}
    with pytest.raises(CheckpointMismatchError, match=r"unexpected keys \['extra.weight'\]"):
        separator_from_authors(conf, state)


def test_misshaped_key_is_named(authors):
    conf, state = authors
    bad = {**state, "conv.0.bias": torch.zeros(7)}
    with pytest.raises(
        CheckpointMismatchError,
        match=r"mis-shaped keys \['encoder.conv.bias: checkpoint \(7,\) vs model \(128,\)'\]",
    ):
        separator_from_authors(conf, bad)
    with pytest.raises(CheckpointMismatchError, match=r"\(\+\d+ more\)"):
        separator_from_authors({**conf, "emb_dim": 64, "attention_dim": 64}, state)


def test_truncated_checkpoint_file(tmp_path, authors):
    _, state = authors
    path = tmp_path / "model.pth"
    torch.save({k: state[k] for k in list(state)[:4]}, path)
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(CheckpointFileError, match="truncated, corrupt"):
        load_state_dict_file(path)


def test_garbage_and_missing_checkpoint_files(tmp_path):
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointFileError, match="truncated, corrupt"):
        load_state_dict_file(garbage)
    with pytest.raises(CheckpointFileError, match="does not exist"):
        load_state_dict_file(tmp_path / "nope.pth")
    not_a_dict = tmp_path / "list.pth"
    torch.save([torch.zeros(1)], not_a_dict)
    with pytest.raises(CheckpointFileError, match="not a state_dict"):
        load_state_dict_file(not_a_dict)


def test_pickled_code_is_refused(tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"w": torch.zeros(1), "obj": CheckpointFileError("x")}, path)
    with pytest.raises(CheckpointFileError, match="more than tensors"):
        load_state_dict_file(path)
