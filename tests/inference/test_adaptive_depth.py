"""Adaptive depth: stops once the decoded estimate stops changing, never beyond max_reps."""

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from espnet2_tisdiss.adaptive_depth import AutoDepth, ConvergenceCheck
from espnet2_tisdiss.inference.core import separate_depths
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

CONF = Path(__file__).resolve().parents[2] / "conf"


@pytest.fixture(scope="module")
def model():
    """A tiny TISDiSS enhancement model with random weights."""
    config = yaml.safe_load((CONF / "tisdiss_tiny.yaml").read_text())
    torch.manual_seed(0)
    return TISDiSSEnhancementTask.build_model(argparse.Namespace(**{**config, "init": None})).eval()


MIXTURE = np.random.default_rng(0).standard_normal(2400).astype("float32")


def changes_over_depth(model, max_reps):
    """The relative change at depths 2..max_reps, measured by the core's auto loop."""
    result = separate_depths(model, MIXTURE, ["auto"], auto=AutoDepth(max_reps, threshold=1e-12))
    assert result.auto_depth == max_reps and len(result.changes) == max_reps - 1
    return result.changes


def test_stops_at_first_depth_below_threshold_and_returns_that_depths_output(model):
    changes = changes_over_depth(model, 10)  # changes[i]: depth i + 2 vs i + 1
    threshold = (changes[2] + changes[3]) / 2 if changes[3] < changes[2] else None
    assert threshold is not None and all(c >= threshold for c in changes[:3])
    auto = separate_depths(model, MIXTURE, ["auto"], auto=AutoDepth(10, threshold))
    assert auto.auto_depth == 5 and auto.changes == pytest.approx(changes[:4])
    fixed = separate_depths(model, MIXTURE, [5]).waves[5]
    for ours, theirs in zip(auto.waves["auto"], fixed):
        np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_stops_at_depth_two_at_the_earliest_and_at_max_reps_at_the_latest(model):
    changes = changes_over_depth(model, 8)
    early = separate_depths(model, MIXTURE, ["auto"], auto=AutoDepth(8, max(changes) * 2))
    late = separate_depths(model, MIXTURE, ["auto"], auto=AutoDepth(8, min(changes) / 2))
    assert early.auto_depth == 2  # the first depth with a change to measure
    assert late.auto_depth == 8  # stopped by max_reps, not beyond


def test_max_reps_one_runs_one_repetition(model):
    result = separate_depths(model, MIXTURE, ["auto"], auto=AutoDepth(1, 0.5))
    assert result.auto_depth == 1 and len(result.waves["auto"]) == model.separator.num_spk
    np.testing.assert_allclose(result.waves["auto"][0], separate_depths(model, MIXTURE, [1]).waves[1][0],
                               atol=1e-6)


def test_convergence_check_measures_relative_change():
    check = ConvergenceCheck(threshold=0.1)
    base = [torch.ones(1, 3, 4, dtype=torch.complex64), torch.ones(1, 3, 4, dtype=torch.complex64)]
    assert check.update(base) is False and check.changes == []  # nothing to compare yet
    assert check.update([b * 1.05 for b in base]) is True
    assert check.changes == [pytest.approx(0.05, rel=1e-5)]
    assert check.update([b * 2.0 for b in base]) is False


@pytest.mark.parametrize("options,message", [
    (dict(max_reps=0), "max_reps must be an integer >= 1"),
    (dict(max_reps=2.5), "max_reps must be an integer >= 1"),
    (dict(threshold=0.0), "auto threshold must be > 0"),
])
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        AutoDepth(**options)
