"""Corpus preparation: one module per corpus, called from egs2/<corpus>/enh1/local/data.sh."""
