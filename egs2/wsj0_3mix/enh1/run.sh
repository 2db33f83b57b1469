#!/usr/bin/env bash
# wsj0-3mix (8 kHz, min): three-speaker separation with TISDiSS sep1x2-re1x6 (three output
# streams), decoded at depths 1-8. Corpus paths: db.sh. Examples:
#   ./run.sh                      # all stages on 1 GPU (the default); stops at once without one
#   ./run.sh --ngpu 4                                    # all stages, 4 GPUs (DDP)
#   ./run.sh --ngpu 0             # on the CPU: slow (the error without a GPU says how slow)
#   ./run.sh --stage 5 --stop_stage 6 --inference_reps 8 # re-decode at depth 8
set -euo pipefail
cd "$(dirname "$0")"

./enh.sh \
    --fs 8000 --ngpu 1 \
    --train_set tr --valid_set cv --test_sets tt \
    --enh_config ../../../conf/tisdiss_sep1x2_re1x6_3spk.yaml \
    --inference_reps "1 2 3 4 5 6 7 8" \
    "$@"
