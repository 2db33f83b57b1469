import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from espnet2_tisdiss.stages.format_data import DataDirError, format_data_dir


def make_dir(root, rates=(16000, 16000, 16000), seconds=(1.0, 0.2), channels=1):
    src = root / "src"
    src.mkdir()
    lists = {"wav.scp": [], "spk1.scp": [], "spk2.scp": []}
    for i, dur in enumerate(seconds):
        for (name, entries), rate in zip(lists.items(), rates):
            path = root / f"utt {i} {name}.wav"  # a space in the name
            sf.write(path, np.random.randn(int(dur * rate), channels).astype("float32") * 0.1, rate)
            entries.append(f"utt{i} {path}")
    for name, entries in lists.items():
        (src / name).write_text("\n".join(entries) + "\n")
    return src


def test_resamples_and_drops_short_utterances(tmp_path):
    src = make_dir(tmp_path)
    counts = format_data_dir(src, tmp_path / "dump", fs=8000, min_seconds=0.5)
    assert counts == {"kept": 1, "dropped_short": 1}
    dump = tmp_path / "dump"
    wavs = read_scp(dump / "spk2.scp")
    assert list(wavs) == ["utt0"]
    audio, rate = sf.read(wavs["utt0"])
    assert rate == 8000 and len(audio) == 8000
    assert read_scp(dump / "utt2num_samples") == {"utt0": "8000"}
    assert read_scp(dump / "utt2spk") == {"utt0": "utt0"}


def test_audio_at_the_target_rate_is_referenced_in_place(tmp_path):
    src = make_dir(tmp_path, rates=(8000, 8000, 8000))
    format_data_dir(src, tmp_path / "dump", fs=8000, min_seconds=0.0)
    assert read_scp(tmp_path / "dump/wav.scp")["utt1"] == str(tmp_path / "utt 1 wav.scp.wav")


@pytest.mark.parametrize(
    "setup,message",
    [
        (lambda root: root / "missing", "does not exist; run stage 1"),
        (lambda root: make_dir(root, rates=(8000, 16000, 8000)), "differ in sample rate"),
        (lambda root: make_dir(root, channels=2), "has 2 channels; need mono"),
    ],
)
def test_bad_data_dirs(tmp_path, setup, message):
    with pytest.raises(DataDirError, match=message):
        format_data_dir(setup(tmp_path), tmp_path / "dump", fs=8000, min_seconds=0.0)
    assert not (tmp_path / "dump").exists()


def test_mismatched_lists(tmp_path):
    src = make_dir(tmp_path)
    (src / "spk2.scp").write_text((src / "spk2.scp").read_text().splitlines()[0] + "\n")
    with pytest.raises(DataDirError, match=r"spk2.scp and wav.scp list different utterances, e.g. \['utt1'\]"):
        format_data_dir(src, tmp_path / "dump", fs=8000, min_seconds=0.0)


def test_speaker_pairs_of_the_data_dir_are_kept(tmp_path):
    src = make_dir(tmp_path, rates=(8000, 8000, 8000))
    (src / "utt2spk").write_text("utt0 a_b\nutt1 c_a\n")
    format_data_dir(src, tmp_path / "dump", fs=8000, min_seconds=0.0)
    assert read_scp(tmp_path / "dump/utt2spk") == {"utt0": "a_b", "utt1": "c_a"}
    assert read_scp(tmp_path / "dump/spk2utt") == {"a_b": "utt0", "c_a": "utt1"}
    (src / "utt2spk").write_text("utt0 a_b\n")
    with pytest.raises(DataDirError, match="no speaker for 1 utterance"):
        format_data_dir(src, tmp_path / "dump2", fs=8000, min_seconds=0.0)
