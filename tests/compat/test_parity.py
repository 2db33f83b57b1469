"""Parity with the authors' implementation (../shared/fixtures/tisdiss_reference)."""

import json

import pytest
import torch

from espnet2_tisdiss.compat import separator_from_authors
from espnet2_tisdiss.fileio.checkpoint import load_state_dict_file


def max_rel_error(ours: torch.Tensor, reference: torch.Tensor) -> float:
    return ((ours - reference).abs().max() / reference.abs().max()).item()


@pytest.mark.slow
@pytest.mark.parametrize("layer_path", ["plain", "tuned"])
def test_reproduces_authors_outputs(reference_dir, layer_path):
    meta = json.loads((reference_dir / "meta.json").read_text())
    state = load_state_dict_file(reference_dir / "reference_state_dict.pt")
    io = torch.load(reference_dir / "io.pt", weights_only=True)
    sep = separator_from_authors(meta["separator_conf"], state)
    sep.layer_path = layer_path
    spec, ilens = io["input"], io["ilens"]
    with torch.no_grad():
        sep.train()  # dropout is 0, so training mode is deterministic
        stages, _, _ = sep(spec, ilens)
        assert len(stages) == io["train_aux"].shape[0] + 1
        for i, stage in enumerate(stages[:-1]):
            assert max_rel_error(torch.stack(stage, 1), io["train_aux"][i]) < 1e-3, f"aux {i}"
        assert max_rel_error(torch.stack(stages[-1], 1), io["train_final"]) < 1e-3

        sep.eval()
        depths = sep.forward_all_depths(spec, ilens, max_reps=8)
        for n in (1, 3, 6, 8):
            assert max_rel_error(torch.stack(depths[n - 1], 1), io[f"eval_reps{n}"]) < 1e-3
        sep.inference_reps = 3  # the plain eval path too
        out, _, _ = sep(spec, ilens)
        assert max_rel_error(torch.stack(out, 1), io["eval_reps3"]) < 1e-3
