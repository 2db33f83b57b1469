"""Names of inference depths: integers >= 1 and "auto", their decode folders and their order.

A decode grid over the separation block's repetitions (N_sep) puts each N_sep value's
depth folders in a ``sep<n>`` folder of its own (:func:`sep_folder`).

Kept free of heavy imports: the scoring workers and the results table read it.
"""

import re
from typing import Optional, Union

AUTO = "auto"
Depth = Union[int, str]  # an integer >= 1, or AUTO


def parse_depth(text: str) -> Depth:
    """``"auto"`` or an integer >= 1 from its text; ValueError otherwise."""
    if text == AUTO:
        return AUTO
    value = int(text)
    if value < 1 or str(value) != text.strip():
        raise ValueError(f"a depth is an integer >= 1 or 'auto', got {text!r}")
    return value


def depth_folder(depth: Depth) -> str:
    """The decode folder of ``depth``: ``reps<k>``, or ``reps_auto``."""
    return f"reps_{AUTO}" if depth == AUTO else f"reps{depth}"


def folder_depth(name: str) -> Optional[Depth]:
    """The depth of a decode folder name (inverse of :func:`depth_folder`), None for other names."""
    if name == depth_folder(AUTO):
        return AUTO
    match = re.fullmatch(r"reps(\d+)", name)
    return int(match.group(1)) if match else None


def depth_order(depth: Depth):
    """Sort key: the integer depths in order, then "auto"."""
    return (depth == AUTO, 0 if depth == AUTO else depth)


def sep_folder(n_sep: int) -> str:
    """The decode folder of the separation block's repetitions ``n_sep`` in a grid: ``sep<n>``."""
    return f"sep{n_sep}"


def folder_sep(name: str) -> Optional[int]:
    """The N_sep of a grid decode folder name (inverse of :func:`sep_folder`), None for other names."""
    match = re.fullmatch(r"sep(\d+)", name)
    return int(match.group(1)) if match else None
