"""wsj0-2mix and wsj0-3mix: data dirs from a generated tree, and generation from WSJ0 by the official rules."""

import os
import shutil
import stat

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.corpora import wsj0_mix
from espnet2_tisdiss.corpora.common import CorpusError
from espnet2_tisdiss.corpora.sphere import read_speech
from espnet2_tisdiss.corpora.wsj0_mix_mixing import ListEntry, generate, num2str
from espnet2_tisdiss.fileio.kaldi_lists import read_scp
from tests.corpora.fake_corpora import WSJ3_NAMES, WSJ_NAMES, wsj0_mix_tree

LSB = 1 / 32768


def test_tree_to_data_dirs(tmp_path):
    wsj0_mix_tree(tmp_path / "corpus" / "2speakers")  # the official output folder name
    counts = wsj0_mix.prepare(tmp_path / "corpus", tmp_path / "data")
    assert counts == {s: len(n) for s, n in WSJ_NAMES.items()}
    wav = read_scp(tmp_path / "data/tr/wav.scp")
    name = "01aa010a_1.2_20ba010b_-1.2"
    utt = f"01a_20b_{name}"
    assert list(wav) == sorted(f"{n[:3]}_{n.split('_')[2][:3]}_{n}" for n in WSJ_NAMES["tr"])
    assert wav[utt].endswith(f"wav8k/min/tr/mix/{name}.wav")
    assert read_scp(tmp_path / "data/tr/spk1.scp")[utt].endswith(f"tr/s1/{name}.wav")
    assert read_scp(tmp_path / "data/tr/spk2.scp")[utt].endswith(f"tr/s2/{name}.wav")
    assert read_scp(tmp_path / "data/tr/utt2spk")[utt] == "01a_20b"
    assert "40n_01a" in read_scp(tmp_path / "data/tr/spk2utt")


@pytest.mark.parametrize("damage,message", [
    (lambda root: None, "wsj0-2mix at 16000 Hz not found: looked for"),
    (lambda root: shutil.rmtree(root / "wav8k/min/cv/s2"), "cv/s2 is missing"),
    (lambda root: os.remove(root / "wav8k/min/tt/s1/052c050c_0.7_053a050d_-0.7.wav"),
     "missing file"),
])
def test_incomplete_tree_stops_before_writing(tmp_path, damage, message):
    wsj0_mix_tree(tmp_path / "corpus")
    damage(tmp_path / "corpus")
    rate = 16000 if "16000" in message else 8000
    with pytest.raises(CorpusError, match=message):
        wsj0_mix.prepare(tmp_path / "corpus", tmp_path / "data", sample_rate=rate)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").iterdir())


def test_wrong_rate_and_mismatched_sum_are_refused(tmp_path):
    root = tmp_path / "corpus"
    wsj0_mix_tree(root)
    path = root / "wav8k/min/tr/s1/01ab010c_0.3_22ga010d_-0.3.wav"
    audio, _ = sf.read(path, dtype="int16")
    sf.write(path, audio, 16000)
    with pytest.raises(CorpusError, match="sampled at 16000 Hz, expected 8000 Hz"):
        wsj0_mix.prepare(root, tmp_path / "data")
    sf.write(path, audio[::-1], 8000)  # right rate, wrong content
    with pytest.raises(CorpusError, match="is not the sum of"):
        wsj0_mix.prepare(root, tmp_path / "data")


def test_num2str_matches_matlab():
    assert [num2str(v) for v in (0.61061, -0.61061, 1.7434, 2.5, 0.0, 2.0, 12.34567)] == \
        ["0.61061", "-0.61061", "1.7434", "2.5", "0", "2", "12.3457"]
    entry = ListEntry(("wsj0/si_tr_s/01t/01to030v.wv1", "wsj0/si_tr_s/40n/40na010x.wv1"), (0.61061, -0.61061))
    assert entry.name == "01to030v_0.61061_40na010x_-0.61061"


def tone(freq, amplitude, n, fs=16000):
    return amplitude * np.sin(2 * np.pi * freq * np.arange(n) / fs)


@pytest.fixture
def generated(tmp_path):
    """A fake WSJ0 (16 kHz wav, the list names .wv1) and list; the tr subset generated."""
    wsj0 = tmp_path / "wsj" / "wsj0"
    signals = {"si_tr_s/01t/01to030v": tone(500, 0.05, 32000),   # quiet and long
               "si_tr_s/40n/40na010x": tone(1300, 0.5, 24000)}    # loud and short
    for rel, x in signals.items():
        (wsj0 / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(wsj0 / f"{rel}.wav", x, 16000, subtype="FLOAT")
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "mix_2_spk_tr.txt").write_text(
        "wsj0/si_tr_s/01t/01to030v.wv1 1.2 wsj0/si_tr_s/40n/40na010x.wv1 -1.2\n")
    out = tmp_path / "out"
    generate(tmp_path / "wsj", lists, out, rates=(8000, 16000), modes=("min", "max"), subsets=("tr",))
    return out


