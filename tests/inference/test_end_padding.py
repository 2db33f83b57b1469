"""The separation core pads the mixture by one STFT hop at the end, for every STFT-based model."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from espnet2_tisdiss.inference.core import end_padding, separate_depths
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

CONF = Path(__file__).resolve().parents[2] / "conf"


def build(tmp_path, name):
    config = tmp_path / name
    shutil.copy(CONF / name, config)
    args = TISDiSSEnhancementTask.get_parser().parse_args(["--config", str(config)])
    return TISDiSSEnhancementTask.build_model(args).eval()


@pytest.mark.parametrize("name", ["tisdiss_mini.yaml", "tfgridnet_mini.yaml"])
def test_the_model_sees_one_hop_more_and_returns_the_input_length(tmp_path, name):
    """TISDiSS's STFT is the model's encoder; TF-GridNet's is inside its separator."""
    model = build(tmp_path, name)
    assert end_padding(model) == 128  # both configs: n_fft 256, hop 128
    seen = []
    model.encoder.register_forward_pre_hook(lambda module, args: seen.append(args[0].shape))
    mixture = np.random.default_rng(0).standard_normal(4001).astype(np.float32)
    outputs = separate_depths(model, mixture, [1])
    assert seen[0][-1] == 4001 + 128  # the wave given to the model (its encoder comes first)
    assert [len(w) for w in outputs.waves[1]] == [4001, 4001]
