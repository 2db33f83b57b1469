"""The mini three-speaker recipe as a user runs it (its run.sh and shipped config, a shrunken
corpus and training), the CLI on its packed model, and a two-speaker config refused on its data."""

import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from tests.recipes.conftest import copy_recipes, run_recipe

SHRUNK = ("--local_data_opts", "--n_train 8 --n_dev 2 --n_test 2 --n_test_unseen 2 --max_seconds 1.5",
          "--enh_args", "--max_epoch 1 --num_iters_per_epoch 4")


@pytest.fixture(scope="module")
def mini_3mix(tmp_path_factory):
    """The mini_3mix recipe after stages 1-7 with its shipped config."""
    here = copy_recipes(tmp_path_factory.mktemp("mini3")) / "mini_3mix/enh1"
    run_recipe(here, "--stop_stage", "7", *SHRUNK)
    return here


@pytest.mark.slow
def test_stages_1_to_7_with_three_speakers(mini_3mix, tmp_path):
    here = mini_3mix
    dump = here / "dump/test"
    utts = sorted(read_scp(dump / "wav.scp"))
    for utt, speakers in read_scp(dump / "utt2spk").items():
        assert len(set(speakers.split("_"))) == 3, utt
    for j in (1, 2, 3):  # three references, each summing into the mixture
        assert len(read_scp(dump / f"spk{j}.scp")) == len(utts)
    exp = here / "exp/tisdiss_mini_3spk"
    results = (exp / "RESULTS.md").read_text()
    for test_set in ("test", "test_unseen"):  # the run.sh depths
        assert re.findall(rf"^\| {test_set} \| (\d+) \|", results, flags=re.M) == ["1", "2", "3", "4"]
    decoded = exp / "decode_valid.loss.ave/test/reps4"
    assert sorted(p.name for p in decoded.glob("spk*.scp")) == ["spk1.scp", "spk2.scp", "spk3.scp"]
    lengths = read_scp(dump / "utt2num_samples")
    for utt in utts:
        for j in (1, 2, 3):
            assert sf.info(decoded / f"wavs/{j}/{utt}.wav").frames == int(lengths[utt])
    scores = (decoded / "scores.tsv").read_text().splitlines()
    assert len(scores) == 1 + len(utts)

    # the packed model through the CLI: three files per mixture
    mixture = tmp_path / "mix.wav"
    audio, fs = sf.read(read_scp(dump / "wav.scp")[utts[0]])
    sf.write(mixture, audio, fs)
    done = subprocess.run([sys.executable, "-m", "espnet2_tisdiss.bin.separate", "--model",
                           str(exp / "packed_model.tar.gz"), str(mixture), "--output_dir", str(tmp_path / "out"),
                           "--inference_reps", "3"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    written = sorted(p.name for p in (tmp_path / "out").glob("*.wav"))
    assert written == ["mix_spk1.wav", "mix_spk2.wav", "mix_spk3.wav"]
    outs = [sf.read(tmp_path / "out" / name)[0] for name in written]
    assert all(x.shape == audio.shape for x in outs)
    assert min(np.abs(a - b).max() for i, a in enumerate(outs) for b in outs[i + 1:]) > 1e-4


@pytest.mark.slow
def test_a_two_speaker_config_is_refused_on_three_speaker_data(mini_3mix):
    proc = run_recipe(mini_3mix, "--stage", "3", "--stop_stage", "3",
                      "--enh_config", "../../../conf/tisdiss_tiny.yaml", check=False)
    assert proc.returncode != 0
    assert ("the training data gives 3 reference(s) per mixture (speech_ref1..3) but the config's separator "
            "has num_spk 2") in proc.stdout + proc.stderr
