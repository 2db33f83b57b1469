"""Models shipped inside the package, loadable by name.

    >>> Separator.from_pretrained("mini_2mix")          # Python
    $ tisdiss-separate --model mini_2mix mix.wav       # command line

Each model is a packed archive of recipe stage 7 (``<name>.tar.gz``) with a model
card (``<name>.md``: data, command, results, limits) beside it, and example
mixtures in ``examples/``.
"""

from pathlib import Path
from typing import Dict, Optional

HERE = Path(__file__).resolve().parent

# name -> one line for listings
MODELS: Dict[str, str] = {
    "mini_2mix": "mini TISDiSS (N_re 3, 0.39 M parameters), 8 kHz, two speakers; trained on synthetic "
                 "eSpeak voices: a demo model, not for real recordings",
}


def archive(name: str) -> Optional[Path]:
    """The packed archive of a shipped model, or None when ``name`` is not one."""
    if name not in MODELS:
        return None
    return HERE / f"{name}.tar.gz"


def model_card(name: str) -> Path:
    """The model card (markdown) of a shipped model."""
    return HERE / f"{name}.md"


def examples() -> list:
    """The example mixtures shipped with the models (wav files)."""
    return sorted((HERE / "examples").glob("*.wav"))


def listing() -> str:
    """One line per shipped model: its name and what it is."""
    return "\n".join(f"  {name}: {about}" for name, about in MODELS.items())
