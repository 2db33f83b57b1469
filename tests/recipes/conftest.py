import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]


RECIPE_OUTPUTS = shutil.ignore_patterns("data", "dump", "exp", "exp_*")  # as .gitignore lists them


def checkout_files(folder: str) -> Optional[List[str]]:
    """Paths under REPO/``folder`` that the checkout holds: tracked, or new and not ignored.

    Recipe outputs (data/, dump/, any --expdir, ...) are ignored by git and left out, so a
    recipe that has been run does not get copied into every test (hundreds of MB each).
    None when REPO is not a git checkout or git is missing.
    """
    try:
        listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", folder],
                                cwd=REPO, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    paths = [name for name in listed.decode().split("\0") if name]
    return [name for name in paths if os.path.lexists(REPO / name)]  # not those deleted from the tree


def copy_recipes(root: Path) -> Path:
    """A copy of egs2/ and conf/ (without recipe outputs) in ``root``; returns its egs2/."""
    for folder in ("egs2", "conf"):
        names = checkout_files(folder)
        if names is None:
            shutil.copytree(REPO / folder, root / folder, symlinks=True, ignore=RECIPE_OUTPUTS)
            continue
        for name in names:
            source, target = REPO / name, root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_symlink():
                os.symlink(os.readlink(source), target)
            else:
                shutil.copy2(source, target)
    return root / "egs2"


@pytest.fixture
def recipe(tmp_path) -> Path:
    """A copy of egs2/ and conf/ in tmp_path; returns the mini recipe dir."""
    return copy_recipes(tmp_path) / "mini_2mix/enh1"


def run_recipe(recipe_dir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    proc = subprocess.run(["./run.sh", *args], cwd=recipe_dir, env=env, capture_output=True, text=True)
    if check:
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return proc


SMALL = ("--local_data_opts", "--n_train 8 --n_dev 2 --n_test 2 --n_test_unseen 2 --max_seconds 1.5",
         "--enh_config", "../../../conf/tisdiss_tiny.yaml", "--enh_args", "--max_epoch 1")
