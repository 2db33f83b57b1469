"""Command-line entry points: ``python -m espnet2_tisdiss.bin.<name>``."""
