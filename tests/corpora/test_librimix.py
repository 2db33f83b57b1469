"""Libri2Mix and Libri3Mix: data dirs from a generated tree (clean and noisy), and generation from metadata."""

import csv
import shutil

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.corpora import librimix
from espnet2_tisdiss.corpora.common import CorpusError
from espnet2_tisdiss.corpora.librimix_mixing import extend_noise, generate
from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from tests.corpora.fake_corpora import LIBRI3_IDS, LIBRI_IDS, librimix_tree

LSB = 1 / 32768


@pytest.mark.parametrize("mix_type", ["clean", "both"])
def test_tree_to_data_dirs(tmp_path, mix_type):
    librimix_tree(tmp_path / "LibriMix")
    counts = librimix.prepare(tmp_path / "LibriMix", tmp_path / "data", mix_type=mix_type,
                               train_subsets=["train-100", "train-360"])
    assert counts == {"train": 3, "dev": 2, "test": 2}
    mix_id = LIBRI_IDS["dev"][0]
    utt = f"1272_2428_{mix_id}"
    wav = read_scp(tmp_path / "data/dev/wav.scp")
    assert wav[utt].endswith(f"Libri2Mix/wav8k/min/dev/mix_{mix_type}/{mix_id}.wav")
    assert read_scp(tmp_path / "data/dev/spk1.scp")[utt].endswith(f"dev/s1/{mix_id}.wav")
    assert read_scp(tmp_path / "data/dev/spk2.scp")[utt].endswith(f"dev/s2/{mix_id}.wav")
    assert read_scp(tmp_path / "data/dev/utt2spk")[utt] == "1272_2428"
    assert len(read_scp(tmp_path / "data/train/wav.scp")) == 3


def test_noisy_tree_missing_noise_and_wrong_mix_type(tmp_path):
    root = tmp_path / "LibriMix"
    librimix_tree(root)
    base = root / "Libri2Mix/wav8k/min"
    # a mix_clean folder holding noisy mixtures does not pass the sum check
    for wav in (base / "test/mix_both").glob("*.wav"):
        (base / "test/mix_clean" / wav.name).write_bytes(wav.read_bytes())
    with pytest.raises(CorpusError, match="mix_clean/.* is not the sum of"):
        librimix.prepare(root, tmp_path / "data")
    shutil.rmtree(base / "dev/noise")
    with pytest.raises(CorpusError, match="dev mix_both: folder .*dev/noise is missing"):
        librimix.prepare(root, tmp_path / "data", mix_type="both")
    (base / "metadata/mixture_train-360_mix_clean.csv").unlink()
    with pytest.raises(CorpusError, match="metadata file .*mixture_train-360_mix_clean.csv is missing"):
        librimix.prepare(root, tmp_path / "data")
    with pytest.raises(CorpusError, match="Libri2Mix at 16000 Hz, mode min not found: looked for"):
        librimix.prepare(root, tmp_path / "data", sample_rate=16000)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_extend_noise_crossfades_repeats():
    noise = np.ones(20000)
    long = extend_noise(noise, 50000)
    assert len(long) == 50000
    assert np.allclose(long[:12000], 1.0)  # untouched before the first fade
    assert np.allclose(long, 1.0)  # Hann halves sum to one: a constant stays constant


