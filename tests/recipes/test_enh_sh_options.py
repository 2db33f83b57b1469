"""The shared staged script rejects bad options with a clear message and a non-zero exit."""

import pytest

from tests.recipes.conftest import run_recipe


@pytest.mark.parametrize(
    "args,message",
    [
        (("--no_such_option", "1"), "unknown option --no_such_option"),
        (("--stage", "5", "--stop_stage", "3"), "--stage 5 is after --stop_stage 3"),
        (("--stage", "x"), "--stage must be an integer"),
        (("--inference_reps", "0"), "--inference_reps must be an integer >= 1, got '0'"),
        (("--inference_reps", "1 two"), "--inference_reps must be an integer >= 1, got 'two'"),
        (("--inference_sep_reps", "1 auto"), "--inference_sep_reps must be an integer >= 1, got 'auto'"),
        (("--enh_config", "nope.yaml"), "--enh_config nope.yaml does not exist"),
        (("--dynamic_mixing", "yes"), "--dynamic_mixing must be true or false, got 'yes'"),
        (("--stage", "3", "--stop_stage", "3", "--dynamic_mixing", "true"),
         "dynamic mixing needs dump/train_sources/ (stage 2 writes it when data/train/utt2spk gives"),
        (("--dynamic_mixing", "false", "--enh_config", "../../../conf/tisdiss_sep1x2_re1x6_dm.yaml"),
         "--dynamic_mixing false, but ../../../conf/tisdiss_sep1x2_re1x6_dm.yaml trains with dynamic mixing"),
        (("--stage",), "option --stage needs a value"),
        (("--inference_nj", "0"), "--inference_nj must be an integer >= 1, got '0'"),
        (("--speech_fold_length", "-5"), "--speech_fold_length must be an integer >= 1"),
        (("--activation_checkpointing", "yes"), "--activation_checkpointing must be true or false, got 'yes'"),
        (("--auto_threshold", "abc"), "--auto_threshold must be a number > 0, got 'abc'"),
        (("--auto_threshold", "-1"), "--auto_threshold must be a number > 0, got '-1'"),
        (("--packed_model", "mini_2mix"), "--packed_model is for stages 5-6 (decoding and scoring a packed model), "
                                           "not --stage 1 --stop_stage 6"),
    ],
)
def test_bad_options(recipe, args, message):
    proc = run_recipe(recipe, *args, check=False)
    assert proc.returncode != 0
    assert message in proc.stderr


def test_help_lists_options_with_defaults(recipe):
    proc = run_recipe(recipe, "--help")
    assert "--stop_stage" in proc.stdout and "[6]" in proc.stdout
    assert "--inference_reps" in proc.stdout


def test_missing_data_dir_stops_stage_2(recipe):
    proc = run_recipe(recipe, "--stage", "2", "--stop_stage", "2", check=False)
    assert proc.returncode != 0
    assert "data dir data/train does not exist; run stage 1" in proc.stdout + proc.stderr
    assert "see the log: exp/tisdiss_mini/logs/stage2_format_train.log" in proc.stderr


def test_empty_data_dir_stops_stage_2(recipe):
    (recipe / "data/train").mkdir(parents=True)
    (recipe / "data/train/wav.scp").write_text("")
    (recipe / "data/train/spk1.scp").write_text("")
    (recipe / "data/train/spk2.scp").write_text("")
    proc = run_recipe(recipe, "--stage", "2", "--stop_stage", "2", check=False)
    assert proc.returncode != 0
    assert "data/train/wav.scp is empty" in proc.stdout + proc.stderr
    assert not (recipe / "dump/train").exists()


def test_auto_is_a_valid_depth(recipe):
    proc = run_recipe(recipe, "--inference_reps", "1 auto", "--stage", "2", "--stop_stage", "2", check=False)
    assert "--inference_reps must be" not in proc.stderr
    assert "data dir data/train does not exist" in proc.stdout + proc.stderr  # got past the option checks