def read_three(out, rate, mode):
    folder = out / f"wav{rate // 1000}k" / mode / "tr"
    name = "01to030v_1.2_40na010x_-1.2.wav"
    return [sf.read(folder / kind / name, dtype="float64")[0] for kind in ("mix", "s1", "s2")]


@pytest.mark.parametrize("rate", [8000, 16000])
def test_generation_follows_the_official_rules(generated, rate):
    rms_db = lambda x: 10 * np.log10(np.mean(x[: len(x) // 2] ** 2))  # noqa: E731 (both tones active)
    mix_min, s1_min, s2_min = read_three(generated, rate, "min")
    mix_max, s1_max, s2_max = read_three(generated, rate, "max")
    ratio = rate // 8000
    assert len(s1_min) == 12000 * ratio and len(s1_max) == 16000 * ratio  # min: shorter, max: longer
    assert not s2_max[12000 * ratio:].any()  # zero-padded
    for mix, s1, s2 in ((mix_min, s1_min, s2_min), (mix_max, s1_max, s2_max)):
        # active-level normalised tones (power 1/2 -> unit level) at +1.2 and -1.2 dB: 2.4 dB apart
        assert rms_db(s1) - rms_db(s2) == pytest.approx(2.4, abs=0.05)
        assert np.abs(mix - s1 - s2).max() <= LSB  # each file rounds once
        assert max(np.abs(mix).max(), np.abs(s1).max(), np.abs(s2).max()) == pytest.approx(0.9, abs=LSB)
    # min is max cut short, up to the anti-clipping gain (same peaks here: the max of |mix|
    # falls inside the overlap)
    gain = np.abs(s1_min).max() / np.abs(s1_max[: len(s1_min)]).max()
    assert np.abs(s1_min - gain * s1_max[: len(s1_min)]).max() <= 2 * LSB


def test_generation_is_kept_and_subset_renamed_when_done(generated):
    subset = generated / "wav8k/min/tr"
    assert sorted(p.name for p in subset.iterdir()) == ["mix", "s1", "s2"]
    assert not list(generated.glob("wav8k/min/.tr.partial"))
    stamp = (subset / "mix").stat().st_mtime_ns
    generate(generated.parent / "wsj", generated.parent / "lists", generated, subsets=("tr",))
    assert (subset / "mix").stat().st_mtime_ns == stamp  # complete subsets are not redone


def test_generation_errors_name_what_is_missing(tmp_path):
    (tmp_path / "wsj0").mkdir()
    with pytest.raises(CorpusError, match="mixing list not found: .*mix_2_spk_tr.txt"):
        generate(tmp_path, tmp_path / "lists", tmp_path / "out", subsets=("tr",))
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists/mix_2_spk_tr.txt").write_text("wsj0/si_tr_s/01t/x.wv1 1 wsj0/si_tr_s/02t/y.wv1 -1\n")
    with pytest.raises(CorpusError, match=r"WSJ0 utterance wsj0/si_tr_s/01t/x.wv1 not found; looked for: "):
        generate(tmp_path, tmp_path / "lists", tmp_path / "out", subsets=("tr",))
    assert not (tmp_path / "out/wav8k/min/tr").exists()


def sphere_file(path, coding):
    fields = f"NIST_1A\n   1024\nsample_rate -i 16000\nsample_coding -s{len(coding)} {coding}\nend_head\n"
    path.write_bytes(fields.encode().ljust(1024, b" ") + b"\x00" * 64)


def test_sphere_reading(tmp_path, monkeypatch):
    x = (tone(440, 0.3, 1600) * 32768).astype(np.int16)
    sf.write(tmp_path / "plain.wv1", x, 16000, format="NIST", subtype="PCM_16")
    audio, rate = read_speech(tmp_path / "plain.wv1")
    assert rate == 16000 and np.array_equal(np.round(audio * 32768).astype(np.int16), x)

    sphere_file(tmp_path / "short.wv1", "pcm,embedded-shorten-v2.00")
    monkeypatch.setenv("PATH", str(tmp_path / "nothing"))
    with pytest.raises(CorpusError, match="shorten-compressed NIST SPHERE.*'sph2pipe' on the PATH"):
        read_speech(tmp_path / "short.wv1")
    # a stand-in decoder: prints a wav whatever it is given, as sph2pipe -f wav does
    sf.write(tmp_path / "decoded.wav", x, 16000)
    fake = tmp_path / "bin" / "sph2pipe"
    fake.parent.mkdir()
    fake.write_text(f"#!/bin/sh\nexec cat {tmp_path / 'decoded.wav'}\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(fake.parent) + os.pathsep + "/bin:/usr/bin")
    audio, rate = read_speech(tmp_path / "short.wv1")
    assert rate == 16000 and len(audio) == len(x)


def test_three_speaker_tree_to_data_dirs(tmp_path):
    wsj0_mix_tree(tmp_path / "corpus" / "3speakers", num_speakers=3)  # the official output folder name
    counts = wsj0_mix.prepare(tmp_path / "corpus", tmp_path / "data", num_speakers=3)
    assert counts == {s: len(n) for s, n in WSJ3_NAMES.items()}
    name = "01aa010a_1.2_20ba010b_-0.4_40na010x_-0.8"
    utt = f"01a_20b_40n_{name}"
    for j in (1, 2, 3):
        assert read_scp(tmp_path / f"data/tr/spk{j}.scp")[utt].endswith(f"tr/s{j}/{name}.wav")
    assert read_scp(tmp_path / "data/tr/utt2spk")[utt] == "01a_20b_40n"
    assert not (tmp_path / "data/tr/spk4.scp").exists()
    # a wsj0-2mix tree is not taken for wsj0-3mix, nor the other way round
    wsj0_mix_tree(tmp_path / "two")
    with pytest.raises(CorpusError, match=r"tr/s3 is missing"):
        wsj0_mix.prepare(tmp_path / "two", tmp_path / "data3", num_speakers=3)
    with pytest.raises(CorpusError, match=r"is not named <utt1>_<snr1>_<utt2>_<snr2>\.wav"):
        wsj0_mix.prepare(tmp_path / "corpus" / "3speakers", tmp_path / "data2", num_speakers=2)


def test_three_speaker_generation_follows_the_official_rules(tmp_path):
    """create_wav_3speakers.m: each utterance at unit active level times 10^(snr/20), cut to the
    shortest ("min"), mix = s1 + s2 + s3, all scaled to a 0.9 peak."""
    wsj0 = tmp_path / "wsj" / "wsj0"
    signals = {"si_tr_s/01t/01to030v": tone(500, 0.05, 32000), "si_tr_s/40n/40na010x": tone(1300, 0.5, 24000),
               "si_tr_s/20b/20ba010b": tone(900, 0.2, 28000)}
    for rel, x in signals.items():
        (wsj0 / rel).parent.mkdir(parents=True, exist_ok=True)
        sf.write(wsj0 / f"{rel}.wav", x, 16000, subtype="FLOAT")
    (tmp_path / "lists").mkdir()
    (tmp_path / "lists/mix_3_spk_tr.txt").write_text(
        "wsj0/si_tr_s/01t/01to030v.wv1 1.5 wsj0/si_tr_s/40n/40na010x.wv1 -0.5 wsj0/si_tr_s/20b/20ba010b.wv1 -1\n")
    generate(tmp_path / "wsj", tmp_path / "lists", tmp_path / "out", subsets=("tr",), num_speakers=3)
    folder = tmp_path / "out/wav8k/min/tr"
    assert sorted(p.name for p in folder.iterdir()) == ["mix", "s1", "s2", "s3"]
    name = "01to030v_1.5_40na010x_-0.5_20ba010b_-1.wav"
    mix, s1, s2, s3 = (sf.read(folder / kind / name, dtype="float64")[0] for kind in ("mix", "s1", "s2", "s3"))
    assert len(mix) == 12000  # the shortest, at 8 kHz
    rms_db = lambda x: 10 * np.log10(np.mean(x[: len(x) // 2] ** 2))  # noqa: E731
    assert rms_db(s1) - rms_db(s2) == pytest.approx(2.0, abs=0.05)
    assert rms_db(s2) - rms_db(s3) == pytest.approx(0.5, abs=0.05)
    assert np.abs(mix - s1 - s2 - s3).max() <= 1.5 * LSB
    assert max(np.abs(x).max() for x in (mix, s1, s2, s3)) == pytest.approx(0.9, abs=LSB)
    with pytest.raises(CorpusError, match="expected 'path snr path snr path snr'"):
        (tmp_path / "lists/mix_3_spk_cv.txt").write_text("wsj0/a.wv1 1 wsj0/b.wv1 -1\n")
        generate(tmp_path / "wsj", tmp_path / "lists", tmp_path / "out", subsets=("cv",), num_speakers=3)
