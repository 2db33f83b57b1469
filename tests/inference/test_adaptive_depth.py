"""Adaptive depth: stops once the decoded estimate stops changing, never beyond max_reps."""

import pytest
import torch

from espnet2_tisdiss.inference.adaptive_depth import AutoDepth, ConvergenceCheck, reconstruct_until_stable
from espnet2_tisdiss.separator import TISDiSSSeparator
from tests.conftest import TINY, random_stft


@pytest.fixture
def separator_and_streams():
    separator = TISDiSSSeparator(9, **TINY).eval()
    with torch.no_grad():
        streams = separator.encode_and_split(random_stft(batch=1, frames=11))  # [1, J, C, T, F]
    return separator, streams


def changes_over_depth(separator, streams, max_reps):
    check = ConvergenceCheck(threshold=1e-9)
    for current in separator.reconstruct(streams, max_reps):
        check.update(separator.decode(current))
    return check.changes


@torch.no_grad()
def test_easy_input_stops_earlier_than_hard(separator_and_streams):
    # Every residual path of the reconstruction block is pre-normalised, so its
    # update has a bounded size: streams of a large scale sit near a fixed point
    # (easy), streams of a small scale keep changing (hard).
    separator, streams = separator_and_streams
    easy, hard = streams * 1000.0, streams * 0.1
    options = AutoDepth(max_reps=8, threshold=0.01)
    easy_changes, hard_changes = (changes_over_depth(separator, s, 8) for s in (easy, hard))
    assert max(easy_changes) < 0.01 < min(hard_changes)  # the premise of the test holds
    _, easy_depth = reconstruct_until_stable(separator, easy, options)
    _, hard_depth = reconstruct_until_stable(separator, hard, options)
    assert easy_depth == 2  # the first depth with a change to measure
    assert hard_depth == 8  # stopped by max_reps, not beyond


@torch.no_grad()
def test_stops_at_first_depth_below_threshold_and_returns_that_depths_output(separator_and_streams):
    separator, streams = separator_and_streams
    changes = changes_over_depth(separator, streams, 10)  # changes[i]: depth i + 2 vs i + 1
    threshold = (changes[2] + changes[3]) / 2 if changes[3] < changes[2] else None
    assert threshold is not None and all(c >= threshold for c in changes[:3])
    spectra, depth = reconstruct_until_stable(separator, streams, AutoDepth(10, threshold))
    assert depth == 5
    separator.inference_reps = 5
    for current in separator.reconstruct(streams, 5):
        pass
    for ours, fixed in zip(spectra, separator.decode(current)):
        torch.testing.assert_close(ours, fixed)


@torch.no_grad()
def test_max_reps_one_runs_one_repetition(separator_and_streams):
    separator, streams = separator_and_streams
    spectra, depth = reconstruct_until_stable(separator, streams, AutoDepth(1, 0.5))
    assert depth == 1 and len(spectra) == separator.num_spk


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
