"""Hostile model archives, through unpack_model and ``separate_depths --model_archive``.

Each archive must be refused with a message naming the member and the reason,
with nothing written outside the target (the whole tmp tree is compared before
and after) and no target or half-unpacked folder left behind.
"""

import gzip
import io
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from espnet2_tisdiss.bin import separate_depths
from espnet2_tisdiss.fileio.model_archive import ArchiveError, pack_model, unpack_model
from tests.security.hostile import evil_torch_checkpoint, evil_yaml, lying_tar_gz, member, model_archive, tar_gz, tree

REPO = Path(__file__).resolve().parents[2]
TINY_CONFIG = REPO / "conf/tisdiss_tiny.yaml"
GOOD = [member("config.yaml", b"a: 1\n"), member("model.pth", b"weights")]

HOSTILE_MEMBERS = {
    "parent path": ([member("../escape.txt")], r"'../escape.txt' \(path escapes the target folder\)"),
    "nested parent": ([member("sub/../../escape.txt")], r"'sub/../../escape.txt' \(path escapes"),
    "absolute path": ([member("/tmp/tisdiss_escape.txt")], r"'/tmp/tisdiss_escape.txt' \(absolute path\)"),
    "windows drive": ([member("C:\\escape.txt")], r"\(absolute path\)"),
    "symlink out": ([member("RESULTS.md", kind=tarfile.SYMTYPE, linkname="../../outside")],
                    r"'RESULTS.md' \(symbolic link to '../../outside'\)"),
    "symlink as model": ([member("model.pth", kind=tarfile.SYMTYPE, linkname="/etc/passwd")],
                         r"'model.pth' \(symbolic link to '/etc/passwd'\)"),
    "hard link": ([member("meta.yaml", kind=tarfile.LNKTYPE, linkname="/etc/passwd")],
                  r"'meta.yaml' \(hard link to '/etc/passwd'\)"),
    "char device": ([member("RESULTS.md", kind=tarfile.CHRTYPE)], r"'RESULTS.md' \(device file or FIFO\)"),
    "fifo": ([member("RESULTS.md", kind=tarfile.FIFOTYPE)], r"'RESULTS.md' \(device file or FIFO\)"),
    "folder": ([member("wavs", kind=tarfile.DIRTYPE)], r"'wavs' \(folder\)"),
    "foreign file": ([member("run.sh", b"rm -rf ~")], r"'run.sh' \(unexpected name"),
    "repeated name": ([member("config.yaml", b"b: 2\n")], r"'config.yaml' \(repeated name\)"),
}


@pytest.fixture
def root(tmp_path):
    """A sandbox: ``root/in`` holds the archives, ``root/target`` is where they unpack."""
    (tmp_path / "in").mkdir()
    return tmp_path


def assert_refused(root: Path, archive: Path, message: str, **options) -> None:
    """unpack_model refuses ``archive`` with ``message``; nothing anywhere under ``root`` changes."""
    before = tree(root)
    with pytest.raises(ArchiveError, match=message):
        unpack_model(archive, root / "target", **options)
    assert tree(root) == before
    assert not Path("/tmp/tisdiss_escape.txt").exists()


@pytest.mark.parametrize("name", HOSTILE_MEMBERS)
def test_escaping_members_are_refused(root, name):
    extra, message = HOSTILE_MEMBERS[name]
    assert_refused(root, tar_gz(root / "in/evil.tar.gz", GOOD + extra), message)


def test_declared_size_over_the_bound_is_refused_before_decompressing(root):
    archive = lying_tar_gz(root / "in/bomb.tar.gz", "model.pth", declared=3 * 1024 ** 3)
    assert_refused(root, archive, r"'model.pth' declares 3221225472 bytes, so the members unpack to more "
                                  r"than 2147483648 bytes in total")


def test_compression_ratio_bomb_is_refused(root):
    """200 MiB of zeros that gzip stores in 200 KiB: refused on its header, far below 2 GiB."""
    lying = lying_tar_gz(root / "in/lying.tar.gz", "model.pth", declared=200 * 1024 ** 2)
    assert_refused(root, lying, r"'model.pth' declares 209715200 bytes, .* over 100x the archive's \d+ bytes "
                                r"plus 1048576 \(a decompression bomb\)")
    real = root / "in/real.tar.gz"  # the same bomb with all its data present
    tar_gz(real, [member("config.yaml", b"a: 1\n"), member("model.pth", bytes(64 * 1024 ** 2))])
    assert real.stat().st_size < 1024 ** 2
    assert_refused(root, real, r"unpack to more than \d+ bytes")


def test_zeros_after_the_end_of_the_archive_are_bounded(root):
    """A valid archive followed by 50 MiB of zeros inside the same gzip stream."""
    plain = root / "plain.tar"
    with tarfile.open(plain, "w") as tar:
        for info, data in GOOD:
            tar.addfile(info, io.BytesIO(data))
    archive = root / "in/trailing.tar.gz"
    archive.write_bytes(gzip.compress(plain.read_bytes() + bytes(50 * 1024 ** 2), compresslevel=1))
    assert_refused(root, archive, "the data after its last member breaks the bound on unpacked size")


