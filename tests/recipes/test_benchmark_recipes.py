"""The benchmark recipes (wsj0-2mix, wsj0-3mix, Libri2Mix, Libri3Mix, WHAMR!) through stages 1-2 on tiny fake corpora,
their errors for a missing corpus, and a 2-process distributed training epoch (gloo, CPU)."""

import os
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml

from espnet2_tisdiss.fileio.checkpoint import load_state_dict_file
from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask
from tests.corpora.fake_corpora import (LIBRI3_IDS, LIBRI_IDS, WSJ3_NAMES, WSJ_NAMES, librimix_tree, whamr_tree,
                                        wsj0_mix_tree)
from tests.recipes.conftest import run_recipe

LSB = 1 / 32768
CORPORA = {  # recipe -> (db.sh variable, fake tree builder, data sets, speakers)
    "wsj0_2mix": ("WSJ0_2MIX", wsj0_mix_tree, ("tr", "cv", "tt"), 2),
    "wsj0_3mix": ("WSJ0_3MIX", lambda root: wsj0_mix_tree(root, num_speakers=3), ("tr", "cv", "tt"), 3),
    "libri2mix": ("LIBRIMIX", librimix_tree, ("train", "dev", "test"), 2),
    "libri3mix": ("LIBRIMIX", lambda root: librimix_tree(root, num_speakers=3), ("train", "dev", "test"), 3),
    "whamr": ("WHAMR", whamr_tree, ("tr", "cv", "tt"), 2),
}
STAGES_1_2 = ("--stage", "1", "--stop_stage", "2", "--min_seconds", "0.1")


def recipe_dir(recipe: Path, corpus: str) -> Path:
    return recipe.parent.parent / corpus / "enh1"


def expected_utts(corpus: str, split: str):
    """Utterance ids: the speakers of the mixture, then its name."""
    if corpus.startswith("libri"):
        ids = (LIBRI_IDS if corpus == "libri2mix" else LIBRI3_IDS)[{"train": "train-360"}.get(split, split)]
        return sorted("_".join([*(u.split("-")[0] for u in i.split("_")), i]) for i in ids)
    names = WSJ3_NAMES if corpus == "wsj0_3mix" else WSJ_NAMES
    return sorted("_".join([*(u[:3] for u in n.split("_")[0::2]), n]) for n in names[split])


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_stages_1_2_on_a_fake_corpus(recipe, tmp_path, monkeypatch, corpus):
    variable, build, splits, speakers = CORPORA[corpus]
    build(tmp_path / "corpus")
    monkeypatch.setenv(variable, str(tmp_path / "corpus"))
    here = recipe_dir(recipe, corpus)
    run_recipe(here, *STAGES_1_2)
    for split in splits:
        dump = here / "dump" / split
        lengths = read_scp(dump / "utt2num_samples")
        assert sorted(lengths) == expected_utts(corpus, split)
        assert not (dump / f"spk{speakers + 1}.scp").exists()
        for utt, n in lengths.items():
            mix = sf.read(read_scp(dump / "wav.scp")[utt])[0]
            refs = [sf.read(read_scp(dump / f"spk{j}.scp")[utt])[0] for j in range(1, speakers + 1)]
            assert all(len(x) == int(n) for x in (mix, *refs))
            for j in range(1, speakers + 1):  # speaker order: spk<j> is s<j>
                assert Path(read_scp(dump / f"spk{j}.scp")[utt]).parent.name in (f"s{j}", f"s{j}_anechoic")
            if corpus != "whamr":
                assert np.abs(mix - sum(refs)).max() <= 2 * LSB  # clean: the sum of the sources is the mix
            else:  # reverberant mixture, anechoic targets: no sum, but the same utterance
                source = Path(read_scp(dump / "spk1.scp")[utt])
                assert source.name == Path(read_scp(dump / "wav.scp")[utt]).name
    check_source_lists(here, speakers)
    again = run_recipe(here, "--stage", "1", "--stop_stage", "1")
    assert "already prepared" in again.stdout + again.stderr


def check_source_lists(recipe: Path, num_speakers: int = 2):
    """Stage 2's source lists for dynamic mixing: every source of every training mixture, with its speaker."""
    sources, = (recipe / "dump").glob("*_sources")
    mixtures = recipe / "dump" / sources.name[:-len("_sources")]
    pairs = read_scp(mixtures / "utt2spk")
    js = range(1, num_speakers + 1)
    refs = [read_scp(mixtures / f"spk{j}.scp") for j in js]
    listed, speakers = read_scp(sources / "spk1.scp"), read_scp(sources / "utt2spk")
    assert len(listed) == len(speakers) == num_speakers * len(pairs) > 0
    for utt, pair in pairs.items():
        for j in js:
            assert listed[f"{utt}_s{j}"] == refs[j - 1][utt]
            assert speakers[f"{utt}_s{j}"] == pair.split("_")[j - 1]
        assert len({speakers[f"{utt}_s{j}"] for j in js}) == num_speakers


def test_whamr_refuses_dynamic_mixing(recipe):
    here = recipe_dir(recipe, "whamr")
    for args in (("--dynamic_mixing", "true"), ("--enh_config", "../../../conf/tisdiss_sep1x2_re2x2_dm.yaml")):
        proc = run_recipe(here, *args, check=False)
        assert proc.returncode == 2 and "no dynamic mixing for WHAMR!" in proc.stderr


