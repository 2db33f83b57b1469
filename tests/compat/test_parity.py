"""Parity with the authors' implementation (../shared/fixtures/tisdiss_reference)."""

import json
from pathlib import Path

import pytest
import torch

from espnet2_tisdiss.compat import separator_from_authors
from espnet2_tisdiss.fileio.checkpoint import load_state_dict_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def max_rel_error(ours: torch.Tensor, reference: torch.Tensor) -> float:
    return ((ours - reference).abs().max() / reference.abs().max()).item()


def authors_separator(reference_dir):
    meta = json.loads((reference_dir / "meta.json").read_text())
    state = load_state_dict_file(reference_dir / "reference_state_dict.pt")
    io = torch.load(reference_dir / "io.pt", weights_only=True)
    return separator_from_authors(meta["separator_conf"], state), io


def assert_eval_depths_match(sep, io):
    """Depths 1, 3, 6 and 8 of one all-depths eval pass against the authors' outputs."""
    sep.eval()
    with torch.no_grad():
        depths = sep.forward_all_depths(io["input"], io["ilens"], max_reps=8)
    for n in (1, 3, 6, 8):
        assert max_rel_error(torch.stack(depths[n - 1], 1), io[f"eval_reps{n}"]) < 1e-3, f"depth {n}"


@pytest.mark.slow
def test_reproduces_authors_outputs(reference_dir):
    """The default (tuned CPU) layers: training-mode stages, every eval depth, the eval forward."""
    sep, io = authors_separator(reference_dir)
    spec, ilens = io["input"], io["ilens"]
    with torch.no_grad():
        sep.train()  # dropout is 0, so training mode is deterministic
        stages, _, _ = sep(spec, ilens)
        assert len(stages) == io["train_aux"].shape[0] + 1
        for i, stage in enumerate(stages[:-1]):
            assert max_rel_error(torch.stack(stage, 1), io["train_aux"][i]) < 1e-3, f"aux {i}"
        assert max_rel_error(torch.stack(stages[-1], 1), io["train_final"]) < 1e-3
    assert_eval_depths_match(sep, io)
    sep.inference_reps = 3  # the plain eval path too
    with torch.no_grad():
        out, _, _ = sep(spec, ilens)
    assert max_rel_error(torch.stack(out, 1), io["eval_reps3"]) < 1e-3


@pytest.mark.slow
def test_plain_layers_reproduce_authors_outputs(reference_dir):
    """The plain layers (what GPUs run) on the same fixture: one eval pass over depths 1-8.

    Note: training mode runs the same layers (dropout is 0); the tuned test above checks it,
    and tests/layers/test_plain_matches_tuned.py holds the two paths equal, gradients included.
    """
    sep, io = authors_separator(reference_dir)
    sep.layer_path = "plain"
    assert_eval_depths_match(sep, io)


@pytest.mark.slow
@pytest.mark.parametrize("sep_reps,re_reps", [(1, 6), (3, 3)])
def test_inference_sep_reps_match_authors_encoder_repeat_times(reference_dir, sep_reps, re_reps):
    """The paper model (trained with N_sep = 2) run with N_sep = 1 and 3 at inference, against the
    authors' separator built with ``encoder_repeat_times`` = 1 and 3 and the same weights
    (tests/fixtures/authors_sep_reps)."""
    sep, io = authors_separator(reference_dir)
    expected = torch.load(FIXTURES / "authors_sep_reps/io.pt", weights_only=True)[f"eval_sep{sep_reps}_reps{re_reps}"]
    sep.eval()
    sep.inference_sep_reps, sep.inference_reps = sep_reps, re_reps
    with torch.no_grad():
        out, _, _ = sep(io["input"], io["ilens"])
    assert max_rel_error(torch.stack(out, 1), expected) < 1e-3
    sep.inference_sep_reps = 2  # the trained depth is not what the fixture holds
    with torch.no_grad():
        out, _, _ = sep(io["input"], io["ilens"])
    assert max_rel_error(torch.stack(out, 1), expected) > 1e-2
