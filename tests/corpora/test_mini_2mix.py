"""The mini_2mix corpus generator on a tiny corpus (6/3/3 mixtures, made twice)."""

import filecmp
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

if not os.environ.get("CI"):  # CI installs espeakng-loader from setup.py and must run these
    pytest.importorskip("espeakng_loader")

from espnet2_tisdiss.corpora import mini_2mix, mini_2mix_text  # noqa: E402

COUNTS = {"train": 6, "dev": 3, "test": 3, "test_unseen": 3}
FS = 8000
MAX_SECONDS = 3.0
LSB = 1 / 32768
LIST_FILES = ("wav.scp", "spk1.scp", "spk2.scp", "utt2spk", "spk2utt")


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """The same tiny corpus generated twice, into two directories."""
    roots = [tmp_path_factory.mktemp(f"mini_2mix_{i}") for i in range(2)]
    summaries = [mini_2mix.generate_corpus(root, *list(COUNTS.values())[:3], seed=3, fs=FS,
                                           max_seconds=MAX_SECONDS, num_workers=2,
                                           n_test_unseen=COUNTS["test_unseen"])
                 for root in roots]
    return roots, summaries


def read_list(path: Path) -> list[tuple[str, str]]:
    return [tuple(line.split(" ", 1)) for line in path.read_text().splitlines()]


def sources(root: Path, split: str):
    """(utt, mix, s1, s2) as float arrays for every mixture of a split."""
    for utt, path in read_list(root / split / "wav.scp"):
        waves = (sf.read(path.replace("_mix.wav", f"_{k}.wav"))[0] for k in ("mix", "s1", "s2"))
        yield (utt, *waves)


def test_files_and_lists(corpora):
    (root, _), (summary, _) = corpora
    for split, n in COUNTS.items():
        assert summary["splits"][split]["mixtures"] == n
        lists = {name: read_list(root / split / name) for name in LIST_FILES}
        utts = [utt for utt, _ in lists["wav.scp"]]
        assert len(utts) == n == len(set(utts)) and utts == sorted(utts)
        assert all(" " not in u for u in utts)
        for name, key in (("wav.scp", "mix"), ("spk1.scp", "s1"), ("spk2.scp", "s2")):
            assert [u for u, _ in lists[name]] == utts
            for utt, path in lists[name]:
                assert path == str(root / "wav" / split / f"{utt}_{key}.wav")
                assert Path(path).is_absolute()
                info = sf.info(path)
                assert (info.samplerate, info.channels, info.subtype) == (FS, 1, "PCM_16")
                assert 0 < info.frames <= MAX_SECONDS * FS
        utt2spk = dict(lists["utt2spk"])
        assert list(utt2spk) == utts
        assert all(utt.startswith(spk + "_") for utt, spk in utt2spk.items())
        spk2utt = {spk: u.split() for spk, u in lists["spk2utt"]}
        assert sorted(u for us in spk2utt.values() for u in us) == utts
        assert all(utt2spk[u] == spk for spk, us in spk2utt.items() for u in us)


def test_mix_is_sum_of_sources_at_0_to_5_db_and_0_to_8_in_training(corpora):
    root = corpora[0][0]
    rms = lambda x: np.sqrt(np.mean(x**2))  # noqa: E731
    for split in COUNTS:
        for utt, mix, s1, s2 in sources(root, split):
            assert len(mix) == len(s1) == len(s2)
            # Each file rounds to 16 bits (at most half an LSB each): |mix - s1 - s2| <= 1.5 LSB.
            # The generator sums the rounded sources, so the difference is in fact 0.
            assert np.abs(mix - s1 - s2).max() <= 1.5 * LSB, utt
            assert max(np.abs(mix).max(), np.abs(s1).max(), np.abs(s2).max()) <= 0.9 + LSB
            ratio_db = 20 * np.log10(rms(s1) / rms(s2))
            assert -0.01 <= ratio_db <= (8.01 if split == "train" else 5.01), (utt, ratio_db)
            assert rms(s1) > 0.01 and rms(s2) > 0.005  # speech, not silence


def test_speakers_disjoint_across_splits(corpora):
    inventory = mini_2mix.build_speakers()
    assert sum(len(v) for v in inventory.values()) >= 40
    ids = {split: {s.spk_id for s in inventory[split]} for split in mini_2mix.SPLITS}
    variants = {split: set(mini_2mix.variants(split)) for split in mini_2mix.SPLITS}
    for split in mini_2mix.SPLITS:
        assert variants[split] == {s.voice.split("+")[1] for s in inventory[split]}
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test"), ("train", "test_unseen"),
                 ("dev", "test_unseen")):
        assert not ids[a] & ids[b] and not variants[a] & variants[b]
    # test_unseen: the test voices, in accents no other split uses
    assert variants["test_unseen"] == variants["test"] and not ids["test_unseen"] & ids["test"]
    accent = lambda spk: spk.voice.split("+")[0]  # noqa: E731
    seen = {accent(s) for split in ("train", "dev", "test") for s in inventory[split]}
    assert seen == set(mini_2mix.SEEN_ACCENTS.values())
    assert {accent(s) for s in inventory["test_unseen"]} == set(mini_2mix.UNSEEN_ACCENTS.values())
    root = corpora[0][0]
    for split in COUNTS:
        for utt, pair in read_list(root / split / "utt2spk"):
            spk_1, spk_2 = pair.split("_")
            assert spk_1 != spk_2 and {spk_1, spk_2} <= ids[split], utt
    summary = corpora[1][0]
    assert {s: summary["splits"][s]["speakers"] for s in COUNTS} == \
        {s: [x.spk_id for x in inventory[s]] for s in COUNTS}


