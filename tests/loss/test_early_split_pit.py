import itertools
from pathlib import Path

import pytest
import torch
from espnet2.enh.loss.criterions.time_domain import SISNRLoss
from espnet2.enh.loss.wrappers.pit_solver import PITSolver

from espnet2_tisdiss.loss import EarlySplitPITSolver
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask


def refs(batch=3, samples=400):
    return [torch.randn(batch, samples) for _ in range(2)]


def noisy(signals, level):
    return [s + level * torch.randn_like(s) for s in signals]


def test_total_is_the_mean_of_per_stage_pit_losses():
    ref = refs()
    stages = [noisy(ref, 1.0), noisy(ref[::-1], 0.5), noisy(ref, 0.1)]
    loss, stats, others = EarlySplitPITSolver(SISNRLoss())(ref, stages)
    pit = PITSolver(SISNRLoss())
    per_stage = [pit(ref, stage)[0] for stage in stages]
    assert torch.allclose(loss, torch.stack(per_stage).mean())
    assert torch.allclose(stats["si_snr_loss_split"], per_stage[0])
    assert torch.allclose(stats["si_snr_loss_rep1"], per_stage[1])
    assert torch.allclose(stats["si_snr_loss_rep2"], per_stage[2])
    assert torch.allclose(stats["si_snr_loss"], per_stage[2])  # final stage, as in validation
    assert others["perm"].tolist() == [[0, 1]] * 3  # the final stage's permutation


def test_permutation_is_solved_per_stage():
    ref = refs()
    ordered = noisy(ref, 0.3)
    solver = EarlySplitPITSolver(SISNRLoss())
    same, _, _ = solver(ref, [ordered, ordered])
    swapped, _, _ = solver(ref, [ordered[::-1], ordered])
    assert torch.allclose(same, swapped)


def test_single_stage_is_plain_pit():
    ref = refs()
    est = noisy(ref[::-1], 0.2)
    loss, stats, others = EarlySplitPITSolver(SISNRLoss())(ref, est)
    expected, _, _ = PITSolver(SISNRLoss())(ref, est)
    assert torch.allclose(loss, expected)
    assert set(stats) == {"si_snr_loss"}
    assert others["perm"].tolist() == [[1, 0]] * 3


def test_gradients_reach_every_stage():
    ref = refs()
    stages = [[s.clone().requires_grad_() for s in noisy(ref, 0.5)] for _ in range(3)]
    loss, _, _ = EarlySplitPITSolver(SISNRLoss())(ref, stages)
    loss.backward()
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for stage in stages for s in stage)


def test_a_lone_stage_list_is_rejected():
    ref = refs()
    with pytest.raises(ValueError, match="at least one reconstruction stage"):
        EarlySplitPITSolver(SISNRLoss())(ref, [noisy(ref, 0.1)])


def test_three_speakers_take_the_best_of_all_six_permutations():
    ref = [torch.randn(2, 400) for _ in range(3)]
    order = (2, 0, 1)
    stages = [noisy([ref[k] for k in order], 0.4), noisy([ref[k] for k in (1, 2, 0)], 0.2)]
    loss, stats, others = EarlySplitPITSolver(SISNRLoss())(ref, stages)
    criterion = SISNRLoss()

    def best(est):  # per utterance: the mean loss under the best of the 3! assignments, averaged
        per_perm = torch.stack([torch.stack([criterion(ref[j], est[p[j]]) for j in range(3)]).mean(0)
                                for p in itertools.permutations(range(3))])
        return per_perm.min(0).values.mean()

    assert torch.allclose(loss, torch.stack([best(stage) for stage in stages]).mean(), atol=1e-5)
    # the final stage's permutation: estimate perm[j] is reference j's
    assert others["perm"].tolist() == [[2, 0, 1]] * 2
    assert set(stats) == {"si_snr_loss", "si_snr_loss_split", "si_snr_loss_rep1"}


def test_stage_weights_give_a_normalised_weighted_mean():
    ref = refs()
    stages = [noisy(ref, 1.0), noisy(ref, 0.5), noisy(ref, 0.1)]
    pit = PITSolver(SISNRLoss())
    per_stage = torch.stack([pit(ref, stage)[0] for stage in stages])
    loss, stats, _ = EarlySplitPITSolver(SISNRLoss(), stage_weights=[1.0, 2.0, 5.0])(ref, stages)
    assert torch.allclose(loss, (per_stage * torch.tensor([1.0, 2.0, 5.0])).sum() / 8.0)
    assert not torch.allclose(loss, per_stage.mean())  # the weights do change the total
    assert torch.allclose(stats["si_snr_loss"], per_stage[2])  # stats stay per stage


def test_stage_weights_must_match_the_stages_and_be_usable():
    ref = refs()
    stages = [noisy(ref, 0.5), noisy(ref, 0.1)]
    with pytest.raises(ValueError, match="2 stages"):
        EarlySplitPITSolver(SISNRLoss(), stage_weights=[1.0, 2.0, 3.0])(ref, stages)
    for bad in ([], [1.0, -1.0], [0.0, 0.0]):
        with pytest.raises(ValueError, match="non-negative with a positive sum"):
            EarlySplitPITSolver(SISNRLoss(), stage_weights=bad)


def test_the_last_loss_config_trains_on_the_last_repetition_only():
    config = Path(__file__).resolve().parents[2] / "conf" / "tisdiss_mini_last_loss.yaml"
    args = TISDiSSEnhancementTask.get_parser().parse_args(["--config", str(config)])
    torch.manual_seed(0)
    model = TISDiSSEnhancementTask.build_model(args).train()
    ref = refs(batch=1, samples=2400)
    loss, stats, _ = model(ref[0] + ref[1], speech_ref1=ref[0], speech_ref2=ref[1])
    per_stage = torch.stack([stats[f"si_snr_loss_{s}"] for s in ("split", "rep1", "rep2", "rep3")])
    assert torch.allclose(loss, per_stage[3], atol=1e-5)
    assert not torch.allclose(loss, per_stage.mean(), atol=1e-3)
