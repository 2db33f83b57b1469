#!/usr/bin/env bash
# Stage 1 of the Libri3Mix recipe: the Libri2Mix recipe's stage 1 with three speakers
# (corpus paths from this recipe's db.sh); options as there.
exec ../../libri2mix/enh1/local/data.sh --num_speakers 3 "$@"
