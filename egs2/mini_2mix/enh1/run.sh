#!/usr/bin/env bash
# Mini two-speaker corpus synthesised on this machine (eSpeak NG voices, 8 kHz,
# WSJ0-2mix-style mixing), small enough to run stages 1-6 on a CPU laptop.
#   ./run.sh                                  # stages 1-6 with the mini TISDiSS
#   ./run.sh --stage 5 --stop_stage 6 --inference_reps 3
#   ./run.sh --enh_config ../../../conf/tfgridnet_mini.yaml   # the peer baseline
set -euo pipefail
cd "$(dirname "$0")"

./enh.sh \
    --fs 8000 \
    --train_set train --valid_set dev --test_sets "test test_unseen" \
    --enh_config ../../../conf/tisdiss_mini.yaml \
    --inference_reps "1 2 3 4" \
    "$@"
