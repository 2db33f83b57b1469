"""run.sh stages 2-6 with hostile names everywhere: recipe dir, experiment and dump dirs, wavs and ids.

The recipe is copied into a folder with spaces, quotes and non-ASCII letters;
the experiment dir starts with a dash; the wavs live under
``my data/-dash 'q' "dq" ü/`` with such file names; the utterance ids hold
quotes, dashes, ``$``, backticks and non-ASCII letters. The test set is at
16 kHz, so stage 2 resamples it into files named after those ids, while the
training sets (8 kHz) are referenced in place.
"""

import json
import math

import pytest
import soundfile as sf

from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from tests.hostile_names import write_hostile_set
from tests.recipes.conftest import copy_recipes, run_recipe

EXPDIR = "-my exp 'q' \"dq\" ü"
DUMPDIR = "dump 'd' ß"


@pytest.mark.slow
def test_stages_2_to_6_with_hostile_names(tmp_path):
    root = tmp_path / "recipe dir 'q' \"dq\" ü"
    recipe = copy_recipes(root) / "mini_2mix/enh1"
    sets = {"train": (4, 8000), "dev": (2, 8000), "test": (3, 16000)}
    files = {name: write_hostile_set(recipe / "data" / name, root / f"audio {name}", count, seed, fs)
             for seed, (name, (count, fs)) in enumerate(sets.items())}
    run_recipe(recipe, "--stage", "2", "--stop_stage", "6", "--min_seconds", "0.1",
               "--expdir", EXPDIR, "--dumpdir", DUMPDIR, "--inference_reps", "1 2", "--test_sets", "test",
               "--enh_config", "../../../conf/tisdiss_tiny.yaml",
               "--enh_args", "--max_epoch 1 --num_iters_per_epoch 2")

    exp = recipe / EXPDIR / "tisdiss_tiny"
    decode = exp / "decode_valid.loss.ave/test"
    summary = json.loads((decode / "summary.json").read_text())
    assert summary["num_utts"] == 3
    for depth in ("1", "2"):
        assert all(math.isfinite(summary["depths"][depth][m]) for m in ("si_snr", "si_snri", "sdr", "stoi"))
        estimates = read_scp(decode / f"reps{depth}/spk2.scp")
        assert sorted(estimates) == sorted(files["test"])
        for utt, path in estimates.items():
            assert path == str((decode / f"reps{depth}/wavs/2/{utt}.wav").resolve())
            assert sf.info(path).frames == 4000  # 0.5 s at the dump's 8 kHz
        rows = (decode / f"reps{depth}/scores.tsv").read_text(encoding="utf-8").splitlines()[1:]
        assert sorted(row.split("\t")[0] for row in rows) == sorted(files["test"])
    assert "| test | 2 |" in (exp / "RESULTS.md").read_text()
    dump_train = read_scp(recipe / DUMPDIR / "train/wav.scp")
    assert dump_train == {utt: str(paths[0].resolve()) for utt, paths in files["train"].items()}
    assert not (recipe / "exp").exists()  # nothing went to the default folder
    assert not (recipe / DUMPDIR / "train_sources").exists()  # no speaker pairs: no dynamic mixing lists
