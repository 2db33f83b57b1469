"""Scoring of decoded depths on tiny synthetic sets (8 kHz, 1 s, two speakers)."""

import itertools
import json
import math

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.bin import score_separation
from espnet2_tisdiss.stages import scoring

FS = 8000


def speech_like(rng, f0, seconds=1.0):
    t = np.arange(int(seconds * FS)) / FS
    phase = 2 * np.pi * f0 * (1 + 0.05 * np.sin(2 * np.pi * 2 * t)) * t
    harmonics = sum(np.sin(k * phase) / k for k in range(1, 6))
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(2, 4) * t)
    return 0.1 * harmonics * envelope + 0.005 * rng.standard_normal(len(t))


def reference_si_snr(est, ref):
    est, ref = est - est.mean(), ref - ref.mean()
    target = (est @ ref) / (ref @ ref) * ref
    return 10 * np.log10((target @ target) / ((est - target) @ (est - target)))


def write_wav(path, audio, fs=FS):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, audio, fs, subtype="FLOAT")
    return path


def write_scp(path, entries):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{utt} {p}\n" for utt, p in entries.items()))


def make_set(root, name="test_set", count=3, seed=0):
    """Data dir ``root/name`` (paths with a space); returns (dir, {utt: (mix, [s1, s2])})."""
    rng = np.random.default_rng(seed)
    data, signals = root / name, {}
    lists = {"wav.scp": {}, "spk1.scp": {}, "spk2.scp": {}}
    for i in range(count):
        utt = f"{name}_{i}"
        sources = [speech_like(rng, rng.uniform(100, 150)), speech_like(rng, rng.uniform(220, 300))]
        mix = sources[0] + sources[1]
        signals[utt] = (mix, sources)
        for scp, audio in zip(lists, [mix] + sources):
            lists[scp][utt] = write_wav(data / "audio files" / scp[:-4] / f"{utt}.wav", audio)
    for scp, entries in lists.items():
        write_scp(data / scp, entries)
    return data, signals


def write_depth(decode, depth, estimates):
    """``estimates``: {utt: [est1, est2]} -> decode/reps<depth>/spk<j>.scp."""
    folder = decode / f"reps{depth}"
    for j in range(2):
        entries = {utt: write_wav(folder / "wavs" / str(j + 1) / f"{utt}.wav", ests[j])
                   for utt, ests in estimates.items()}
        write_scp(folder / f"spk{j + 1}.scp", entries)


def read_tsv(path):
    header, *rows = [line.split("\t") for line in path.read_text().splitlines()]
    return header, {row[0]: dict(zip(header[1:], map(float, row[1:]))) for row in rows}


@pytest.fixture
def scored(tmp_path):
    """Depth 1: the mixture; 2: perfect; 3: perfect but swapped; 10: noisy; with timing.json."""
    data, signals = make_set(tmp_path)
    decode = tmp_path / "decode" / "test_set"
    rng = np.random.default_rng(1)
    write_depth(decode, 1, {u: [m, m] for u, (m, s) in signals.items()})
    write_depth(decode, 2, {u: s for u, (m, s) in signals.items()})
    write_depth(decode, 3, {u: s[::-1] for u, (m, s) in signals.items()})
    write_depth(decode, 10, {u: [x + 0.02 * rng.standard_normal(len(x)) for x in s] for u, (m, s) in signals.items()})
    timing = {"audio_seconds": 3.0, "seconds": {"1": 0.3, "2": 0.6, "3": 0.9, "10": 3.0}}
    (decode / "timing.json").write_text(json.dumps(timing))
    summary = scoring.score_test_set(data, decode, progress=False)
    return data, decode, signals, summary


