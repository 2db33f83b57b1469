#!/usr/bin/env bash
# WHAMR! (8 kHz, min, mix_both_reverb -> anechoic s1, s2) with the paper's TISDiSS sep1x2-re2x2,
# depths 1-4. Corpus path: db.sh. Examples:
#   ./run.sh                      # all stages on 1 GPU (the default); stops at once without one
#   ./run.sh --ngpu 4
#   ./run.sh --ngpu 0             # on the CPU: slow (the error without a GPU says how slow)
#   ./run.sh --enh_config ../../../conf/tisdiss_sep1x2_re1x3.yaml # the 8.0M model
set -euo pipefail
cd "$(dirname "$0")"

if [[ " $* " == *" --dynamic_mixing true "* || " $* " =~ _dm\.yaml ]]; then
    echo "error: no dynamic mixing for WHAMR!: its mixtures are reverberant speech plus noise and its targets" \
        "anechoic, while dynamic mixing sums the targets; that would train on another task" >&2
    exit 2
fi

./enh.sh \
    --fs 8000 --ngpu 1 \
    --train_set tr --valid_set cv --test_sets tt \
    --enh_config ../../../conf/tisdiss_sep1x2_re2x2.yaml \
    --inference_reps "1 2 3 4" \
    "$@"
