#!/usr/bin/env bash
# Where the corpora are. Empty means "not here"; the environment may set them instead.
#   WSJ0_2MIX        a generated wsj0-2mix tree (holds wav8k/min/tr/mix/...), or
#   WSJ0             WSJ0 (the folder holding wsj0/si_tr_s/...), wav or original .wv1, and
#   WSJ0_2MIX_LISTS  the folder with mix_2_spk_{tr,cv,tt}.txt, to generate the tree under
#                    data/wsj0-2mix first.
WSJ0_2MIX=${WSJ0_2MIX:-}
WSJ0=${WSJ0:-}
WSJ0_2MIX_LISTS=${WSJ0_2MIX_LISTS:-}
