#!/usr/bin/env bash
# Stage 1 of the wsj0-2mix recipe (and, with --num_speakers 3, of wsj0-3mix's): data dirs
# <datadir>/{tr,cv,tt} from the generated tree in WSJ0_<N>MIX, or from WSJ0 + WSJ0_<N>MIX_LISTS
# (generated into <datadir>/wsj0-<N>mix first); see db.sh.
set -euo pipefail
. ./utils/common.sh
. ./db.sh

datadir=data; sample_rate=8000; mode=min; nj=4; num_speakers=2
options="datadir sample_rate mode nj num_speakers"
help_message="Usage: $0 [options]  (wsj0-<num_speakers>mix data dirs; corpus paths from db.sh)"
. ./utils/parse_options.sh

name="wsj0-${num_speakers}mix"
tree_var="WSJ0_${num_speakers}MIX"; lists_var="WSJ0_${num_speakers}MIX_LISTS"
stamp="$datadir/.done_wsj0_${num_speakers}mix_${sample_rate}_${mode}"
already_prepared "$stamp" "$name" && exit 0
if [ -n "${!tree_var:-}" ]; then
    corpus=(--wsj0_mix "${!tree_var}")
elif [ -n "${WSJ0:-}" ] && [ -n "${!lists_var:-}" ]; then
    corpus=(--wsj0 "$WSJ0" --mixing_lists_dir "${!lists_var}" --generate_dir "$datadir/$name")
else
    die "set $tree_var (a generated tree), or WSJ0 and $lists_var, in $(pwd)/db.sh or the environment"
fi
python -m espnet2_tisdiss.corpora.wsj0_mix --num_speakers "$num_speakers" --datadir "$datadir" \
    --sample_rate "$sample_rate" --mode "$mode" --nj "$nj" "${corpus[@]}"
touch "$stamp"
