"""Adaptive inference depth: repeat the reconstruction block until the estimate stops changing.

After repetition k the streams are decoded to J complex spectrograms Y_k and
compared with the previous ones,

    change_k = ||Y_k - Y_{k-1}||_F / ||Y_{k-1}||_F   (over all J, T, F),

and the repetitions stop at the first k >= 2 with ``change_k < threshold``, or
at ``max_reps``. The depth used is k; the output is Y_k. The spectra of the
whole batch are compared together, so callers pass one input (or one chunk) at
a time to get a depth per input. The loop that runs the repetitions is the
separation core's (``espnet2_tisdiss.inference.core.separate_depths``), or the ONNX
runtime's (``espnet2_tisdiss.deploy.onnx_runtime``), which feeds numpy arrays: this
module imports no torch.
"""

from dataclasses import dataclass
from typing import List, Sequence

import numpy as np

Spectra = Sequence  # J complex torch tensors [B, T, F], or J numpy arrays (complex, or real [..., 2])


@dataclass(frozen=True)
class AutoDepth:
    """Options of the adaptive depth.

    Args:
        max_reps (int): the deepest depth tried (>= 1).
        threshold (float): stop once the relative change of the decoded
            spectra between two repetitions is below this (> 0), e.g. 0.01.
    """

    max_reps: int = 8
    threshold: float = 0.01

    def __post_init__(self):
        if isinstance(self.max_reps, bool) or not isinstance(self.max_reps, int) or self.max_reps < 1:
            raise ValueError(f"max_reps must be an integer >= 1, got {self.max_reps!r}.")
        if not self.threshold > 0:
            raise ValueError(f"auto threshold must be > 0 (a relative change such as 0.01), "
                             f"got {self.threshold!r}.")


class ConvergenceCheck:
    """Feeds on the decoded spectra after each repetition; says when they stopped changing."""

    def __init__(self, threshold: float):
        self.threshold = threshold
        self.previous = None
        self.changes: List[float] = []

    def update(self, spectra: Spectra) -> bool:
        """Record ``spectra`` (J spectrograms); True when the change is below the threshold."""
        if isinstance(spectra[0], np.ndarray):
            current, norm = np.stack(spectra), lambda x: float(np.linalg.norm(x.ravel()))
        else:
            import torch

            current, norm = torch.stack(spectra), lambda x: torch.linalg.vector_norm(x).item()
        previous, self.previous = self.previous, current  # [J, B, T, F]
        if previous is None:
            return False
        change = norm(current - previous) / max(norm(previous), float(np.finfo(np.float32).tiny))
        self.changes.append(change)
        return change < self.threshold
