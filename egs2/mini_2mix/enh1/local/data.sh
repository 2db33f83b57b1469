#!/usr/bin/env bash
# Stage 1 of the mini recipe: synthesise the corpus into <datadir>/{train,dev,test,test_unseen}
# (--num_speakers 3: three voices per mixture, the mini_3mix recipe's corpus).
# Seeded: the same options always give the same audio.
set -euo pipefail
. ./utils/common.sh

datadir=data; n_train=3000; n_dev=100; n_test=100; n_test_unseen=100; seed=0; max_seconds=4; num_speakers=2
options="datadir n_train n_dev n_test n_test_unseen seed max_seconds num_speakers"
help_message="Usage: $0 [options]  (synthesises the mini_2mix corpus)"
. ./utils/parse_options.sh

stamp="$datadir/.done_v2_${n_train}_${n_dev}_${n_test}_${n_test_unseen}_${seed}_${max_seconds}_${num_speakers}spk"
if [ -f "$stamp" ]; then
    log "mini corpus already prepared in $datadir ($stamp)"
    exit 0
fi
rm -rf "$datadir"
python -m espnet2_tisdiss.corpora.mini_2mix --output_dir "$datadir" --n_train "$n_train" \
    --n_dev "$n_dev" --n_test "$n_test" --n_test_unseen "$n_test_unseen" --seed "$seed" --max_seconds "$max_seconds" \
    --num_speakers "$num_speakers"
touch "$stamp"
