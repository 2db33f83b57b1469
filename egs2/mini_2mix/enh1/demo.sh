#!/usr/bin/env bash
# The demo (`make demo`): the mini recipe end to end on a CPU, then the shipped model beside it.
#   1. stages 1-6 with conf/tisdiss_mini_demo.yaml: synthesise the corpus (1000 training
#      mixtures), statistics, train a small model for a few minutes, decode the test set at
#      depths 1-2, score;
#   2. stages 5-6 with the model shipped in the package (--packed_model mini_2mix, trained
#      for hours with conf/tisdiss_mini.yaml) on the same test set, at depths 1-4 and "auto".
# Prints both RESULTS tables, saying which is which, and the paths of their plots.
set -euo pipefail
cd "$(dirname "$0")"

# 1000 training mixtures are plenty for 800 crops; dev and test are the full ones (each split is
# seeded on its own, so the test set is the one the shipped model's RESULTS were made on).
./run.sh --stage 1 --stop_stage 6 --enh_config ../../../conf/tisdiss_mini_demo.yaml --test_sets test \
    --local_data_opts "--n_train 1000" --inference_reps "1 2" "$@"
./run.sh --stage 5 --stop_stage 6 --packed_model mini_2mix --test_sets test \
    --inference_reps "1 2 3 4 auto" "$@"

for exp in exp/tisdiss_mini_demo exp/mini_2mix; do
    case $exp in
        */tisdiss_mini_demo) what="the model this demo just trained (a few minutes; depth 1 is its trained depth)" ;;
        *) what="the shipped model mini_2mix (trained with N_re 3 for hours), same test set" ;;
    esac
    echo
    echo "=== RESULTS of $what ==="
    sed -n '/^| dataset |/,/^$/p' "$exp/RESULTS.md"
    echo "plot: $PWD/$exp/quality_vs_depth.png"
done