def test_size_bound_is_adjustable(root):
    archive = tar_gz(root / "in/m.tar.gz", [member("config.yaml", b"a: 1\n"), member("model.pth", bytes(5000))])
    assert_refused(root, archive, "unpack to more than 1000 bytes", max_bytes=1000)
    unpack_model(archive, root / "target")
    assert (root / "target/model.pth").stat().st_size == 5000


@pytest.mark.parametrize("damage", ["truncated", "flipped bytes", "not gzip", "empty"])
def test_damaged_archive_leaves_nothing_half_unpacked(root, damage):
    (root / "c.yaml").write_text("a: 1\n")
    (root / "w.pth").write_bytes(np.random.default_rng(0).bytes(200_000))
    archive = pack_model(root / "c.yaml", root / "w.pth", root / "in/m.tar.gz")
    data = bytearray(archive.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    elif damage == "flipped bytes":
        data[len(data) // 2: len(data) // 2 + 64] = bytes(64)
    elif damage == "not gzip":
        data = b"PK\x03\x04 this is something else" * 10
    else:
        data = b""
    archive.write_bytes(bytes(data))
    assert_refused(root, archive, r"cannot read archive .*m.tar.gz: it is truncated or corrupt")


def test_missing_required_member(root):
    archive = tar_gz(root / "in/m.tar.gz", [member("config.yaml", b"a: 1\n")])
    assert_refused(root, archive, r"\['model.pth'\] missing")


@pytest.mark.parametrize("name", ["config.yaml", "meta.yaml"])
def test_code_running_yaml_inside_the_archive_is_refused(root, name):
    marker = root / "marker"
    yaml_text = evil_yaml(root / "evil.yaml", marker).read_bytes()
    members = [member(n, yaml_text if n == name else b"a: 1\n") for n in ("config.yaml", "meta.yaml")]
    archive = tar_gz(root / "in/m.tar.gz", members + [member("model.pth", b"w")])
    assert_refused(root, archive, rf"{name} of .*m.tar.gz.* is not plain YAML .*python/object/apply:os.system")
    assert not marker.exists()


def test_non_empty_target_is_left_alone(root):
    archive = tar_gz(root / "in/m.tar.gz", GOOD)
    (root / "target").mkdir()
    (root / "target/mine.txt").write_text("precious")
    assert_refused(root, archive, "exists and is not an empty folder")


def test_good_archive_unpacks_into_an_existing_empty_folder(root):
    (root / "target").mkdir()
    config, model, meta = unpack_model(tar_gz(root / "in/m.tar.gz", GOOD), root / "target")
    assert config.read_text() == "a: 1\n" and model.read_bytes() == b"weights" and meta == {}
    assert sorted(p.name for p in root.iterdir()) == ["in", "target"]  # no partial folder left


def mixture_wav(root: Path) -> Path:
    sf.write(root / "mix.wav", np.zeros(800, dtype="float32"), 8000)
    return root / "mix.wav"


def separate(root: Path, archive: Path) -> str:
    """separate_depths --model_archive in-process; returns its error message (it must exit with one)."""
    with pytest.raises(SystemExit) as exit_info:
        separate_depths.main(["--model_archive", str(archive), "--wav", str(mixture_wav(root)),
                              "--output_dir", str(root / "out")])
    assert not (root / "out").exists()
    return str(exit_info.value.code)


@pytest.mark.parametrize("name", ["parent path", "symlink as model", "hard link", "char device"])
def test_separate_depths_refuses_hostile_members(root, name):
    extra, message = HOSTILE_MEMBERS[name]
    members = [m for m in GOOD if m[0].name != extra[0][0].name] + extra
    archive = tar_gz(root / "in/evil.tar.gz", members)
    before = tree(root)
    assert re.search(message, separate(root, archive))
    assert tree(root) == {**before, "mix.wav": (root / "mix.wav").read_bytes()}


def test_separate_depths_refuses_bomb_and_truncated_archive(root):
    assert "unpack to more than" in separate(root, lying_tar_gz(root / "in/b.tar.gz", "model.pth", 3 << 30))
    truncated = root / "in/t.tar.gz"
    truncated.write_bytes(tar_gz(root / "in/full.tar.gz", GOOD).read_bytes()[:40])
    assert "truncated or corrupt" in separate(root, truncated)


def test_separate_depths_cli_refuses_a_code_running_checkpoint(root):
    """The whole ``python -m`` path: the archive unpacks, the weights are refused unrun."""
    marker = root / "marker"
    config = {**yaml.safe_load(TINY_CONFIG.read_text()), "init": None}  # as training writes it
    weights = evil_torch_checkpoint(root / "evil.pth", marker).read_bytes()
    archive = model_archive(root / "in/m.tar.gz", config, weights)
    done = subprocess.run([sys.executable, "-m", "espnet2_tisdiss.bin.separate_depths", "--model_archive",
                           str(archive), "--wav", str(mixture_wav(root)), "--output_dir", str(root / "out")],
                          capture_output=True, text=True, cwd=REPO, timeout=300)
    assert done.returncode != 0
    assert "error: Refused checkpoint" in done.stderr and "GLOBAL posix.system" in done.stderr
    assert not marker.exists() and not (root / "out").exists()
