#!/usr/bin/env bash
# Where the corpus is. Empty means "not here"; the environment may set it instead.
#   WHAMR  the tree written by the official WHAMR! scripts (holds wav8k/min/tr/mix_both_reverb/...)
WHAMR=${WHAMR:-}
