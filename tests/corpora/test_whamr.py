"""WHAMR!: reverberant mixtures with anechoic targets from a generated tree."""

import pytest

from espnet2_tisdiss.corpora import whamr
from espnet2_tisdiss.corpora.common import CorpusError
from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from tests.corpora.fake_corpora import WSJ_NAMES, whamr_tree


@pytest.mark.parametrize("mix_type", ["both_reverb", "clean_reverb"])
def test_tree_to_data_dirs(tmp_path, mix_type):
    whamr_tree(tmp_path / "corpus" / "whamr")
    counts = whamr.prepare(tmp_path / "corpus", tmp_path / "data", mix_type=mix_type)
    assert counts == {s: len(n) for s, n in WSJ_NAMES.items()}
    name = "050a050a_0.1_051a050b_-0.1"
    utt = f"050_051_{name}"
    assert read_scp(tmp_path / "data/tt/wav.scp")[utt].endswith(f"tt/mix_{mix_type}/{name}.wav")
    assert read_scp(tmp_path / "data/tt/spk1.scp")[utt].endswith(f"tt/s1_anechoic/{name}.wav")
    assert read_scp(tmp_path / "data/tt/spk2.scp")[utt].endswith(f"tt/s2_anechoic/{name}.wav")


def test_missing_targets_and_rate(tmp_path):
    root = tmp_path / "whamr"
    whamr_tree(root)
    for wav in (root / "wav8k/min/cv/s2_anechoic").glob("*.wav"):
        wav.unlink()
    with pytest.raises(CorpusError, match="missing file .*cv/s2_anechoic/"):
        whamr.prepare(root, tmp_path / "data")
    with pytest.raises(CorpusError, match="WHAMR! at 8000 Hz, mode max not found: looked for"):
        whamr.prepare(root, tmp_path / "data", mode="max")
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


@pytest.mark.parametrize("mix_type", ["single_reverb", "single_anechoic"])
def test_single_speaker_mixtures_are_refused_with_the_reason(tmp_path, mix_type, capsys):
    whamr_tree(tmp_path / "corpus")
    with pytest.raises(CorpusError, match=f"mix_{mix_type} holds speaker 1 alone.*--mix_type both_reverb"):
        whamr.prepare(tmp_path / "corpus", tmp_path / "data", mix_type=mix_type)
    assert not (tmp_path / "data").exists()
    status = whamr.main(["--whamr", str(tmp_path / "corpus"), "--datadir", str(tmp_path / "data"),
                         "--mix_type", mix_type])
    assert status == 1 and "enhancement task" in capsys.readouterr().err
