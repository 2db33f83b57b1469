"""The benchmark recipes as their users run them: stages 1-7 with each recipe's shipped config, on
fake corpora in the real layouts; the GPU default; fine-tuning from a packed model; and a short
training dry run of every config in conf/.

Only time is shortened, from the command line: two epochs of one step of one mixture (so the
checkpoint average takes the 2 best epochs instead of 5), and the fake corpora's 0.25-0.35 s
files (``--min_seconds 0.1``). The model, batch type, optimiser, scheduler and decode depths are
the shipped ones.
"""

import re
import shutil
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet2_tisdiss.fileio.checkpoint import load_state_dict_file
from espnet2_tisdiss.fileio.model_archive import pack_model
from espnet2_tisdiss.inference import Separator
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask
from tests.corpora.fake_corpora import librimix_tree, whamr_tree, wsj0_mix_tree
from tests.recipes.conftest import REPO, copy_recipes, run_recipe

CORPORA = {  # recipe -> (db.sh variable, fake tree builder, test set)
    "wsj0_2mix": ("WSJ0_2MIX", lambda root: wsj0_mix_tree(root, lengths=(1200, 1000, 1400)), "tt"),
    "wsj0_3mix": ("WSJ0_3MIX", lambda root: wsj0_mix_tree(root, lengths=(1200, 1000), num_speakers=3), "tt"),
    "libri2mix": ("LIBRIMIX", librimix_tree, "test"),
    "libri3mix": ("LIBRIMIX", lambda root: librimix_tree(root, num_speakers=3), "test"),
    "whamr": ("WHAMR", whamr_tree, "tt"),
}
SHORT = ("--min_seconds", "0.1", "--ngpu", "0")
TWO_STEPS = ("--enh_args", "--max_epoch 2 --num_iters_per_epoch 1 --batch_size 1 --keep_nbest_models 2")


def shipped(corpus: str):
    """The config path and the depths that ``egs2/<corpus>/enh1/run.sh`` ships."""
    lines = (REPO / "egs2" / corpus / "enh1/run.sh").read_text().splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    config = re.search(r"--enh_config (\S+)", text).group(1)
    depths = re.search(r'--inference_reps "([^"]+)"', text).group(1).split()
    return Path(config).name, depths


@pytest.mark.slow
@pytest.mark.parametrize("corpus", list(CORPORA))
def test_stages_1_to_7_with_the_shipped_config(tmp_path, monkeypatch, corpus):
    variable, build, test_set = CORPORA[corpus]
    build(tmp_path / "corpus")
    monkeypatch.setenv(variable, str(tmp_path / "corpus"))
    here = copy_recipes(tmp_path) / corpus / "enh1"
    config_name, depths = shipped(corpus)
    run_recipe(here, "--stage", "1", "--stop_stage", "7", *SHORT, *TWO_STEPS)

    exp = here / "exp" / Path(config_name).stem
    trained = yaml.safe_load((exp / "config.yaml").read_text())
    ours = yaml.safe_load((REPO / "conf" / config_name).read_text())
    for key in ("separator_conf", "batch_type", "optim", "optim_conf", "scheduler", "scheduler_conf",
                "speech_segment", "criterions", "model_conf"):
        assert trained[key] == ours[key], key
    assert trained["batch_size"] == 1 and trained["fold_length"] == [80000] * (1 + ours["num_spk"])  # folded batches work

    first, second = load_state_dict_file(exp / "1epoch.pth"), load_state_dict_file(exp / "2epoch.pth")
    assert any(not torch.equal(first[k], second[k]) for k in first)  # the optimiser stepped
    average = load_state_dict_file(exp / "valid.loss.ave.pth")
    assert (exp / "valid.loss.ave.pth").resolve().name == "valid.loss.ave_2best.pth"
    for key, value in average.items():
        if value.is_floating_point():
            assert torch.allclose(value, (first[key] + second[key]) / 2, atol=1e-6), key

    results = (exp / "RESULTS.md").read_text()
    assert re.findall(rf"^\| {test_set} \| (\d+) \|", results, flags=re.M) == depths
    speakers = ours["num_spk"]
    decoded, = exp.glob(f"decode_*/{test_set}/reps{depths[-1]}")
    assert sorted(p.name for p in decoded.glob("spk*.scp")) == [f"spk{j}.scp" for j in range(1, speakers + 1)]
    separator = Separator.from_pretrained(exp / "packed_model.tar.gz")
    sources = separator(torch.randn(2400).numpy(), fs=8000, inference_reps=int(depths[-1]))
    assert len(sources) == speakers and all(x.shape == (2400,) for x in sources)


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_without_a_gpu_the_default_stops_at_once_and_says_how_to_use_the_cpu(tmp_path, monkeypatch, corpus):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    variable, build, _ = CORPORA[corpus]
    build(tmp_path / "corpus")
    monkeypatch.setenv(variable, str(tmp_path / "corpus"))
    here = copy_recipes(tmp_path) / corpus / "enh1"
    start = time.monotonic()
    proc = run_recipe(here, check=False)
    assert time.monotonic() - start < 60  # not after hours of data preparation
    assert proc.returncode == 2
    config_name = Path(shipped(corpus)[0]).stem
    assert "--ngpu 1 asks for 1 CUDA GPU(s) but this machine has 0" in proc.stderr
    assert "pass --ngpu 0 to train and decode on the CPU" in proc.stderr
    assert re.search(rf"one training step of {config_name} takes about \d+ s per second of audio", proc.stderr)
    assert "min per step" in proc.stderr
    assert not (here / "data").exists() and not (here / "exp").exists()  # nothing done, nothing locked


