"""espnet2-tisdiss: the TISDiSS separator as a plugin to ESPnet-Enh.

- ``espnet2_tisdiss.separator``: the ``AbsSeparator`` (``separator: tisdiss``).
- ``espnet2_tisdiss.layers``: its building blocks.
- ``espnet2_tisdiss.loss``: the early-split PIT wrapper (``wrapper: early_split_pit``).
- ``espnet2_tisdiss.tasks``: registration into ESPnet's enhancement task.
- ``espnet2_tisdiss.compat``: loading the authors' configs and checkpoints.
- ``espnet2_tisdiss.inference``: ``Separator``, separating any audio (``tisdiss-separate``).
- ``espnet2_tisdiss.bin``: command-line entry points.

``from espnet2_tisdiss import Separator`` works too; it imports torch and ESPnet
only when first used.
"""

__version__ = "0.1.0"


def __getattr__(name: str):
    if name == "Separator":
        from espnet2_tisdiss.inference import Separator

        return Separator
    raise AttributeError(f"module 'espnet2_tisdiss' has no attribute {name!r}")