def test_two_runs_are_byte_identical(corpora):
    (root_a, root_b), _ = corpora
    wavs = sorted(p.relative_to(root_a) for p in root_a.glob("wav/*/*.wav"))
    assert len(wavs) == 3 * sum(COUNTS.values())
    assert wavs == sorted(p.relative_to(root_b) for p in root_b.glob("wav/*/*.wav"))
    _, mismatch, errors = filecmp.cmpfiles(root_a, root_b, [str(w) for w in wavs], shallow=False)
    assert not mismatch and not errors
    for split in COUNTS:
        for name in LIST_FILES:
            text_a = (root_a / split / name).read_text()
            assert text_a.replace(str(root_a), "ROOT") == \
                (root_b / split / name).read_text().replace(str(root_b), "ROOT")


def test_synthesised_speech_differs_between_speakers():
    engine = mini_2mix.Espeak.get()
    speakers = mini_2mix.build_speakers()["test"]
    low = next(s for s in speakers if "+m3" in s.voice)
    high = next(s for s in speakers if "+f3" in s.voice)
    text = "the children walk along the river before dinner"

    def spectrum(spk):
        x = mini_2mix.speech(engine, spk, text, seed=1, fs=FS)
        assert 1.0 < len(x) / FS < 5.0 and np.sqrt(np.mean(x**2)) > 0.02  # not silent
        frames = np.lib.stride_tricks.sliding_window_view(x, 256)[::128]
        spec = np.abs(np.fft.rfft(frames * np.hanning(256), axis=1)).mean(axis=0)
        return spec / spec.sum()

    low_a, low_b, high_a = spectrum(low), spectrum(low), spectrum(high)
    # The same voice twice (eSpeak's noise and flutter differ a little) is far closer
    # than two voices.
    assert np.abs(low_a - high_a).sum() > 3 * np.abs(low_a - low_b).sum()


def test_cli_reports_missing_espeak(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "espeakng_loader", None)  # import now fails
    code = mini_2mix.main(["--output_dir", str(tmp_path / "c"), "--n_train", "1",
                           "--n_dev", "1", "--n_test", "1"])
    assert code != 0
    assert "pip install espeakng-loader" in capsys.readouterr().err
    assert not (tmp_path / "c").exists()


def test_training_texts_vary_and_test_unseen_says_only_unseen_words():
    speakers = mini_2mix.build_speakers()
    seen, unseen = mini_2mix_text.words_of("seen"), mini_2mix_text.words_of("unseen")
    assert len(seen) > 250 and len(unseen) > 120 and not seen & unseen
    plans = {split: mini_2mix._plan(split, speakers[split], 200, seed=0) for split in mini_2mix.SPLITS}
    for split, plan in plans.items():
        lexicon = unseen if split == "test_unseen" else seen
        for _, _, utts in plan:
            for _, text, _ in utts:
                assert set(text.split()) <= lexicon, (split, text)
    train = [u for _, _, utts in plans["train"] for u in utts]
    # each utterance varies its speaker's pitch, range and rate; lengths vary from 1 to 5 s
    by_speaker = {}
    for spk, text, _ in train:
        by_speaker.setdefault(spk.spk_id, []).append((spk.pitch, spk.pitch_range, spk.rate))
    assert any(len(set(p)) > 1 for p in by_speaker.values() if len(p) > 1)
    counts = [len(text.split()) for _, text, _ in train]
    assert min(counts) <= 4 and max(counts) >= 12
    assert len({text for _, text, _ in train}) == len(train)
    snrs = [high - low for _, (high, low), _ in plans["train"]]
    assert max(snrs) > 5.5  # training reaches level ratios the 0-5 dB test sets never use


THREE = {"train": 3, "dev": 1, "test": 1, "test_unseen": 1}


def test_three_speakers(tmp_path):
    """--num_speakers 3: three distinct voices of the split per mixture, mix = s1 + s2 + s3,
    source gains within +-bound/2 dB of each other's level, lists with spk1-spk3."""
    root = tmp_path / "mini_3mix"
    assert mini_2mix.main(["--output_dir", str(root), "--n_train", "3", "--n_dev", "1", "--n_test", "1",
                           "--n_test_unseen", "1", "--max_seconds", "2", "--num_speakers", "3",
                           "--num_workers", "1", "--seed", "5"]) == 0
    inventory = {split: {s.spk_id for s in spks} for split, spks in mini_2mix.build_speakers().items()}
    rms = lambda x: np.sqrt(np.mean(x**2))  # noqa: E731
    for split, n in THREE.items():
        lists = {name: dict(read_list(root / split / name))
                 for name in ("wav.scp", "spk1.scp", "spk2.scp", "spk3.scp", "utt2spk")}
        assert not (root / split / "spk4.scp").exists()
        assert len(lists["wav.scp"]) == n and all(len(v) == n for v in lists.values())
        for utt, mix_path in lists["wav.scp"].items():
            speakers = lists["utt2spk"][utt].split("_")
            assert len(set(speakers)) == 3 and set(speakers) <= inventory[split], utt
            mix = sf.read(mix_path)[0]
            refs = [sf.read(lists[f"spk{j}.scp"][utt])[0] for j in (1, 2, 3)]
            assert all(len(r) == len(mix) for r in refs) and len(mix) <= 2 * FS
            assert np.abs(mix - sum(refs)).max() <= 2 * LSB
            levels = [20 * np.log10(rms(r)) for r in refs]
            bound = 8.0 if split == "train" else 5.0
            assert max(levels) - min(levels) <= bound + 0.02, (utt, levels)
