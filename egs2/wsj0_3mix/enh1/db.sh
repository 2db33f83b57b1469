#!/usr/bin/env bash
# Where the corpora are. Empty means "not here"; the environment may set them instead.
#   WSJ0_3MIX        a generated wsj0-3mix tree (holds wav8k/min/tr/mix/...), or
#   WSJ0             WSJ0 (the folder holding wsj0/si_tr_s/...), wav or original .wv1, and
#   WSJ0_3MIX_LISTS  the folder with mix_3_spk_{tr,cv,tt}.txt, to generate the tree under
#                    data/wsj0-3mix first.
WSJ0_3MIX=${WSJ0_3MIX:-}
WSJ0=${WSJ0:-}
WSJ0_3MIX_LISTS=${WSJ0_3MIX_LISTS:-}
