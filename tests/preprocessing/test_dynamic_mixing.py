"""Dynamic mixing: remixed per epoch, sums of rescaled sources, distinct speakers, eval data untouched."""

import argparse
import random

import numpy as np
import pytest
import soundfile as sf

from espnet2_tisdiss.preprocessing import SpeakerDistinctDynamicMixing
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

GAIN_DB = 2.5


def write_sources(folder, speakers):
    """``speakers``: {speaker: number of sources}; 0.5 s noise sources at 8 kHz; returns their audio."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    audio, scp, utt2spk = {}, [], []
    for speaker, count in speakers.items():
        for i in range(count):
            key = f"{speaker}-u{i}"
            audio[key] = (0.1 * rng.standard_normal(4000 + 37 * i)).astype(np.float32)
            sf.write(folder / f"{key}.wav", audio[key], 8000, subtype="FLOAT")
            scp.append(f"{key} {folder / f'{key}.wav'}\n")
            utt2spk.append(f"{key} {speaker}\n")
    (folder / "spk1.scp").write_text("".join(scp))
    (folder / "utt2spk").write_text("".join(utt2spk))
    return audio


def preprocessor(folder, train=True, ref_num=2, speech_segment=None):
    return SpeakerDistinctDynamicMixing(train, str(folder / "spk1.scp"), str(folder / "utt2spk"), ref_num=ref_num,
                                        dynamic_mixing_gain_db=GAIN_DB, speech_segment=speech_segment)


def mix(prep, key, audio):
    return prep(key, {"speech_ref1": audio[key].copy()})


def test_partners_are_never_of_a_speaker_already_in_the_mixture(tmp_path):
    audio = write_sources(tmp_path, {"a": 40, "b": 1, "c": 1})  # ESPnet's ten tries would often fail here
    for ref_num in (2, 3):
        prep = preprocessor(tmp_path, ref_num=ref_num)
        random.seed(0)
        for _ in range(300):
            key = random.choice(sorted(audio))
            picked = prep._pick_source_utterances_(key)
            speakers = [prep.utt2spk[k] for k in [key, *picked]]
            assert len(picked) == ref_num - 1 and len(set(speakers)) == ref_num


def test_each_mixture_is_the_sum_of_its_rescaled_sources(tmp_path):
    audio = write_sources(tmp_path, {"a": 5, "b": 5, "c": 5})
    prep = preprocessor(tmp_path)
    random.seed(1)
    for key in sorted(audio)[:6]:
        data = mix(prep, key, audio)
        refs = [data["speech_ref1"], data["speech_ref2"]]
        np.testing.assert_allclose(data["speech_mix"], refs[0] + refs[1], atol=1e-6)
        gain = refs[0] / audio[key]  # the example's own source, rescaled by one gain
        np.testing.assert_allclose(gain, gain[0], rtol=1e-5)
        assert abs(20 * np.log10(gain[0])) <= GAIN_DB + 1e-6
        partner = [k for k in audio if k != key and is_scaled(refs[1][:4000], audio[k][:4000])]
        assert len(partner) == 1 and prep.utt2spk[partner[0]] != prep.utt2spk[key]


def is_scaled(signal, source) -> bool:
    """Whether ``signal`` is ``source`` times one gain."""
    ratio = signal / source
    return bool(np.allclose(ratio, ratio[0], rtol=1e-4))


def test_mixtures_change_with_the_epoch_seed_and_repeat_with_the_same_seed(tmp_path):
    """ESPnet's trainer reseeds Python's random with seed + epoch at every epoch."""
    audio = write_sources(tmp_path, {"a": 5, "b": 5, "c": 5})
    prep = preprocessor(tmp_path)
    keys = sorted(audio)

    def epoch(seed):
        random.seed(seed)
        return [mix(prep, key, audio)["speech_mix"] for key in keys]

    first, second, again = epoch(1), epoch(2), epoch(1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert sum(not np.array_equal(a, b) for a, b in zip(first, second)) == len(keys)


def test_training_crops_every_signal_to_one_window(tmp_path):
    audio = write_sources(tmp_path, {"a": 3, "b": 3})
    prep = preprocessor(tmp_path, speech_segment=1000)
    random.seed(3)
    key = "a-u2"
    data = mix(prep, key, audio)
    assert {len(data[name]) for name in ("speech_mix", "speech_ref1", "speech_ref2")} == {1000}
    np.testing.assert_allclose(data["speech_mix"], data["speech_ref1"] + data["speech_ref2"], atol=1e-6)
    windows = [s for s in range(len(audio[key]) - 999) if is_scaled(data["speech_ref1"], audio[key][s:s + 1000])]
    assert len(windows) == 1 and windows[0] > 0


def test_validation_and_test_data_are_left_as_they_are(tmp_path):
    audio = write_sources(tmp_path, {"a": 3, "b": 3})
    prep = preprocessor(tmp_path, train=False, speech_segment=1000)
    stored = {"speech_mix": audio["a-u0"] + 1.0, "speech_ref1": audio["a-u0"], "speech_ref2": audio["b-u0"]}
    out = prep("x", {k: v.copy() for k, v in stored.items()})
    assert sorted(out) == sorted(stored)
    for name, value in stored.items():
        np.testing.assert_array_equal(out[name], value)


def test_refuses_a_list_without_speakers_or_with_too_few(tmp_path):
    write_sources(tmp_path, {"a": 3, "b": 3})
    with pytest.raises(ValueError, match="needs --utt2spk"):
        SpeakerDistinctDynamicMixing(True, str(tmp_path / "spk1.scp"), None)
    with pytest.raises(ValueError, match="sources of at least 3 speakers; .* has 2"):
        preprocessor(tmp_path, ref_num=3)


def test_the_task_builds_it_from_the_training_options(tmp_path):
    """As stage 4 passes them: the source list as training data, --utt2spk, --preprocessor."""
    write_sources(tmp_path / "train_sources", {"a": 3, "b": 3})
    args = argparse.Namespace(
        preprocessor="dynamic_mixing_crop", preprocessor_conf={"dynamic_mixing_gain_db": 1.5},
        train_data_path_and_name_and_type=[(str(tmp_path / "train_sources/spk1.scp"), "speech_ref1", "sound")],
        utt2spk=str(tmp_path / "train_sources/utt2spk"), separator_conf={"num_spk": 2}, speech_segment=2000)
    prep = TISDiSSEnhancementTask.build_preprocess_fn(args, train=True)
    assert isinstance(prep, SpeakerDistinctDynamicMixing) and prep.train
    assert (prep.ref_num, prep.dynamic_mixing_gain_db, prep.speech_segment) == (2, 1.5, 2000)
    assert len(prep.source_keys) == 6
    assert not TISDiSSEnhancementTask.build_preprocess_fn(args, train=False).train


def test_the_task_reads_the_speaker_count_of_a_tf_gridnet_config(tmp_path):
    """TF-GridNet names its output count ``n_srcs``: dynamic mixing draws that many sources."""
    write_sources(tmp_path / "train_sources", {"a": 2, "b": 2, "c": 2})
    args = argparse.Namespace(
        preprocessor="dynamic_mixing_crop", preprocessor_conf={},
        train_data_path_and_name_and_type=[(str(tmp_path / "train_sources/spk1.scp"), "speech_ref1", "sound")],
        utt2spk=str(tmp_path / "train_sources/utt2spk"), separator_conf={"n_srcs": 3}, num_spk=1)
    assert TISDiSSEnhancementTask.build_preprocess_fn(args, train=True).ref_num == 3
