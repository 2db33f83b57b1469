#!/usr/bin/env bash
# Stage 1 of the mini three-speaker recipe: the mini_2mix recipe's stage 1 with three
# speakers per mixture; options as there.
exec ../../mini_2mix/enh1/local/data.sh --num_speakers 3 "$@"
