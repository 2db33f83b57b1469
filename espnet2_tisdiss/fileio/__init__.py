"""Low-level file I/O shared by the recipe stages, the corpora and the inference API.

Atomic writes (``atomic_io``), Kaldi lists (``kaldi_lists``), untrusted-file
loading (``safe_archive``, ``safe_yaml``, ``checkpoint``), the packed model
archive (``model_archive``), run locks (``run_lock``) and the decode journal
(``decode_journal``). Nothing here imports another part of espnet2_tisdiss:
the layers above import this package, never the reverse
(``tests/test_import_layers.py``).
"""
