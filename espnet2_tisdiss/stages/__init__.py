"""Recipe stages (egs2): data formatting, decoding at several depths, scoring, results, upload."""
