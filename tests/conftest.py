import argparse
import os
from pathlib import Path

import pytest
import torch
import yaml

REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared/fixtures/tisdiss_reference/paper_8m"

TINY = dict(
    num_spk=2, n_sep=2, n_re=3, emb_dim=8, n_heads=2, ffn_hidden_dim=12,
    ffn_kernel_size=3, ffn_stride=1, num_groups=2,
)


@pytest.fixture(autouse=True)
def _seed_and_threads():
    torch.manual_seed(0)
    torch.set_num_threads(2)


@pytest.fixture
def reference_dir() -> Path:
    if not REFERENCE_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"reference fixture missing at {REFERENCE_DIR}")
        pytest.skip(f"reference fixture not found at {REFERENCE_DIR} (../shared beside the repo)")
    return REFERENCE_DIR


@pytest.fixture
def tiny_model_files(tmp_path):
    """config.yaml and model.pth of conf/tisdiss_tiny.yaml with random weights, as training leaves them."""
    from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

    config = yaml.safe_load((Path(__file__).resolve().parents[1] / "conf/tisdiss_tiny.yaml").read_text())
    config.setdefault("init", None)
    model = TISDiSSEnhancementTask.build_model(argparse.Namespace(**config))
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    torch.save(model.state_dict(), tmp_path / "model.pth")
    return tmp_path / "config.yaml", tmp_path / "model.pth"


def random_stft(batch=2, frames=10, freqs=9) -> torch.Tensor:
    return torch.randn(batch, frames, freqs, dtype=torch.complex64)
