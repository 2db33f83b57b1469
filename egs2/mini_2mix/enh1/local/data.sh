#!/usr/bin/env bash
# Stage 1 of the mini recipe: synthesise the corpus into <datadir>/{train,dev,test}.
# Seeded: the same options always give the same audio.
set -euo pipefail
. ./utils/common.sh

datadir=data; n_train=1000; n_dev=100; n_test=100; seed=0; max_seconds=4
options="datadir n_train n_dev n_test seed max_seconds"
help_message="Usage: $0 [options]  (synthesises the mini_2mix corpus)"
. ./utils/parse_options.sh

stamp="$datadir/.done_${n_train}_${n_dev}_${n_test}_${seed}_${max_seconds}"
if [ -f "$stamp" ]; then
    log "mini_2mix already prepared in $datadir ($stamp)"
    exit 0
fi
rm -rf "$datadir"
python -m espnet2_tisdiss.corpora.mini_2mix --output_dir "$datadir" --n_train "$n_train" \
    --n_dev "$n_dev" --n_test "$n_test" --seed "$seed" --max_seconds "$max_seconds"
touch "$stamp"
