#!/usr/bin/env bash
# Where the corpora are. Empty means "not here"; the environment may set them instead.
#   LIBRIMIX           a generated LibriMix tree (holds Libri3Mix/wav8k/min/...), or
#   LIBRISPEECH        LibriSpeech (holds train-clean-360/ dev-clean/ test-clean/ ...),
#   WHAM_NOISE         wham_noise (holds tr/ cv/ tt/; train-360 needs the sp08/sp12 files) and
#   LIBRIMIX_METADATA  LibriMix's metadata/Libri3Mix folder, to generate the tree under
#                      data/librimix first.
LIBRIMIX=${LIBRIMIX:-}
LIBRISPEECH=${LIBRISPEECH:-}
WHAM_NOISE=${WHAM_NOISE:-}
LIBRIMIX_METADATA=${LIBRIMIX_METADATA:-}