@pytest.fixture(scope="module")
def prepared_wsj0_2mix(tmp_path_factory):
    """The wsj0_2mix recipe after stages 1-3 on a fake tree (shared by the dry runs)."""
    root = tmp_path_factory.mktemp("dry_run")
    wsj0_mix_tree(root / "corpus")
    here = copy_recipes(root) / "wsj0_2mix/enh1"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WSJ0_2MIX", str(root / "corpus"))
        run_recipe(here, "--stage", "1", "--stop_stage", "3", *SHORT)
    return here


RECIPE_CONFIGS = {shipped(corpus)[0] for corpus in CORPORA}  # trained in full above
DM_CONFIGS = sorted(p.name for p in (REPO / "conf").glob("*_dm.yaml"))  # the recipe configs with dynamic mixing
THREE_SPEAKER_CONFIGS = sorted(p.name for p in (REPO / "conf").glob("*_3spk.yaml"))  # trained by the 3-speaker recipes


@pytest.mark.parametrize("config", DM_CONFIGS)
def test_dynamic_mixing_configs_are_their_recipe_config_with_dynamic_mixing(config):
    """What they add is trained by the mini recipe's dynamic-mixing test; the rest by the recipe tests."""
    ours = yaml.safe_load((REPO / "conf" / config).read_text())
    base = yaml.safe_load((REPO / "conf" / config.replace("_dm.yaml", ".yaml")).read_text())
    assert ours.pop("preprocessor") == "dynamic_mixing_crop" and base.pop("preprocessor") == "enh"
    assert ours.pop("preprocessor_conf") == {"dynamic_mixing_gain_db": 2.5}
    assert ours == base


@pytest.mark.parametrize("config", THREE_SPEAKER_CONFIGS)
def test_three_speaker_configs_are_their_two_speaker_config_with_three_outputs(config):
    ours = yaml.safe_load((REPO / "conf" / config).read_text())
    base = yaml.safe_load((REPO / "conf" / config.replace("_3spk.yaml", ".yaml")).read_text())
    assert ours.pop("num_spk") == ours["separator_conf"].pop("num_spk") == 3
    assert base.pop("num_spk") == base["separator_conf"].pop("num_spk") == 2
    assert ours == base


@pytest.mark.slow
@pytest.mark.parametrize("config", sorted(p.name for p in (REPO / "conf").glob("*.yaml")
                                          if p.name not in {*RECIPE_CONFIGS, *DM_CONFIGS, *THREE_SPEAKER_CONFIGS}))
def test_every_config_trains_through_stage_4(prepared_wsj0_2mix, config):
    """ESPnet's CI dry-runs every training config; ours takes one real optimiser step through stage 4."""
    here = prepared_wsj0_2mix
    run_recipe(here, "--stage", "4", "--stop_stage", "4", *SHORT, "--enh_config", f"../../../conf/{config}",
               "--enh_args", "--max_epoch 1 --num_iters_per_epoch 1 --batch_size 1")
    exp = here / "exp" / Path(config).stem
    log = (exp / "logs/stage4_train.log").read_text()
    assert "1epoch results" in log
    loss = float(re.search(r"\[train\].*? loss=(-?[\d.]+)", log).group(1))
    assert abs(loss) < 1e3
    state = load_state_dict_file(exp / "valid.loss.ave.pth")
    assert all(torch.isfinite(v).all() for v in state.values() if v.is_floating_point())