def test_libri2mix_noisy_stage_1(recipe, tmp_path, monkeypatch):
    librimix_tree(tmp_path / "corpus")
    monkeypatch.setenv("LIBRIMIX", str(tmp_path / "corpus"))
    here = recipe_dir(recipe, "libri2mix")
    run_recipe(here, *STAGES_1_2, "--local_data_opts", "--mix_type both")
    wav = read_scp(here / "dump/test/wav.scp")
    for utt, path in wav.items():
        mix = sf.read(path)[0]
        s1, s2 = (sf.read(read_scp(here / f"dump/test/spk{j}.scp")[utt])[0] for j in (1, 2))
        noise = sf.read(path.replace("/mix_both/", "/noise/"))[0]
        assert "/mix_both/" in path
        assert np.abs(mix - s1 - s2 - noise).max() <= 3 * LSB  # noisy: s1 + s2 + noise == mix_both


@pytest.mark.parametrize("corpus", list(CORPORA))
def test_missing_corpus_stops_stage_1(recipe, tmp_path, monkeypatch, corpus):
    variable = CORPORA[corpus][0]
    for name in ("WSJ0_2MIX", "WSJ0_3MIX", "WSJ0", "WSJ0_2MIX_LISTS", "WSJ0_3MIX_LISTS", "LIBRIMIX", "LIBRISPEECH",
                 "WHAM_NOISE", "LIBRIMIX_METADATA", "WHAMR"):
        monkeypatch.delenv(name, raising=False)
    here = recipe_dir(recipe, corpus)
    proc = run_recipe(here, "--stage", "1", "--stop_stage", "1", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"set {variable}" in output and "db.sh" in output
    monkeypatch.setenv(variable, str(tmp_path / "nowhere"))
    proc = run_recipe(here, "--stage", "1", "--stop_stage", "1", check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "see the log: exp/" in proc.stderr
    assert "not found: looked for" in output and str(tmp_path / "nowhere") in output
    assert not list((here / "data").glob(".done_*")) and not (here / "data" / CORPORA[corpus][2][0]).exists()


def test_incomplete_corpus_leaves_no_data_dirs(recipe, tmp_path, monkeypatch):
    wsj0_mix_tree(tmp_path / "corpus")
    (tmp_path / "corpus/wav8k/min/tt/s2" / f"{WSJ_NAMES['tt'][1]}.wav").unlink()
    monkeypatch.setenv("WSJ0_2MIX", str(tmp_path / "corpus"))
    here = recipe_dir(recipe, "wsj0_2mix")
    proc = run_recipe(here, *STAGES_1_2, check=False)
    assert proc.returncode != 0
    assert f"missing file {tmp_path}/corpus/wav8k/min/tt/s2/" in proc.stdout + proc.stderr
    assert not (here / "data/tr").exists() and not list((here / "data").glob(".done_*"))
    proc = run_recipe(here, "--stage", "2", "--stop_stage", "2", check=False)
    assert "data dir data/tr does not exist; run stage 1" in proc.stdout + proc.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_two_process_distributed_epoch_on_cpu(recipe, tmp_path, monkeypatch):
    """Stage 4 as two nodes of one process each (gloo on the CPU): ESPnet's multi-node DDP path."""
    wsj0_mix_tree(tmp_path / "corpus", lengths=(4000, 4400, 4800))
    monkeypatch.setenv("WSJ0_2MIX", str(tmp_path / "corpus"))
    here = recipe_dir(recipe, "wsj0_2mix")
    tiny = ("--enh_config", "../../../conf/tisdiss_tiny.yaml", "--min_seconds", "0.1")
    run_recipe(here, "--stage", "1", "--stop_stage", "3", *tiny)
    init = f"tcp://127.0.0.1:{free_port()}"
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    nodes = [subprocess.Popen(["./run.sh", "--stage", "4", "--stop_stage", "4", *tiny, "--ngpu", "0",
                               "--num_nodes", "2", "--node_rank", str(rank), "--dist_init_method", init,
                               "--enh_args", "--max_epoch 1"],
                              cwd=here, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for rank in (0, 1)]
    outputs = [node.communicate(timeout=600)[0] for node in nodes]
    assert [node.returncode for node in nodes] == [0, 0], outputs[0][-3000:] + outputs[1][-3000:]
    exp = here / "exp/tisdiss_tiny"
    log = (exp / "logs/stage4_train.node0.log").read_text()
    assert ":0/2]" in log and "1epoch results" in log  # rank 0 of a world of 2 trained an epoch
    assert (exp / "logs/stage4_train.node1.log").is_file()
    config = yaml.safe_load((exp / "config.yaml").read_text())
    assert config["dist_world_size"] == 2 and config["dist_backend"] == "gloo"
    model, _ = TISDiSSEnhancementTask.build_model_from_file(exp / "config.yaml", None, "cpu")
    for name in ("1epoch.pth", "valid.loss.best.pth"):
        state = load_state_dict_file(exp / name)
        model.load_state_dict(state, strict=True)
        assert all(torch.isfinite(v).all() for v in state.values())


def test_enh_sh_refuses_multi_node_without_init_method(recipe):
    here = recipe_dir(recipe, "wsj0_2mix")
    proc = run_recipe(here, "--stage", "4", "--num_nodes", "2", check=False)
    assert proc.returncode == 2 and "--num_nodes 2 needs --dist_init_method" in proc.stderr
    proc = run_recipe(here, "--num_nodes", "2", "--node_rank", "2", "--dist_init_method", "tcp://h:1",
                      check=False)
    assert proc.returncode == 2 and "--node_rank 2 must be < --num_nodes 2" in proc.stderr