@pytest.mark.parametrize("mode", ["min", "max"])
def test_generation_from_metadata(tmp_path, mode):
    rng = np.random.default_rng(0)
    speech = tmp_path / "LibriSpeech"
    wham = tmp_path / "wham_noise"
    sources = {"test-clean/61/70968/61-70968-0000.flac": 16000,
               "test-clean/121/121726/121-121726-0002.flac": 12000}
    for i, (rel, n) in enumerate(sources.items()):  # tones below 4 kHz keep their level at 8 kHz
        (speech / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(speech / rel, 0.3 * np.sin(2 * np.pi * (300 + 200 * i) * np.arange(n) / 16000), 16000)
    (wham / "tt").mkdir(parents=True)
    sf.write(wham / "tt/noise1.wav", rng.uniform(-0.1, 0.1, (9000, 2)), 16000)  # short, stereo
    meta = tmp_path / "metadata"
    meta.mkdir()
    mix_id = "61-70968-0000_121-121726-0002"
    with open(meta / "libri2mix_test-clean.csv", "w", newline="") as f:
        csv.writer(f).writerows([
            ["mixture_ID", "source_1_path", "source_1_gain", "source_2_path", "source_2_gain",
             "noise_path", "noise_gain"],
            [mix_id, *list(sources)[:1], 0.5, list(sources)[1], 2.0, "tt/noise1.wav", 0.25]])
    generate(speech, wham, meta, tmp_path / "out", 8000, mode, ["test"])
    base = tmp_path / "out/Libri2Mix/wav8k" / mode
    read = lambda kind: sf.read(base / "test" / kind / f"{mix_id}.wav")[0]  # noqa: E731
    s1, s2, noise = read("s1"), read("s2"), read("noise")
    assert len(s1) == (6000 if mode == "min" else 8000)  # 12000 or 16000 samples at 16 kHz
    assert np.abs(read("mix_clean") - s1 - s2).max() <= 2 * LSB
    assert np.abs(read("mix_both") - s1 - s2 - noise).max() <= 3 * LSB
    src1 = sf.read(speech / list(sources)[0])[0]
    # gain 0.5, then 8 kHz: the level halves (compare RMS over the first half, away from edges)
    assert np.std(s1[500:3000]) == pytest.approx(0.5 * np.std(src1[1000:6000]), rel=0.02)
    with open(base / "metadata" / "mixture_test_mix_both.csv") as f:
        row = next(csv.DictReader(f))
    assert row["mixture_ID"] == mix_id and int(row["length"]) == len(s1)


@pytest.mark.parametrize("mix_type", ["clean", "both"])
def test_three_speaker_tree_to_data_dirs(tmp_path, mix_type):
    librimix_tree(tmp_path / "LibriMix", num_speakers=3)
    counts = librimix.prepare(tmp_path / "LibriMix", tmp_path / "data", mix_type=mix_type, num_speakers=3)
    assert counts == {"train": 1, "dev": 2, "test": 1}
    mix_id = LIBRI3_IDS["dev"][0]
    utt = f"1272_2428_1462_{mix_id}"
    assert read_scp(tmp_path / "data/dev/wav.scp")[utt].endswith(f"Libri3Mix/wav8k/min/dev/mix_{mix_type}/{mix_id}.wav")
    for j in (1, 2, 3):
        assert read_scp(tmp_path / f"data/dev/spk{j}.scp")[utt].endswith(f"dev/s{j}/{mix_id}.wav")
    assert read_scp(tmp_path / "data/dev/utt2spk")[utt] == "1272_2428_1462"
    with pytest.raises(CorpusError, match="Libri2Mix at 8000 Hz, mode min not found"):
        librimix.prepare(tmp_path / "LibriMix", tmp_path / "data2", mix_type=mix_type)


def test_three_speaker_generation_from_metadata(tmp_path):
    speech, wham, meta = tmp_path / "LibriSpeech", tmp_path / "wham_noise", tmp_path / "metadata"
    sources = {"test-clean/61/70968/61-70968-0000.flac": 16000, "test-clean/121/121726/121-121726-0002.flac": 12000,
               "test-clean/237/134493/237-134493-0001.flac": 14000}
    for i, (rel, n) in enumerate(sources.items()):
        (speech / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(speech / rel, 0.3 * np.sin(2 * np.pi * (300 + 200 * i) * np.arange(n) / 16000), 16000)
    (wham / "tt").mkdir(parents=True)
    sf.write(wham / "tt/noise1.wav", np.random.default_rng(0).uniform(-0.1, 0.1, 20000), 16000)
    meta.mkdir()
    mix_id = "61-70968-0000_121-121726-0002_237-134493-0001"
    paths = list(sources)
    with open(meta / "libri3mix_test-clean.csv", "w", newline="") as f:
        csv.writer(f).writerows([
            ["mixture_ID", "source_1_path", "source_1_gain", "source_2_path", "source_2_gain",
             "source_3_path", "source_3_gain", "noise_path", "noise_gain"],
            [mix_id, paths[0], 0.5, paths[1], 1.0, paths[2], 2.0, "tt/noise1.wav", 0.25]])
    generate(speech, wham, meta, tmp_path / "out", 8000, "min", ["test"], num_speakers=3)
    base = tmp_path / "out/Libri3Mix/wav8k/min"
    read = lambda kind: sf.read(base / "test" / kind / f"{mix_id}.wav")[0]  # noqa: E731
    s1, s2, s3, noise = read("s1"), read("s2"), read("s3"), read("noise")
    assert len(s1) == len(s3) == 6000  # the shortest source, at 8 kHz
    assert np.abs(read("mix_clean") - s1 - s2 - s3).max() <= 2 * LSB
    assert np.abs(read("mix_both") - s1 - s2 - s3 - noise).max() <= 3 * LSB
    assert np.std(s3[500:3000]) == pytest.approx(4 * np.std(s1[500:3000]), rel=0.02)  # gains 2.0 vs 0.5
    with open(base / "metadata/mixture_test_mix_both.csv") as f:
        row = next(csv.DictReader(f))
    assert row["source_3_path"].endswith(f"test/s3/{mix_id}.wav") and row["noise_path"].endswith("noise/" + mix_id + ".wav")
    # Libri2Mix metadata given for Libri3Mix is refused, naming the mismatch
    (meta / "libri3mix_dev-clean.csv").write_text("mixture_ID,source_1_path,source_1_gain,source_2_path,"
                                                  "source_2_gain,noise_path,noise_gain\nx,a,1,b,1,n,1\n")
    with pytest.raises(CorpusError, match="lists 2 sources per mixture, not 3"):
        generate(speech, wham, meta, tmp_path / "out", 8000, "min", ["dev"], num_speakers=3)