@pytest.mark.slow
def test_fine_tuning_starts_from_the_packed_models_weights(tmp_path, monkeypatch):
    wsj0_mix_tree(tmp_path / "corpus", lengths=(1000, 900, 1100))
    monkeypatch.setenv("WSJ0_2MIX", str(tmp_path / "corpus"))
    here = copy_recipes(tmp_path) / "wsj0_2mix/enh1"
    tiny = ("--enh_config", "../../../conf/tisdiss_tiny.yaml")
    run_recipe(here, "--stage", "1", "--stop_stage", "3", *SHORT, *tiny)
    config = REPO / "conf/tisdiss_tiny.yaml"
    model = TISDiSSEnhancementTask.build_model(TISDiSSEnhancementTask.get_parser().parse_args(["--config", str(config)]))
    torch.manual_seed(3)
    pretrained = {k: v + torch.randn_like(v) if v.is_floating_point() else v for k, v in model.state_dict().items()}
    torch.save(pretrained, tmp_path / "model.pth")
    packed = pack_model(config, tmp_path / "model.pth", tmp_path / "pretrained.tar.gz", fs=8000)

    no_steps = "--max_epoch 1 --num_iters_per_epoch 1 --optim_conf lr=0"  # lr 0: weights stay as loaded
    run_recipe(here, "--stage", "4", "--stop_stage", "4", *SHORT, *tiny, "--init_param", str(packed),
               "--enh_args", no_steps)
    tuned = load_state_dict_file(here / "exp/tisdiss_tiny/1epoch.pth")
    for key, value in pretrained.items():
        assert torch.allclose(tuned[key], value), key  # started from the packed model, not afresh
    shutil.rmtree(here / "exp/tisdiss_tiny")
    run_recipe(here, "--stage", "4", "--stop_stage", "4", *SHORT, *tiny, "--enh_args", no_steps,
               "--activation_checkpointing", "true")
    separator_conf = yaml.safe_load((here / "exp/tisdiss_tiny/config.yaml").read_text())["separator_conf"]
    shipped_conf = yaml.safe_load(config.read_text())["separator_conf"]
    assert separator_conf == dict(shipped_conf, activation_checkpointing=True)  # merged into the config's
    fresh = load_state_dict_file(here / "exp/tisdiss_tiny/1epoch.pth")
    assert not any(torch.allclose(fresh[k], v) for k, v in pretrained.items() if v.is_floating_point())

    proc = run_recipe(here, "--stage", "4", "--stop_stage", "4", *SHORT, *tiny,
                      "--init_param", str(tmp_path / "missing.tar.gz"), check=False)
    assert proc.returncode != 0 and "missing.tar.gz does not exist" in proc.stderr


def quality_columns(results: Path):
    """The RESULTS rows without the RTF column (timings differ between runs)."""
    return [line.rsplit("|", 2)[0] for line in results.read_text().splitlines() if line.startswith("| tt |")]


@pytest.mark.slow
def test_parallel_decoding_jobs_give_the_results_of_one(prepared_wsj0_2mix):
    here = prepared_wsj0_2mix
    tiny = ("--enh_config", "../../../conf/tisdiss_tiny.yaml", "--expdir", "exp_jobs", "--inference_reps", "1 3")
    run_recipe(here, "--stage", "3", "--stop_stage", "6", *SHORT, *tiny, "--enh_args", "--max_epoch 1")
    exp = here / "exp_jobs/tisdiss_tiny"
    one = quality_columns(exp / "RESULTS.md")
    decoded = exp / "decode_valid.loss.ave/tt"
    waves = {p.relative_to(decoded): sf.read(p)[0] for p in decoded.rglob("*.wav")}
    shutil.rmtree(decoded)
    proc = run_recipe(here, "--stage", "5", "--stop_stage", "6", *SHORT, *tiny, "--inference_nj", "2")
    assert "--nj 2" in proc.stderr
    assert len(one) == 2 and quality_columns(exp / "RESULTS.md") == one
    again = {p.relative_to(decoded): sf.read(p)[0] for p in decoded.rglob("*.wav")}
    assert sorted(again) == sorted(waves) and len(waves) == 2 * 2 * 2  # depths x speakers x utterances
    for name, wave in waves.items():
        assert np.allclose(again[name], wave, atol=1e-6), name


def test_gpu_check_leaves_a_launchers_training_alone_and_stage_4_needs_statistics(tmp_path):
    """With --train_cmd (srun ...) stage 4 trains where the launcher puts it: no local GPU needed."""
    here = copy_recipes(tmp_path) / "wsj0_2mix/enh1"
    proc = run_recipe(here, "--stage", "4", "--stop_stage", "4", "--train_cmd", "true", check=False)
    assert "CUDA GPU(s)" not in proc.stderr
    assert proc.returncode != 0 and "no shape statistics in exp/stats_8000/train; run stage 3 first" in proc.stderr
    if not torch.cuda.is_available():  # decoding runs here, launcher or not
        proc = run_recipe(here, "--stage", "4", "--stop_stage", "5", "--train_cmd", "true", check=False)
        assert proc.returncode == 2 and "asks for 1 CUDA GPU(s)" in proc.stderr
