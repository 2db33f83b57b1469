#!/usr/bin/env bash
# Stage 1 of the wsj0-2mix recipe: data dirs <datadir>/{tr,cv,tt} from the generated tree in
# WSJ0_2MIX, or from WSJ0 + WSJ0_2MIX_LISTS (generated into <datadir>/wsj0-2mix first); see db.sh.
set -euo pipefail
. ./utils/common.sh
. ./db.sh

datadir=data; sample_rate=8000; mode=min; nj=4
options="datadir sample_rate mode nj"
help_message="Usage: $0 [options]  (wsj0-2mix data dirs; corpus paths from db.sh)"
. ./utils/parse_options.sh

stamp="$datadir/.done_wsj0_2mix_${sample_rate}_${mode}"
already_prepared "$stamp" "wsj0-2mix" && exit 0
if [ -n "$WSJ0_2MIX" ]; then
    corpus=(--wsj0_2mix "$WSJ0_2MIX")
elif [ -n "$WSJ0" ] && [ -n "$WSJ0_2MIX_LISTS" ]; then
    corpus=(--wsj0 "$WSJ0" --mixing_lists_dir "$WSJ0_2MIX_LISTS" --generate_dir "$datadir/wsj0-2mix")
else
    die "set WSJ0_2MIX (a generated tree), or WSJ0 and WSJ0_2MIX_LISTS, in $(pwd)/db.sh or the environment"
fi
python -m espnet2_tisdiss.corpora.wsj0_2mix --datadir "$datadir" --sample_rate "$sample_rate" \
    --mode "$mode" --nj "$nj" "${corpus[@]}"
touch "$stamp"
