import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def copy_recipes(root: Path) -> Path:
    """A copy of egs2/ (without data, dump and exp) and conf/ in ``root``; returns its egs2/."""
    shutil.copytree(REPO / "egs2", root / "egs2", symlinks=True, ignore=shutil.ignore_patterns("data", "dump", "exp"))
    shutil.copytree(REPO / "conf", root / "conf")
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
