#!/usr/bin/env bash
# Stage 1 of the Libri2Mix recipe (and, with --num_speakers 3, of Libri3Mix's): data dirs
# <datadir>/{train,dev,test} from the generated tree in LIBRIMIX, or from LIBRISPEECH +
# WHAM_NOISE + LIBRIMIX_METADATA (generated into <datadir>/librimix first); see db.sh.
set -euo pipefail
. ./utils/common.sh
. ./db.sh

datadir=data; sample_rate=8000; mode=min; mix_type=clean; train_subsets=train-360; nj=4; num_speakers=2
options="datadir sample_rate mode mix_type train_subsets nj num_speakers"
help_message="Usage: $0 [options]  (Libri<num_speakers>Mix data dirs; corpus paths from db.sh)
  --mix_type clean (mix_clean) or both (mix_both: speech + noise); --train_subsets \"train-100 train-360\""
. ./utils/parse_options.sh

name="Libri${num_speakers}Mix"
stamp="$datadir/.done_libri${num_speakers}mix_${sample_rate}_${mode}_${mix_type}_${train_subsets// /+}"
already_prepared "$stamp" "$name" && exit 0
if [ -n "$LIBRIMIX" ]; then
    corpus=(--librimix "$LIBRIMIX")
elif [ -n "$LIBRISPEECH" ] && [ -n "$WHAM_NOISE" ] && [ -n "$LIBRIMIX_METADATA" ]; then
    corpus=(--librispeech "$LIBRISPEECH" --wham_noise "$WHAM_NOISE" --metadata_dir "$LIBRIMIX_METADATA"
            --generate_dir "$datadir/librimix")
else
    die "set LIBRIMIX (a generated tree), or LIBRISPEECH, WHAM_NOISE and LIBRIMIX_METADATA, in $(pwd)/db.sh or the environment"
fi
# shellcheck disable=SC2086
python -m espnet2_tisdiss.corpora.librimix --num_speakers "$num_speakers" --datadir "$datadir" \
    --sample_rate "$sample_rate" --mode "$mode" --mix_type "$mix_type" --train_subsets $train_subsets \
    --nj "$nj" "${corpus[@]}"
touch "$stamp"
