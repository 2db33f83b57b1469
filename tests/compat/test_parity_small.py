"""Parity with the authors' code on other configurations (J=3, attention_dim != emb_dim,
several layers per block, FFN stride 2), from tests/fixtures/authors_small."""

import json
from pathlib import Path

import pytest
import torch

from espnet2_tisdiss.compat import separator_from_authors
from espnet2_tisdiss.fileio.checkpoint import load_state_dict_file

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/authors_small"


def max_rel_error(ours, reference) -> float:
    return ((ours - reference).abs().max() / reference.abs().max()).item()


@pytest.mark.parametrize("layer_path", ["plain", "tuned"])
@pytest.mark.parametrize("name", ["j3_emb24", "layers2_stride2"])
def test_reproduces_authors_outputs(name, layer_path):
    meta = json.loads((FIXTURES / name / "meta.json").read_text())
    io = torch.load(FIXTURES / name / "io.pt", weights_only=True)
    conf = meta["separator_conf"]
    sep = separator_from_authors(conf, load_state_dict_file(FIXTURES / name / "reference_state_dict.pt"),
                                 input_dim=io["input"].shape[-1])
    sep.layer_path = layer_path
    assert sep.num_spk == conf["num_spk"] and sep.n_re == conf["reconstructor_repeat_times"]
    spec, ilens = io["input"], io["ilens"]
    with torch.no_grad():
        stages, _, _ = sep.train()(spec, ilens)
        assert len(stages) == io["train_aux"].shape[0] + 1
        for i, stage in enumerate(stages[:-1]):
            assert max_rel_error(torch.stack(stage, 1), io["train_aux"][i]) < 1e-3
        assert max_rel_error(torch.stack(stages[-1], 1), io["train_final"]) < 1e-3
        sep.eval()
        for reps in (1, 2, 4):
            sep.inference_reps = reps
            out, _, _ = sep(spec, ilens)
            assert max_rel_error(torch.stack(out, 1), io[f"eval_reps{reps}"]) < 1e-3
