#!/usr/bin/env bash
# Staged speech-separation recipe shared by every corpus (egs2/<corpus>/enh1/run.sh).
#   1 data preparation (local/data.sh)      5 decoding at one or more depths (one pass)
#   2 formatting into dump/ (resample, trim) 6 scoring, RESULTS.md and plot
#   3 shape statistics (--collect_stats)     7 packing the model into one archive
#   4 training (resumable), checkpoint average 8 upload to the Hugging Face Hub
# Every path is quoted and handed to Python as --name=value, so folders and files may hold spaces,
# quotes, leading dashes and non-ASCII characters. One run at a time per experiment folder: stages
# 4-8 lock exp/<config>/.lock, stages 1-3 lock <dumpdir>/.lock (released when the run ends or dies).
set -euo pipefail
start_time=$SECONDS
command_line="$0 $*"
recipe_dir=$(pwd)
template_dir=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
. "$template_dir/utils/common.sh"

# Options (each one: --name value).
stage=1; stop_stage=6
ngpu=0; nj=1; inference_nj=1; fs=8000; min_seconds=0.5
num_nodes=1; node_rank=0; dist_init_method=; train_cmd=
train_set=train; valid_set=dev; test_sets=test
enh_config=; inference_config=; inference_model=valid.loss.ave.pth
inference_reps=; inference_sep_reps=; expdir=exp; dumpdir=dump; datadir=data
local_data_opts=; enh_args=; hf_repo=
speech_fold_length=80000; init_param=; activation_checkpointing=; auto_threshold=; packed_model=; dynamic_mixing=
[ -f ./cmd.sh ] && . ./cmd.sh  # the recipe's train_cmd default (local or Slurm)
options="stage stop_stage ngpu nj inference_nj fs min_seconds num_nodes node_rank dist_init_method \
train_cmd train_set valid_set test_sets enh_config inference_config inference_model inference_reps \
inference_sep_reps expdir dumpdir datadir local_data_opts enh_args hf_repo speech_fold_length init_param \
activation_checkpointing auto_threshold packed_model dynamic_mixing"
help_message="Usage: $0 [options]   (run from egs2/<corpus>/enh1)
  --inference_reps takes one depth or a quoted list, e.g. \"1 2 4 6 8\" (default: the config's n_re).
  --inference_sep_reps \"1 2\" also varies the separation block's repetitions: stages 5-6 decode and
    score the grid (one pass per value into <split>/sep<n>/), one RESULTS row per pair and a
    quality-vs-RTF frontier in the plot (default: the config's n_sep, no grid).
  --ngpu N trains on N GPUs of this node (one process each, DDP); 0 trains on the CPU.
  Several nodes: run stage 4 on every node with --num_nodes M --node_rank 0..M-1 and one
  --dist_init_method (tcp://<node 0 address>:<port>, or file://<path on a shared file system>).
  --train_cmd is a prefix for the training command (cmd.sh sets it: empty, or srun ... on Slurm).
  --inference_nj N decodes with N parallel jobs (stage 5; on the CPU each gets its share of threads).
  --speech_fold_length L: with batch_type folded, batches shrink for utterances longer than L samples.
  --init_param X starts training from a trained model: a packed_model.tar.gz (stage 7), a folder with
    model.pth (e.g. convert_authors_model's output), or a .pth file (ESPnet's path:src:dst:exclude too).
  --activation_checkpointing true recomputes each block in the backward pass (less memory, ~1 block
    forward more per repetition); empty keeps the config's choice.
  --auto_threshold T: the threshold of depth \"auto\" in stage 5; empty: calibrated on --valid_set
    (exp/<config>/auto_calibration.json, packed with the model in stage 7).
  --dynamic_mixing true trains on mixtures remixed on the fly from the training set's sources
    (ESPnet's dynamic mixing, distinct speakers, the config's crop length; stage 2 writes the
    source lists, dump/<train_set>_sources/); validation and test sets stay as they are. Empty:
    true for a config with preprocessor: dynamic_mixing_crop (conf/*_dm.yaml), else false.
  --packed_model X: stages 5-6 decode and score a packed model (a stage-7 archive, or a model shipped
    in the package, e.g. mini_2mix) instead of the trained one, into exp/<X's name>/; no --enh_config."
. "$template_dir/utils/parse_options.sh"

for name in stage stop_stage ngpu nj node_rank; do
    check_int "$name" "${!name}" 0
done
check_int stage "$stage" 1
check_int inference_nj "$inference_nj" 1
check_int speech_fold_length "$speech_fold_length" 1
config_mixes=$([ -f "$enh_config" ] && grep -Eq '^preprocessor: *dynamic_mixing_crop *(#.*)?$' "$enh_config" \
    && echo true || echo false)
case "$dynamic_mixing" in
    "") dynamic_mixing=$config_mixes ;;
    true) ;;
    false) ! $config_mixes || { echo "error: --dynamic_mixing false, but $enh_config trains with dynamic \
mixing (preprocessor: dynamic_mixing_crop); use a config without it" >&2; exit 2; } ;;
    *) echo "error: --dynamic_mixing must be true or false, got '$dynamic_mixing'" >&2; exit 2 ;;
esac
case "$activation_checkpointing" in
    ""|true|false) ;;
    *) echo "error: --activation_checkpointing must be true or false, got '$activation_checkpointing'" >&2; exit 2 ;;
esac
check_int num_nodes "$num_nodes" 1
[ "$node_rank" -lt "$num_nodes" ] || { echo "error: --node_rank $node_rank must be < --num_nodes $num_nodes" >&2; exit 2; }
[ "$num_nodes" -eq 1 ] || [ -n "$dist_init_method" ] || { echo "error: --num_nodes $num_nodes needs \
--dist_init_method tcp://<node 0 address>:<port> (or file://<path on a shared file system>)" >&2; exit 2; }
[ "$stage" -le "$stop_stage" ] || { echo "error: --stage $stage is after --stop_stage $stop_stage" >&2; exit 2; }
if [ -n "$packed_model" ]; then
    [ "$stage" -ge 5 ] && [ "$stop_stage" -le 6 ] || { echo "error: --packed_model is for stages 5-6 \
(decoding and scoring a packed model), not --stage $stage --stop_stage $stop_stage" >&2; exit 2; }
else
    [ -n "$enh_config" ] || { echo "error: --enh_config is required" >&2; exit 2; }
    [ -f "$enh_config" ] || { echo "error: --enh_config $enh_config does not exist" >&2; exit 2; }
fi
[ -z "$auto_threshold" ] || [[ "$auto_threshold" =~ ^[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?$ ]] || {
    echo "error: --auto_threshold must be a number > 0, got '$auto_threshold'" >&2; exit 2; }
for reps in $inference_reps; do
    [ "$reps" = auto ] || check_int inference_reps "$reps" 1  # or "auto": the adaptive depth
done
for reps in $inference_sep_reps; do
    check_int inference_sep_reps "$reps" 1
done
[ -n "$inference_config" ] && [ ! -f "$inference_config" ] && { echo "error: --inference_config $inference_config does not exist" >&2; exit 2; }
for name in dumpdir train_set valid_set; do  # ESPnet's --*_data_path_and_name_and_type splits on commas
    [[ "${!name}" != *,* ]] || { echo "error: --$name '${!name}' must not contain a comma" >&2; exit 2; }
done

for name in expdir dumpdir datadir enh_config inference_config; do  # "-x" would read as an option
    [[ "${!name}" != -* ]] || printf -v "$name" './%s' "${!name}"
done

if [ -n "$packed_model" ]; then
    model_name=$(basename "$packed_model" .tar.gz)
else
    model_name=$(basename "$enh_config" .yaml)
fi
exp="$expdir/$model_name"
stats="$expdir/stats_${fs}$($dynamic_mixing && echo _dm || true)"  # dynamic mixing: shapes of the sources
logs="$exp/logs"
python=${PYTHON:-python}

data_args=()
add_data_args() {  # add_data_args SPLIT PREFIX: append a dump dir's --*data_path_and_name_and_type to data_args
    local dir="$dumpdir/$1" j
    data_args+=("--${2}data_path_and_name_and_type=$dir/wav.scp,speech_mix,sound")
    for ((j = 1; j <= $(num_spk); j++)); do
        data_args+=("--${2}data_path_and_name_and_type=$dir/spk$j.scp,speech_ref$j,sound")
    done
}
add_train_data_args() {  # the training set's data args: its mixtures, or its sources to remix
    if $dynamic_mixing; then
        [ -f "$dumpdir/${train_set}_sources/spk1.scp" ] || die "dynamic mixing needs $dumpdir/${train_set}_sources/ \
(stage 2 writes it when $datadir/$train_set/utt2spk gives the speakers of each mixture, spk1_spk2[_spk3]; see its log)"
        data_args+=("--train_data_path_and_name_and_type=$dumpdir/${train_set}_sources/spk1.scp,speech_ref1,sound"
                    --dynamic_mixing true --utt2spk "$dumpdir/${train_set}_sources/utt2spk"
                    --preprocessor dynamic_mixing_crop)
    else
        add_data_args "$train_set" train_
    fi
}
num_spk() {
    local j=0
    while [ -f "$dumpdir/$train_set/spk$((j + 1)).scp" ]; do j=$((j + 1)); done
    echo "$j"
}

# Training or decoding on GPUs that this machine lacks stops here, before hours of data preparation.
# (Stage 4 behind a launcher, --train_cmd "srun ...", trains on the machine the launcher picks.)
trains_here=$([ -z "$train_cmd" ] && [ "$stage" -le 4 ] && [ "$stop_stage" -ge 4 ] && echo true || echo false)
decodes_here=$([ "$stage" -le 5 ] && [ "$stop_stage" -ge 5 ] && echo true || echo false)
if [ "$ngpu" -gt 0 ] && { $trains_here || $decodes_here; }; then
    "$python" -m espnet2_tisdiss.stages.devices --ngpu "$ngpu" --config="$enh_config" --fs "$fs" || exit 2
fi

# Stages 1-3 write data/, dump/ and the statistics; 4-8 write exp/<config>/ (only node 0 of a
# multi-node training: the other nodes share that folder on purpose).
if [ "$stage" -le 3 ]; then
    hold_run_lock data_lock_fd "$dumpdir/.lock" "stages $stage-$stop_stage ($command_line)"
fi
if [ "$stop_stage" -ge 4 ] && [ "$node_rank" -eq 0 ]; then
    hold_run_lock exp_lock_fd "$exp/.lock" "stages $stage-$stop_stage ($command_line)"
fi

if in_stage 1 "data preparation (local/data.sh)"; then
    # shellcheck disable=SC2086
    run_logged "$logs/stage1_data.log" ./local/data.sh --datadir "$datadir" $local_data_opts
fi

if in_stage 2 "formatting: Kaldi data dirs at ${fs} Hz, utterances >= ${min_seconds} s"; then
    for split in "$train_set" "$valid_set" $test_sets; do
        run_logged "$logs/stage2_format_${split}.log" "$python" -m espnet2_tisdiss.stages.format_data \
            --src="$datadir/$split" --dst="$dumpdir/$split" --fs "$fs" --min_seconds "$min_seconds"
    done
    run_logged "$logs/stage2_sources_${train_set}.log" "$python" -m espnet2_tisdiss.stages.source_lists \
        --src="$dumpdir/$train_set" --dst="$dumpdir/${train_set}_sources" --if_speakers_known  # for --dynamic_mixing true
fi

if in_stage 3 "shape statistics"; then
    data_args=(); add_train_data_args; add_data_args "$valid_set" valid_
    train_keys=$dumpdir/$train_set$($dynamic_mixing && echo _sources/spk1.scp || echo /wav.scp)
    run_logged "$logs/stage3_stats.log" "$python" -m espnet2_tisdiss.bin.enh_train \
        --collect_stats true --config="$enh_config" --ngpu 0 --num_workers 0 \
        --batch_type unsorted --batch_size 1 \
        --train_shape_file="$train_keys" --valid_shape_file="$dumpdir/$valid_set/wav.scp" \
        "${data_args[@]}" --output_dir="$stats"
fi
[ -z "${data_lock_fd:-}" ] || exec {data_lock_fd}>&-  # stages 1-3 done: another run may use dump/

if in_stage 4 "training $model_name on $ngpu GPU(s), node $node_rank of $num_nodes (resumes if interrupted)"; then
    # ESPnet's own DDP: with --multiprocessing_distributed true it spawns one process per GPU
    # when ngpu > 1, and joins the other nodes when given --dist_world_size (nodes) and
    # --dist_rank (this node); on the CPU the processes talk through gloo.
    dist_args=(--multiprocessing_distributed true)
    train_log="$logs/stage4_train.log"
    if [ "$num_nodes" -gt 1 ]; then
        dist_args+=(--dist_world_size "$num_nodes" --dist_rank "$node_rank" --dist_init_method "$dist_init_method")
        train_log="$logs/stage4_train.node${node_rank}.log"
    fi
    [ "$ngpu" -eq 0 ] && dist_args+=(--dist_backend gloo)
    read -ra launcher <<< "$train_cmd"
    compgen -G "$stats/train/*_shape" >/dev/null || die "no shape statistics in $stats/train; run stage 3 first"
    shapes=()  # one --fold_length per shape file (ESPnet's folded batches need them; others ignore them)
    for f in "$stats/train/"*_shape; do shapes+=("--train_shape_file=$f" --fold_length "$speech_fold_length"); done
    for f in "$stats/valid/"*_shape; do shapes+=("--valid_shape_file=$f"); done
    data_args=(); add_train_data_args; add_data_args "$valid_set" valid_
    model_args=()
    if [ -n "$init_param" ]; then
        init_file=$("$python" -m espnet2_tisdiss.stages.init_model --source="$init_param" --work_dir="$exp/init_model") \
            || die "--init_param $init_param cannot be used (see above)"
        model_args+=("--init_param=$init_file")
    fi
    [ -z "$activation_checkpointing" ] || model_args+=(--separator_conf "activation_checkpointing=$activation_checkpointing")
    read -ra extra_args <<< "$enh_args"  # split on blanks, as documented: "--max_epoch 10 --lr 1e-3"
    run_logged "$train_log" "${launcher[@]}" "$python" -m espnet2_tisdiss.bin.enh_train \
        --config="$enh_config" --ngpu "$ngpu" "${dist_args[@]}" \
        --resume true --output_dir="$exp" "${shapes[@]}" \
        "${data_args[@]}" "${model_args[@]}" "${extra_args[@]}"
fi

if [ -n "$packed_model" ]; then
    decode_root="$exp/decode_packed"; model_label="packed: $packed_model"
else
    decode_root="$exp/decode_$(basename "$inference_model" .pth)"; model_label=$inference_model
fi
if in_stage 5 "decoding ${test_sets} at depth(s) ${inference_reps:-n_re} in one pass${inference_sep_reps:+ per N_sep in $inference_sep_reps}"; then
    if [ -n "$packed_model" ]; then
        model_files=("--model_archive=$packed_model")
    else
        model_files=("--train_config=$exp/config.yaml" "--model_file=$exp/$inference_model")
    fi
    auto_args=()
    if [[ " $inference_reps " == *" auto "* ]]; then
        if [ -n "$auto_threshold" ]; then
            auto_args=(--auto_threshold "$auto_threshold")
        elif [ -z "$packed_model" ]; then  # (a packed model brings its own calibrated threshold)
            run_logged "$logs/stage5_calibrate_auto.log" "$python" -m espnet2_tisdiss.bin.calibrate_auto \
                "${model_files[@]}" --data_dir="$dumpdir/$valid_set" --output="$exp/auto_calibration.json" \
                --device "$([ "$ngpu" -gt 0 ] && echo cuda || echo cpu)"
            auto_args=(--auto_threshold "$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["threshold"])' "$exp/auto_calibration.json")")
        fi
    fi
    for split in $test_sets; do
        # shellcheck disable=SC2086
        run_logged "$logs/stage5_decode_${split}.log" "$python" -m espnet2_tisdiss.bin.separate_depths \
            "${model_files[@]}" "${auto_args[@]}" \
            --data_dir="$dumpdir/$split" --output_dir="$decode_root/$split" \
            --device "$([ "$ngpu" -gt 0 ] && echo cuda || echo cpu)" --nj "$inference_nj" \
            ${inference_reps:+--inference_reps $inference_reps} \
            ${inference_sep_reps:+--inference_sep_reps $inference_sep_reps} \
            ${inference_config:+"--inference_config=$inference_config"}
    done
fi

if in_stage 6 "scoring, RESULTS.md and plot"; then
    decode_dirs=()
    for split in $test_sets; do
        for grid_dir in ${inference_sep_reps:-.}; do  # the grid's sep<n> folders, or the split's own
            decode_dir=$decode_root/$split${inference_sep_reps:+/sep$grid_dir}
            run_logged "$logs/stage6_score_${split}${inference_sep_reps:+_sep$grid_dir}.log" "$python" \
                -m espnet2_tisdiss.bin.score_separation --data_dir="$dumpdir/$split" --decode_dir="$decode_dir" --nj "$nj"
            decode_dirs+=("$decode_dir")
        done
    done
    run_logged "$logs/stage6_results.log" "$python" -m espnet2_tisdiss.bin.make_results \
        --output="$exp/RESULTS.md" --plot="$exp/quality_vs_depth.png" --title="$model_name ($model_label)" \
        --decode_dirs "${decode_dirs[@]}"
fi

if in_stage 7 "packing the model"; then
    calibration=
    if [ -f "$exp/auto_calibration.json" ]; then
        calibration=$("$python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["threshold"])' "$exp/auto_calibration.json")
    fi
    run_logged "$logs/stage7_pack.log" "$python" -m espnet2_tisdiss.bin.pack_model \
        --train_config="$exp/config.yaml" --model_file="$exp/$inference_model" \
        --results="$exp/RESULTS.md" --fs "$fs" --output="$exp/packed_model.tar.gz" \
        ${calibration:+--auto_threshold "$calibration"}
fi

if in_stage 8 "upload to the Hugging Face Hub"; then
    run_logged "$logs/stage8_upload.log" "$python" -m espnet2_tisdiss.bin.upload_model \
        --archive="$exp/packed_model.tar.gz" --repo_id="$hf_repo"
fi

log "Finished stages $stage-$stop_stage in $((SECONDS - start_time)) s; outputs under $exp"
