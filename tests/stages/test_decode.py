import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet2_tisdiss.stages.decode import decode_set, load_model, separate_depths
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture
def trained(tmp_path):
    """A tiny model's config.yaml and weights, as training would leave them."""
    config = yaml.safe_load((CONF / "tisdiss_tiny.yaml").read_text())
    config.setdefault("init", None)
    model = TISDiSSEnhancementTask.build_model(argparse.Namespace(**config))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    torch.save(model.state_dict(), tmp_path / "model.pth")
    return tmp_path / "config.yaml", tmp_path / "model.pth"


def test_one_pass_equals_separate_runs_at_each_depth(trained):
    model = load_model(*trained)
    mixture = np.random.randn(2400).astype("float32")
    outputs, seconds = separate_depths(model, mixture, [1, 3])
    assert sorted(outputs) == [1, 3] and sorted(seconds) == [1, 3]
    assert seconds[3] > seconds[1] > 0
    for depth in (1, 3):
        model.separator.inference_reps = depth
        with torch.no_grad():
            wave = torch.from_numpy(mixture)[None]
            spec, flens = model.encoder(wave / wave.std(), torch.tensor([2400]))
            specs, _, _ = model.separator(spec, flens)
            direct = [model.decoder(s, torch.tensor([2400]))[0][0].numpy() * wave.std().item() for s in specs]
        for ours, theirs in zip(outputs[depth], direct):
            assert ours.shape == (2400,)
            assert np.allclose(ours, theirs, atol=1e-5)


def test_decode_set_writes_every_depth(trained, tmp_path):
    model = load_model(*trained)
    wavs = {}
    for utt, samples in (("a", 1600), ("b", 3000)):
        sf.write(tmp_path / f"{utt}.wav", np.random.randn(samples) * 0.1, 8000)
        wavs[utt] = str(tmp_path / f"{utt}.wav")
    out = tmp_path / "decode"
    (out / "reps9").mkdir(parents=True)  # stale output of an earlier run
    timing = decode_set(model, wavs, out, [2, 4], fs=8000)
    assert sorted(p.name for p in out.iterdir()) == ["reps2", "reps4", "timing.json"]
    assert json.loads((out / "timing.json").read_text()) == timing
    assert timing["audio_seconds"] == pytest.approx((1600 + 3000) / 8000)
    for depth in (2, 4):
        for j in (1, 2):
            lines = (out / f"reps{depth}/spk{j}.scp").read_text().splitlines()
            assert [line.split()[0] for line in lines] == ["a", "b"]
            assert sf.info(out / f"reps{depth}/wavs/{j}/b.wav").frames == 3000


def test_decode_set_refuses_wrong_rate_and_multichannel(trained, tmp_path):
    model = load_model(*trained)
    sf.write(tmp_path / "hi.wav", np.zeros(1600), 16000)
    with pytest.raises(ValueError, match="16000 Hz but the model expects 8000 Hz"):
        decode_set(model, {"hi": str(tmp_path / "hi.wav")}, tmp_path / "o", [1], fs=8000)
    sf.write(tmp_path / "st.wav", np.zeros((1600, 2)), 8000)
    with pytest.raises(ValueError, match="has 2 channels"):
        decode_set(model, {"st": str(tmp_path / "st.wav")}, tmp_path / "o", [1], fs=8000)
