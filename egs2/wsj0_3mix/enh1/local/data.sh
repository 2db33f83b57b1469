#!/usr/bin/env bash
# Stage 1 of the wsj0-3mix recipe: the wsj0-2mix recipe's stage 1 with three speakers
# (corpus paths from this recipe's db.sh); options as there.
exec ../../wsj0_2mix/enh1/local/data.sh --num_speakers 3 "$@"
