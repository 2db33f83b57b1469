"""espnet2-tisdiss: the TISDiSS separator as a plugin to ESPnet-Enh.

- ``espnet2_tisdiss.separator``: the ``AbsSeparator`` (``separator: tisdiss``).
- ``espnet2_tisdiss.layers``: its building blocks.
- ``espnet2_tisdiss.loss``: the early-split PIT wrapper (``wrapper: early_split_pit``).
- ``espnet2_tisdiss.tasks``: registration into ESPnet's enhancement task.
- ``espnet2_tisdiss.compat``: loading the authors' configs and checkpoints.
- ``espnet2_tisdiss.bin``: command-line entry points.
"""

__version__ = "0.1.0"