def test_outputs_and_metric_values(scored):
    data, decode, signals, summary = scored
    assert summary["test_set"] == "test_set" and summary["num_utts"] == 3
    assert list(summary["depths"]) == ["1", "2", "3", "10"]  # numeric order
    assert json.loads((decode / "summary.json").read_text()) == summary
    for depth in (1, 2, 3, 10):
        header, rows = read_tsv(decode / f"reps{depth}" / "scores.tsv")
        assert header == ["utt_id", "si_snr", "si_snri", "sdr", "sdri", "stoi"]
        assert list(rows) == list(signals)
    _, mixture = read_tsv(decode / "reps1" / "scores.tsv")
    _, perfect = read_tsv(decode / "reps2" / "scores.tsv")
    _, swapped = read_tsv(decode / "reps3" / "scores.tsv")
    for utt, (mix, sources) in signals.items():
        assert mixture[utt]["si_snri"] == pytest.approx(0, abs=1e-3)
        assert mixture[utt]["sdri"] == pytest.approx(0, abs=1e-3)
        expected = np.mean([reference_si_snr(mix, s) for s in sources])
        assert mixture[utt]["si_snr"] == pytest.approx(expected, abs=1e-3)
        assert perfect[utt]["si_snr"] > 90 and perfect[utt]["sdr"] > 90
        assert perfect[utt]["stoi"] == pytest.approx(1, abs=1e-3)
        assert perfect[utt]["si_snri"] == pytest.approx(perfect[utt]["si_snr"] - expected, abs=1e-3)
        assert swapped[utt] == perfect[utt]  # the permutation is solved
    assert summary["depths"]["1"]["stoi"] < summary["depths"]["10"]["stoi"] < summary["depths"]["2"]["stoi"]
    assert 0 < summary["depths"]["10"]["si_snri"] < summary["depths"]["2"]["si_snri"]
    assert summary["depths"]["10"]["rtf"] == pytest.approx(1.0)
    assert summary["depths"]["2"]["rtf"] == pytest.approx(0.2)


def test_known_si_snr_of_signal_plus_scaled_noise():
    rng = np.random.default_rng(3)
    sources = np.stack([speech_like(rng, 120), speech_like(rng, 260)])
    sources -= sources.mean(axis=1, keepdims=True)
    estimates = []
    for target_db, source in zip((10.0, 3.0), sources):
        noise = rng.standard_normal(source.shape)
        noise -= noise.mean()
        noise -= (noise @ source) / (source @ source) * source  # orthogonal: SI-SNR is exact
        noise *= np.sqrt((source @ source) / (noise @ noise) / 10 ** (target_db / 10))
        estimates.append(0.5 * (source + noise))  # a gain does not change SI-SNR
    scores = scoring.score_utterance(sources.sum(0), sources, np.stack(estimates[::-1]), FS)
    assert scores["si_snr"] == pytest.approx(6.5, abs=0.1)
    assert scores["sdr"] == pytest.approx(6.5, abs=0.5)  # the 512-tap filter fits a little noise


def test_missing_timing_gives_nan_rtf_with_warning(tmp_path):
    data, signals = make_set(tmp_path, count=1)
    write_depth(tmp_path / "dec", 4, {u: s for u, (m, s) in signals.items()})
    with pytest.warns(UserWarning, match="timing.json not found"):
        summary = scoring.score_test_set(data, tmp_path / "dec", progress=False)
    assert math.isnan(summary["depths"]["4"]["rtf"])
    assert json.loads((tmp_path / "dec" / "summary.json").read_text())["depths"]["4"]["rtf"] is None


@pytest.mark.filterwarnings("ignore:.*timing.json not found")
def test_lengths_trimmed_within_tolerance_else_error(tmp_path):
    data, signals = make_set(tmp_path, count=1)
    utt, (mix, sources) = next(iter(signals.items()))
    write_depth(tmp_path / "dec", 1, {utt: [np.concatenate([s, np.zeros(3)]) for s in sources]})
    summary = scoring.score_test_set(data, tmp_path / "dec", progress=False)
    assert summary["depths"]["1"]["si_snr"] > 90
    write_depth(tmp_path / "dec", 1, {utt: [s[:-1000] for s in sources]})
    with pytest.raises(ValueError, match=f"{utt}: lengths differ by more than 512 samples"):
        scoring.score_test_set(data, tmp_path / "dec", progress=False)


def test_worker_processes_give_the_same_scores(scored):
    data, decode, _, summary = scored
    assert scoring.score_test_set(data, decode, nj=2, progress=False) == summary


