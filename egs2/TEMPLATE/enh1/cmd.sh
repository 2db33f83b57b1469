#!/usr/bin/env bash
# How stage 4 starts the trainer; enh.sh sources this before its options (--train_cmd wins).
#
#   train_cmd=""   on this machine (the default): one process, which spawns one worker
#                  per GPU when --ngpu > 1.
#   Slurm, a job step for stage 4 inside an allocation (salloc / sbatch), e.g.:
#     train_cmd="srun --nodes 1 --ntasks 1 --gres gpu:4 --cpus-per-task 16"
#
# The environment variable TRAIN_CMD sets it without editing this file.
train_cmd=${TRAIN_CMD:-}
