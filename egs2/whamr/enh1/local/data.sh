#!/usr/bin/env bash
# Stage 1 of the WHAMR! recipe: data dirs <datadir>/{tr,cv,tt} from the generated tree in WHAMR
# (see db.sh): reverberant mixtures, anechoic references.
set -euo pipefail
. ./utils/common.sh
. ./db.sh

datadir=data; sample_rate=8000; mode=min; mix_type=both_reverb
options="datadir sample_rate mode mix_type"
help_message="Usage: $0 [options]  (WHAMR! data dirs; corpus path from db.sh)
  --mix_type both_reverb (two speakers + noise) or clean_reverb (two speakers); the single-speaker
  mixtures (single_reverb) are WHAMR!'s enhancement task and are refused"
. ./utils/parse_options.sh

stamp="$datadir/.done_whamr_${sample_rate}_${mode}_${mix_type}"
already_prepared "$stamp" "WHAMR!" && exit 0
[ -n "$WHAMR" ] || die "set WHAMR (the tree written by the official WHAMR! scripts) in $(pwd)/db.sh or the environment"
python -m espnet2_tisdiss.corpora.whamr --datadir "$datadir" --whamr "$WHAMR" \
    --sample_rate "$sample_rate" --mode "$mode" --mix_type "$mix_type"
touch "$stamp"
