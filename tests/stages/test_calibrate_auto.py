"""Calibration of depth "auto": the threshold follows from the depth tables of a validation set."""

import json

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.bin import calibrate_auto as cli
from espnet2_tisdiss.stages.calibrate_auto import auto_depths, choose_threshold


def test_auto_depths_stop_at_the_first_change_below_the_threshold():
    changes = np.array([[0.5, 0.2, 0.05], [0.5, 0.4, 0.3]])  # depths 2, 3, 4
    assert auto_depths(changes, 0.1).tolist() == [4, 4]
    assert auto_depths(changes, 0.25).tolist() == [3, 4]
    assert auto_depths(changes, 0.45).tolist() == [3, 3]
    assert auto_depths(changes, 1.0).tolist() == [2, 2]


def test_threshold_is_the_shallowest_within_tolerance_of_the_best_depth():
    # Mixture 0 is easy: done at depth 2 (its change there is small). Mixture 1 gains up to depth 4.
    scores = np.array([[10.0, 12.0, 12.0, 12.0], [5.0, 6.0, 7.0, 8.0]])
    changes = np.array([[0.01, 0.001, 0.001], [0.3, 0.2, 0.1]])
    cal = choose_threshold(scores, changes, tolerance_db=0.05)
    assert cal.best_depth == 4 and cal.best_si_snr == pytest.approx(10.0)
    # Mixture 0 stops at 2 and mixture 1 runs to 4: best quality at mean depth 3, not 4.
    assert cal.si_snr == pytest.approx(10.0) and cal.mean_depth == pytest.approx(3.0)
    assert auto_depths(changes, cal.threshold).tolist() == [2, 4]
    # A looser tolerance buys a shallower depth for mixture 1.
    loose = choose_threshold(scores, changes, tolerance_db=0.6)
    assert loose.threshold > cal.threshold and loose.mean_depth == pytest.approx(2.5)


def test_quality_falling_past_the_best_depth_gives_the_best_auto_quality():
    scores = np.array([[8.0, 10.0, 9.0], [8.0, 10.0, 9.0]])
    changes = np.array([[0.5, 0.4], [0.5, 0.4]])  # "auto" can only stop at 3 (overshoot) or 2
    cal = choose_threshold(scores, changes)
    assert cal.mean_depth == pytest.approx(2.0) and cal.si_snr == pytest.approx(10.0)


def test_cli_calibrates_a_model_on_a_data_dir(tiny_model_files, tmp_path):
    config, weights = tiny_model_files
    data = tmp_path / "dev"
    data.mkdir()
    rng = np.random.default_rng(0)
    for j in (1, 2):
        lines = []
        for utt in ("u1", "u2"):
            sf.write(tmp_path / f"{utt}_s{j}.wav", rng.standard_normal(2400) * 0.1, 8000)
            lines.append(f"{utt} {tmp_path / f'{utt}_s{j}.wav'}\n")
        (data / f"spk{j}.scp").write_text("".join(lines))
    lines = []
    for utt in ("u1", "u2"):
        mix = sum(sf.read(tmp_path / f"{utt}_s{j}.wav")[0] for j in (1, 2))
        sf.write(tmp_path / f"{utt}_mix.wav", mix, 8000)
        lines.append(f"{utt} {tmp_path / f'{utt}_mix.wav'}\n")
    (data / "wav.scp").write_text("".join(lines))
    out = tmp_path / "cal.json"
    cli.main(["--train_config", str(config), "--model_file", str(weights), "--data_dir", str(data),
              "--output", str(out), "--max_reps", "4"])
    cal = json.loads(out.read_text())
    assert cal["num_utts"] == 2 and len(cal["fixed_si_snr"]) == 4 and cal["threshold"] > 0
    assert 2 <= cal["mean_depth"] <= 4
    assert cal["si_snr"] >= max(cal["fixed_si_snr"]) - 0.05 or cal["mean_depth"] < 4
    with pytest.raises(SystemExit, match="no spk1.scp"):
        (data / "spk1.scp").unlink()
        cli.main(["--train_config", str(config), "--model_file", str(weights), "--data_dir", str(data),
                  "--output", str(out)])
