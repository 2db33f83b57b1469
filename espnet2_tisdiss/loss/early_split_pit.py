"""Early-split multi-loss: a PIT loss on the splitter output and on every reconstruction repetition."""

from typing import Dict, List, Optional, Tuple, Union

import torch
from espnet2.enh.loss.criterions.abs_loss import AbsEnhLoss
from espnet2.enh.loss.wrappers.abs_wrapper import AbsLossWrapper
from espnet2.enh.loss.wrappers.pit_solver import PITSolver

Signals = List[torch.Tensor]  # J tensors [B, S]


class EarlySplitPITSolver(AbsLossWrapper):
    """Mean of per-stage PIT losses over the TISDiSS training stages.

    In training mode the TISDiSS separator returns N_re + 1 stages: the
    speaker splitter's output, then the output after each reconstruction
    repetition. Each stage gets the criterion under its own best permutation,
    and the loss is their plain mean, ``(final + sum(aux)) / (N_re + 1)`` as in
    the authors' recipe. With a single stage (eval mode) it is ordinary PIT.

    Stats: ``<criterion>`` is the final stage's loss (the same quantity that
    validation reports), ``<criterion>_split`` the splitter's, and
    ``<criterion>_rep<k>`` the loss after repetition k.

    References:
        Feng et al., "TISDiSS", arXiv 2509.15666 (Sec. 2, early-split multi-loss).

    Args:
        criterion (AbsEnhLoss): pairwise criterion, e.g. ESPnet's ``si_snr``.
        weight (float): weight of this loss among the model's loss wrappers.
        stage_weights (list of float, optional): one weight per stage (splitter
            first, then repetitions 1..N_re), normalised to sum to 1; by default
            all equal, the authors' plain mean.

    Example:
        >>> from espnet2.enh.loss.criterions.time_domain import SISNRLoss
        >>> solver = EarlySplitPITSolver(SISNRLoss())
        >>> ref = [torch.randn(2, 800) for _ in range(2)]
        >>> stages = [[r + 0.1 * torch.randn_like(r) for r in ref[::-1]] for _ in range(3)]
        >>> loss, stats, others = solver(ref, stages)
        >>> sorted(stats)
        ['si_snr_loss', 'si_snr_loss_rep1', 'si_snr_loss_rep2', 'si_snr_loss_split']
    """

    def __init__(
        self,
        criterion: AbsEnhLoss,
        weight: float = 1.0,
        stage_weights: Optional[List[float]] = None,
    ):
        super().__init__()
        self.criterion = criterion
        self.weight = weight
        if stage_weights is not None and (
            not stage_weights or min(stage_weights) < 0 or sum(stage_weights) <= 0
        ):
            raise ValueError(
                "stage_weights must be non-negative with a positive sum, got "
                f"{stage_weights}"
            )
        self.stage_weights = stage_weights
        self.solver = PITSolver(criterion, weight=weight, independent_perm=True)

    def forward(
        self,
        ref: Signals,
        inf: Union[Signals, List[Signals]],
        others: Optional[Dict] = None,
    ) -> Tuple[torch.Tensor, Dict[str, torch.Tensor], Dict]:
        """Args: ref, J references [B, ...]; inf, J estimates or a list of stages of J.

        Returns: the loss, stats, and ``{"perm": ...}`` of the final stage.
        """
        others = {} if others is None else others
        if not isinstance(inf[0], (list, tuple)):
            return self.solver(ref, inf, others)
        if len(inf) < 2:
            raise ValueError(
                "early_split_pit expects the splitter output plus at least one "
                f"reconstruction stage, got {len(inf)} stage(s)."
            )
        name = self.criterion.name
        losses, stats = [], {}
        for index, stage in enumerate(inf):
            loss, stage_stats, final_others = self.solver(ref, stage, others)
            losses.append(loss)
            stats[f"{name}_split" if index == 0 else f"{name}_rep{index}"] = loss.detach()
        stats.update(stage_stats)  # the final stage's, including stats[name]
        if self.stage_weights is None:
            return torch.stack(losses).mean(), stats, final_others
        if len(self.stage_weights) != len(inf):
            raise ValueError(
                f"stage_weights has {len(self.stage_weights)} entries, but the "
                f"separator returned {len(inf)} stages (splitter + N_re repetitions)."
            )
        weights = torch.tensor(self.stage_weights, dtype=losses[0].dtype, device=losses[0].device)
        return (torch.stack(losses) * weights).sum() / weights.sum(), stats, final_others
