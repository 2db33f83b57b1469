"""Argument types and help text shared by the command-line tools in ``espnet2_tisdiss.bin``.

Each type is an ``argparse`` ``type=``: it returns the parsed value or raises
``argparse.ArgumentTypeError`` with the reason, which argparse prints after the
option's name. The CLIs import them from here, never from each other.
"""

import argparse

from espnet2_tisdiss.depths import AUTO, Depth

# One sentence closing the --help description of every recipe-internal entry point.
RECIPE_INTERNAL = ("Recipe-internal: a tool for the recipe stages (egs2/) and ESPnet-style scripts; "
                   "users separate audio files with tisdiss-separate.")


def positive_int(text: str) -> int:
    """An integer >= 1, written as one (``"3"``; not ``"3.0"`` or ``"+3"``)."""
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or value < 1 or str(value) != text.strip():
        raise argparse.ArgumentTypeError(f"must be an integer >= 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """A number > 0 (NaN is refused)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def depth_value(text: str) -> Depth:
    """An inference depth: an integer >= 1, or ``auto``."""
    return AUTO if text == AUTO else positive_int(text)
