"""Jobs from files, folders and wav.scp: output names, mirrored trees, earlier outputs skipped."""

from pathlib import Path

import pytest

from espnet2_tisdiss.inference.inputs import collect_jobs


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def test_folder_is_mirrored_and_earlier_outputs_are_skipped(tmp_path):
    for name in ("a.wav", "sub/b.FLAC", "sub/b_spk1.wav", "notes.txt"):
        touch(tmp_path / "in" / name)
    jobs = collect_jobs([tmp_path / "in"], tmp_path / "out")
    assert [job.path.name for job in jobs] == ["a.wav", "b.FLAC"]
    assert [job.output(2) for job in jobs] == [tmp_path / "out/a_spk2.wav", tmp_path / "out/sub/b_spk2.wav"]
    beside = collect_jobs([tmp_path / "in"])
    assert beside[1].output(1) == tmp_path / "in/sub/b_spk1.wav"


def test_scp_and_single_files(tmp_path):
    a = touch(tmp_path / "x/a.wav")
    (tmp_path / "wav.scp").write_text(f"utt1 {a}\nutt2 {tmp_path / 'gone.wav'}\n")
    jobs = collect_jobs([tmp_path / "wav.scp", tmp_path / "missing.wav"], tmp_path / "o")
    assert [job.name for job in jobs] == [f"utt1 ({a})", f"utt2 ({tmp_path / 'gone.wav'})", str(tmp_path / "missing.wav")]
    assert [job.output(1).name for job in jobs] == ["utt1_spk1.wav", "utt2_spk1.wav", "missing_spk1.wav"]
    assert collect_jobs([tmp_path / "wav.scp"])[0].output(1) == tmp_path / "x/utt1_spk1.wav"


def test_two_inputs_with_the_same_outputs_are_refused(tmp_path):
    one, two = touch(tmp_path / "a/mix.wav"), touch(tmp_path / "b/mix.flac")
    with pytest.raises(ValueError, match="would both be written to mix_spk1.wav"):
        collect_jobs([one, two], tmp_path / "out")