@pytest.mark.parametrize("problem, message", [
    ("no data dir", "data dir not found"),
    ("no decode dir", "decode dir not found"),
    ("no reps", "no reps<k> folders"),
    ("no estimate list", r"missing scp file: .*reps1[/\\]spk2.scp"),
    ("no reference list", "missing scp file: .*spk1.scp"),
    ("ids differ", "reps1/spk1.scp do not match .*wav.scp: missing test_set_1; extra stranger"),
    ("reference ids differ", "spk2.scp do not match .*wav.scp: missing test_set_0, test_set_1, test_set_2"),
    ("rate differs", "test_set_0: sample rates differ: .*16000 Hz"),
])
@pytest.mark.filterwarnings("ignore:.*timing.json not found")
def test_errors_name_the_problem(tmp_path, problem, message):
    data, signals = make_set(tmp_path, count=3)
    decode = tmp_path / "dec"
    estimates = {u: s for u, (m, s) in signals.items()}
    write_depth(decode, 1, estimates)
    if problem == "no data dir":
        data = tmp_path / "absent"
    elif problem == "no decode dir":
        decode = tmp_path / "absent"
    elif problem == "no reps":
        decode = tmp_path / "empty"
        decode.mkdir()
    elif problem == "no estimate list":
        (decode / "reps1" / "spk2.scp").unlink()
    elif problem == "no reference list":
        for j in (1, 2):
            (data / f"spk{j}.scp").unlink()
    elif problem == "ids differ":
        lines = (decode / "reps1" / "spk1.scp").read_text().splitlines()
        lines[1] = "stranger " + lines[1].split(" ", 1)[1]
        (decode / "reps1" / "spk1.scp").write_text("\n".join(lines) + "\n")
    elif problem == "reference ids differ":
        write_scp(data / "spk2.scp", {"other": "x.wav"})
    elif problem == "rate differs":
        first = next(iter(signals))
        write_wav(decode / "reps1" / "wavs" / "1" / f"{first}.wav", signals[first][1][0], fs=16000)
    with pytest.raises(ValueError, match=message):
        scoring.score_test_set(data, decode, progress=False)
    with pytest.raises(SystemExit) as exit_info:
        score_separation.main(["--data_dir", str(data), "--decode_dir", str(decode), "--no_progress"])
    assert str(exit_info.value.code).startswith("error: ")


def test_read_scp_keeps_spaces_and_rejects_bad_lines(tmp_path):
    scp = tmp_path / "wav.scp"
    scp.write_text("a /data/my files/a.wav\n\nb\t/b.wav\n")
    assert scoring.read_scp(scp) == {"a": "/data/my files/a.wav", "b": "/b.wav"}
    scp.write_text("a /a.wav\na /b.wav\n")
    with pytest.raises(ValueError, match="duplicate utterance id 'a'"):
        scoring.read_scp(scp)
    scp.write_text("lonely\n")
    with pytest.raises(ValueError, match="expected 'utt_id path'"):
        scoring.read_scp(scp)


def test_cli_prints_table_and_summary_path(scored, capsys):
    data, decode, _, _ = scored
    (decode / "summary.json").unlink()
    score_separation.main(["--data_dir", str(data), "--decode_dir", str(decode), "--no_progress"])
    out = capsys.readouterr().out
    assert "test_set: 3 utterances, depths [1, 2, 3, 10]" in out
    assert "| dataset | depth | SI-SNR | SI-SNRi | SDR | SDRi | STOI | RTF |" in out
    assert "| test_set | 10 |" in out and out.rstrip().endswith(f"wrote {decode / 'summary.json'}")
    assert (decode / "summary.json").is_file()


def test_three_speakers_are_matched_by_the_best_of_all_six_permutations():
    rng = np.random.default_rng(7)
    refs = np.stack([speech_like(rng, f0) for f0 in (110, 190, 270)])
    mixture = refs.sum(0)
    ests = refs[[1, 2, 0]] + 0.02 * rng.standard_normal(refs.shape)
    ests[0] += 0.5 * refs[2]  # leakage, so that the permutations differ in more than one way
    scores = scoring.score_utterance(mixture, refs, ests, FS)
    brute = max(np.mean([reference_si_snr(ests[p[j]], refs[j]) for j in range(3)])
                for p in itertools.permutations(range(3)))
    assert scores["si_snr"] == pytest.approx(brute, abs=1e-3)
    baseline = np.mean([reference_si_snr(mixture, ref) for ref in refs])
    assert scores["si_snri"] == pytest.approx(brute - baseline, abs=1e-3)
