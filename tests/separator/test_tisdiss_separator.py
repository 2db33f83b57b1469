import pytest
import torch
from espnet2.enh.separator.abs_separator import AbsSeparator

from espnet2_tisdiss.separator import TISDiSSSeparator
from tests.conftest import TINY, random_stft


def tiny(**overrides) -> TISDiSSSeparator:
    return TISDiSSSeparator(9, **{**TINY, **overrides})


def test_defaults_are_the_papers_8m_model():
    sep = TISDiSSSeparator(65)
    assert isinstance(sep, AbsSeparator)
    assert (sep.num_spk, sep.n_sep, sep.n_re, sep.inference_reps) == (2, 2, 6, 6)
    # 8,011,827 in the paper counts the authors' 48 fixed RoPE frequencies too.
    assert sum(p.numel() for p in sep.parameters()) == 8_011_779


def test_eval_output_is_j_complex_spectrograms():
    sep = tiny(num_spk=3).eval()
    spec, ilens = random_stft(), torch.tensor([10, 7])
    out, olens, others = sep(spec, ilens)
    assert len(out) == 3 and sep.num_spk == 3
    assert all(o.shape == (2, 10, 9) and o.dtype == torch.complex64 for o in out)
    assert torch.equal(olens, ilens) and len(others) == 0


def test_training_output_has_splitter_plus_every_repetition():
    sep = tiny().train()
    stages, _, _ = sep(random_stft(), torch.tensor([10, 8]))
    assert len(stages) == sep.n_re + 1
    assert all(len(s) == 2 and s[0].shape == (2, 10, 9) for s in stages)
    loss = sum(o.abs().mean() for s in stages for o in s)
    loss.backward()
    assert all(p.grad is not None for p in sep.parameters())


def test_parameter_count_does_not_depend_on_depth():
    count = lambda s: sum(p.numel() for p in s.parameters())  # noqa: E731
    assert count(tiny(n_re=1)) == count(tiny(n_re=9))
    assert count(tiny(n_sep=1)) == count(tiny(n_sep=4))
    assert count(tiny(re_layers=2)) > count(tiny(re_layers=1))


def test_eval_depth_k_equals_training_stage_k():
    sep = tiny()
    spec, ilens = random_stft(), torch.tensor([10, 10])
    with torch.no_grad():
        stages, _, _ = sep.train()(spec, ilens)
        sep.eval()
        for k in range(1, sep.n_re + 1):
            sep.inference_reps = k
            out, _, _ = sep(spec, ilens)
            assert torch.allclose(torch.stack(out), torch.stack(stages[k]), atol=1e-6)


def test_forward_all_depths_equals_separate_runs_beyond_trained_depth():
    sep = tiny(n_re=2).eval()
    spec, ilens = random_stft(), torch.tensor([10, 6])
    with torch.no_grad():
        depths = sep.forward_all_depths(spec, ilens, max_reps=5)
        assert len(depths) == 5
        for k, outputs in enumerate(depths, start=1):
            sep.inference_reps = k
            single, _, _ = sep(spec, ilens)
            assert torch.allclose(torch.stack(outputs), torch.stack(single), atol=1e-6)
    assert not torch.allclose(torch.stack(depths[0]), torch.stack(depths[4]))


def test_inference_reps_from_config():
    assert tiny(inference_reps=7).inference_reps == 7
    assert tiny().inference_reps == TINY["n_re"]


@pytest.mark.parametrize("bad", [0, -1, 2.5, 2.0, "3", True])
def test_bad_inference_reps(bad):
    sep = tiny()
    with pytest.raises(ValueError, match="inference_reps must be an integer >= 1"):
        sep.inference_reps = bad
    with pytest.raises(ValueError, match="inference_reps"):
        tiny(inference_reps=bad)
    with pytest.raises(ValueError, match="max_reps"):
        sep.forward_all_depths(random_stft(), torch.tensor([10, 10]), max_reps=bad)


def test_inference_sep_reps_runs_the_separation_block_that_often_in_eval_only():
    sep = tiny()  # n_sep 2
    assert sep.inference_sep_reps == TINY["n_sep"] and tiny(inference_sep_reps=5).inference_sep_reps == 5
    spec = random_stft()
    calls = []
    sep.separation_block[0].register_forward_hook(lambda *args: calls.append(1))
    with torch.no_grad():
        sep.eval()
        for sep_reps in (1, 3):
            calls.clear()
            sep.inference_sep_reps = sep_reps
            sep.encode_and_split(spec)
            assert len(calls) == sep_reps
        sep.train()  # training always runs the trained n_sep
        calls.clear()
        sep.encode_and_split(spec)
        assert len(calls) == TINY["n_sep"]
    for bad in (0, 2.5, "3", True):
        with pytest.raises(ValueError, match="inference_sep_reps must be an integer >= 1"):
            sep.inference_sep_reps = bad


def test_heads_must_divide_embedding():
    with pytest.raises(ValueError, match="divisible by n_heads"):
        tiny(emb_dim=10, n_heads=4, num_groups=2)


@pytest.mark.parametrize("option,value", [("n_sep", 0), ("n_re", 0), ("num_spk", 0), ("emb_dim", 0), ("dropout", 1.0)])
def test_bad_structure_options(option, value):
    with pytest.raises(ValueError, match=option):
        tiny(**{option: value})


@pytest.mark.parametrize(
    "bad",
    [
        torch.randn(2, 10, 9),  # real
        torch.randn(2, 10, 1, 9, dtype=torch.complex64),  # 4-D
        torch.randn(10, 9, dtype=torch.complex64),  # no batch
    ],
)
def test_input_must_be_complex_b_t_f(bad):
    with pytest.raises(ValueError, match=r"complex single-channel STFT \[B, T, F\]"):
        tiny()(bad, torch.tensor([10, 10]))
