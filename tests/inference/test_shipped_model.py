"""The model shipped in the package, mini_2mix: loadable by name, documented, and better with depth."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet2_tisdiss import pretrained
from espnet2_tisdiss.inference import Separator
from espnet2_tisdiss.stages.scoring import si_snr_matrix

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture(scope="module")
def separator():
    return Separator.from_pretrained("mini_2mix")


def test_registry_files_are_there_and_small():
    archive = pretrained.archive("mini_2mix")
    assert archive.is_file() and archive.stat().st_size < 10e6
    card = pretrained.model_card("mini_2mix").read_text()
    for fact in ("eSpeak", "synthetic", "real recordings", "conf/tisdiss_mini.yaml", "./run.sh"):
        assert fact in card, fact
    assert pretrained.archive("no_such_model") is None
    assert "mini_2mix" in pretrained.listing()


def test_loads_by_name_with_the_shipped_config_and_a_calibrated_threshold(separator):
    assert separator.fs == 8000 and separator.num_spk == 2 and separator.source == "mini_2mix"
    shipped = yaml.safe_load((CONF / "tisdiss_mini.yaml").read_text())["separator_conf"]
    sep = separator.model.separator
    assert (sep.n_sep, sep.n_re) == (shipped["n_sep"], shipped["n_re"]) == (1, 3)
    assert sum(p.numel() for p in sep.parameters()) > 0.3e6
    assert separator.auto_threshold != 0.01  # calibrated on the dev set, read from meta.yaml


def si_snr_improvement(mix, refs, ests):
    length = min(len(mix), refs.shape[1], ests.shape[1])
    refs, ests, mix = refs[:, :length], ests[:, :length], mix[:length]
    matrix = si_snr_matrix(refs, ests)
    base = np.diag(si_snr_matrix(refs, np.stack([mix, mix])))
    return float(max(matrix[0, 0] + matrix[1, 1], matrix[0, 1] + matrix[1, 0]) / 2 - base.mean())


def test_examples_separate_and_improve_with_depth(separator):
    examples = pretrained.examples()
    mixtures = [p for p in examples if p.stem.endswith("_mix")]
    assert len(mixtures) >= 2
    gains = []
    for mix_path in mixtures:
        mix, fs = sf.read(mix_path, dtype="float32")
        assert fs == 8000 and mix.ndim == 1
        refs = np.stack([sf.read(str(mix_path).replace("_mix.wav", f"_s{j}.wav"), dtype="float32")[0]
                         for j in (1, 2)])
        gains.append([si_snr_improvement(mix, refs, np.stack(separator(mix, fs, inference_reps=k)))
                      for k in (1, 3)])
    gains = np.array(gains)  # [examples, depth 1 / 3]
    assert gains[:, 1].mean() > 5.0, gains
    assert gains[:, 1].mean() > gains[:, 0].mean(), gains


def test_cli_separates_with_the_shipped_model_by_name_at_the_speakers_level(tmp_path):
    """Two files, the input's length, and each speaker's level in the mixture (an SI-SNR-trained
    model outputs any level)."""
    mix = next(p for p in pretrained.examples() if p.stem.endswith("_mix"))
    script = Path(sys.executable).with_name("tisdiss-separate")
    done = subprocess.run([str(script), "--model", "mini_2mix", str(mix), "--output_dir", str(tmp_path),
                           "--inference_reps", "auto"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    outputs = sorted(p.name for p in tmp_path.iterdir())
    assert outputs == [f"{mix.stem}_spk1.wav", f"{mix.stem}_spk2.wav"]
    assert sf.info(tmp_path / outputs[0]).frames == sf.info(mix).frames
    ests = [sf.read(tmp_path / name, dtype="float64")[0] for name in outputs]
    refs = [sf.read(str(mix).replace("_mix.wav", f"_s{j}.wav"), dtype="float64")[0] for j in (1, 2)]
    est_levels = sorted(float(np.sqrt(np.mean(e ** 2))) for e in ests)
    ref_levels = sorted(float(np.sqrt(np.mean(r ** 2))) for r in refs)
    for est, ref in zip(est_levels, ref_levels):
        assert 0.7 * ref < est < 1.3 * ref, (est_levels, ref_levels)
    assert max(np.abs(e).max() for e in ests) <= 1.0


@pytest.mark.parametrize("example, length", [("test_mix", 10495), ("test_unseen_mix", 25087)])
def test_no_click_at_the_end_of_the_output(separator, example, length):
    """The last 16 ms stay at the level of the rest. Cut at these lengths, the examples made the
    inverse STFT's fading window envelope amplify the model's error there to 30-45x the
    signal's peak, until the core padded the mixture by one hop before its STFT."""
    path = next(p for p in pretrained.examples() if p.stem == example)
    mix = sf.read(path, dtype="float32")[0][:length]
    for depth in (1, 3):
        for stream in separator(mix, 8000, inference_reps=depth):
            assert len(stream) == length
            tail, body = np.abs(stream[-128:]).max(), np.abs(stream[:-128]).max()
            assert tail < 2 * body, (depth, tail / body)
