import io
import tarfile

import pytest

from espnet2_tisdiss.fileio.model_archive import ArchiveError, pack_model, unpack_model


def test_round_trip(tmp_path):
    (tmp_path / "config.yaml").write_text("separator: tisdiss\n")
    (tmp_path / "w.pth").write_bytes(b"weights")
    (tmp_path / "ave.pth").symlink_to("w.pth")  # as ESPnet's valid.loss.ave.pth
    (tmp_path / "RESULTS.md").write_text("| test | 1 |\n")
    archive = pack_model(tmp_path / "config.yaml", tmp_path / "ave.pth", tmp_path / "m.tar.gz",
                         tmp_path / "RESULTS.md", fs=8000)
    config, model, meta = unpack_model(archive, tmp_path / "unpacked")
    assert config.read_text() == "separator: tisdiss\n" and model.read_bytes() == b"weights"
    assert meta["fs"] == 8000 and "espnet" in meta
    assert (tmp_path / "unpacked/RESULTS.md").is_file()


def test_missing_inputs(tmp_path):
    with pytest.raises(ArchiveError, match="does not exist"):
        pack_model(tmp_path / "config.yaml", tmp_path / "w.pth", tmp_path / "m.tar.gz")
    assert not (tmp_path / "m.tar.gz").exists()


def test_foreign_members_are_refused(tmp_path):
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name in ("config.yaml", "model.pth", "../escape.txt"):
            info = tarfile.TarInfo(name)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(ArchiveError, match=r"refused member '../escape.txt' \(path escapes the target folder\)"):
        unpack_model(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists() and not (tmp_path / "out").exists()


def test_truncated_archive(tmp_path):
    (tmp_path / "config.yaml").write_text("a: 1\n")
    (tmp_path / "w.pth").write_bytes(b"w" * 10000)
    archive = pack_model(tmp_path / "config.yaml", tmp_path / "w.pth", tmp_path / "m.tar.gz")
    archive.write_bytes(archive.read_bytes()[:50])
    with pytest.raises(ArchiveError, match="cannot read archive .*truncated or corrupt"):
        unpack_model(archive, tmp_path / "out")
