import json

import numpy as np
import pytest
import soundfile as sf
import torch

from espnet2_tisdiss.adaptive_depth import AutoDepth
from espnet2_tisdiss.inference.model_loading import load_from_files
from espnet2_tisdiss.inference.core import end_padding, separate_depths
from espnet2_tisdiss.output_level import match_mixture_level
from espnet2_tisdiss.stages.decode import decode_set



def load_model(config, weights):
    return load_from_files(config, weights).model


@pytest.fixture
def trained(tiny_model_files):
    return tiny_model_files


def test_one_pass_equals_separate_runs_at_each_depth(trained):
    model = load_model(*trained)
    mixture = np.random.randn(2400).astype("float32")
    result = separate_depths(model, mixture, [1, 3])
    outputs, seconds = result.waves, result.seconds
    assert sorted(outputs) == [1, 3] and sorted(seconds) == [1, 3]
    assert result.auto_depth is None and result.changes == []
    assert seconds[3] > seconds[1] > 0
    for depth in (1, 3):
        model.separator.inference_reps = depth
        with torch.no_grad():
            wave = torch.from_numpy(mixture)[None]
            padded = torch.nn.functional.pad(wave, (0, end_padding(model)))  # one hop more, trimmed below
            lengths = torch.tensor([padded.shape[1]])
            spec, flens = model.encoder(padded / wave.std(), lengths)
            specs, _, _ = model.separator(spec, flens)
            direct = [model.decoder(s, lengths)[0][0, :2400].numpy() for s in specs]
        direct = match_mixture_level(direct, mixture)
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


def test_decode_set_refuses_wrong_rate_multichannel_nan_and_missing(trained, tmp_path):
    model = load_model(*trained)
    sf.write(tmp_path / "hi.wav", np.zeros(1600), 16000)
    with pytest.raises(ValueError, match="16000 Hz but the model expects 8000 Hz"):
        decode_set(model, {"hi": str(tmp_path / "hi.wav")}, tmp_path / "o", [1], fs=8000)
    sf.write(tmp_path / "st.wav", np.zeros((1600, 2)), 8000)
    with pytest.raises(ValueError, match="^st: .*st.wav: has 2 channels"):
        decode_set(model, {"st": str(tmp_path / "st.wav")}, tmp_path / "o", [1], fs=8000)
    sf.write(tmp_path / "nan.wav", np.full(1600, np.nan, dtype="float32"), 8000, subtype="FLOAT")
    with pytest.raises(ValueError, match="^nan: .*nan.wav: contains NaN"):
        decode_set(model, {"nan": str(tmp_path / "nan.wav")}, tmp_path / "o", [1], fs=8000)
    with pytest.raises(ValueError, match="^gone: .*gone.wav: no such file"):
        decode_set(model, {"gone": str(tmp_path / "gone.wav")}, tmp_path / "o", [1], fs=8000)


def test_auto_depth_in_the_same_pass(trained):
    model = load_model(*trained)
    mixture = np.random.randn(2400).astype("float32")
    strict = separate_depths(model, mixture, [1, "auto"], auto=AutoDepth(max_reps=3, threshold=1e-9))
    assert strict.auto_depth == 3 and sorted(strict.waves, key=str) == [1, "auto"]
    assert len(strict.changes) == 2 and min(strict.changes) > 0
    full = separate_depths(model, mixture, [3])
    for auto, fixed in zip(strict.waves["auto"], full.waves[3]):
        assert np.allclose(auto, fixed, atol=1e-6)
    assert strict.seconds["auto"] > strict.seconds[1] > 0
    loose = separate_depths(model, mixture, [4, "auto"], auto=AutoDepth(max_reps=8, threshold=1e3))
    assert loose.auto_depth == 2 and sorted(loose.waves, key=str) == [4, "auto"]


def test_decode_set_writes_reps_auto_with_the_depth_used(trained, tmp_path):
    model = load_model(*trained)
    wavs = {}
    for utt in ("a", "b"):
        sf.write(tmp_path / f"{utt}.wav", np.random.randn(1600) * 0.1, 8000)
        wavs[utt] = str(tmp_path / f"{utt}.wav")
    out = tmp_path / "decode"
    timing = decode_set(model, wavs, out, [2, "auto"], fs=8000, auto=AutoDepth(max_reps=3, threshold=1e-9))
    assert sorted(p.name for p in out.iterdir()) == ["reps2", "reps_auto", "timing.json"]
    assert list(timing["seconds"]) == ["2", "auto"]
    assert (out / "reps_auto/utt2depth").read_text() == "a 3\nb 3\n"
    assert sf.info(out / "reps_auto/wavs/2/b.wav").frames == 1600
    assert [line.split()[0] for line in (out / "reps_auto/spk1.scp").read_text().splitlines()] == ["a", "b"]


@pytest.mark.parametrize("level", [0.0, 0.25])  # digital silence, and a constant (DC) signal
def test_silent_or_constant_utterance_gives_silence_and_a_log_line(trained, tmp_path, caplog, level):
    model = load_model(*trained)
    sf.write(tmp_path / "quiet.wav", np.full(1600, level), 8000, subtype="FLOAT")
    sf.write(tmp_path / "loud.wav", np.random.randn(1600) * 0.1, 8000)
    wavs = {"quiet": str(tmp_path / "quiet.wav"), "loud": str(tmp_path / "loud.wav")}
    with caplog.at_level("WARNING"):
        decode_set(model, wavs, tmp_path / "o", [1, 3, "auto"], fs=8000)
    assert "quiet: the mixture" in caplog.text and "is silent or constant" in caplog.text
    assert "loud" not in caplog.text
    for folder in ("reps1", "reps3", "reps_auto"):
        for j in (1, 2):
            quiet = sf.read(tmp_path / f"o/{folder}/wavs/{j}/quiet.wav")[0]
            loud = sf.read(tmp_path / f"o/{folder}/wavs/{j}/loud.wav")[0]
            assert quiet.shape == (1600,) and not quiet.any()  # exact silence, not NaN
            assert np.isfinite(loud).all() and loud.any()
