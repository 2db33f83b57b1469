#!/usr/bin/env bash
# Mini three-speaker corpus synthesised on this machine (the mini_2mix corpus's eSpeak NG
# voices, three per mixture, 8 kHz), small enough to run stages 1-6 on a CPU laptop.
#   ./run.sh                                  # stages 1-6 with the mini three-speaker TISDiSS
#   ./run.sh --stage 5 --stop_stage 6 --inference_reps 3
set -euo pipefail
cd "$(dirname "$0")"

./enh.sh \
    --fs 8000 \
    --train_set train --valid_set dev --test_sets "test test_unseen" \
    --enh_config ../../../conf/tisdiss_mini_3spk.yaml \
    --inference_reps "1 2 3 4" \
    "$@"
