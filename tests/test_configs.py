"""Every config in conf/ builds through the plugin task and states its true trainable-parameter
count in its comments; the paper's configurations have the paper's sizes (8.0M, 11.2M, rounded
to 0.1M)."""

import re
from pathlib import Path

import pytest

from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

CONF = Path(__file__).resolve().parents[1] / "conf"
PAPER_MILLIONS = {  # the paper's Tables 1 and 2
    "tisdiss_sep1x2_re1x6.yaml": 8.0,
    "tisdiss_sep1x2_re1x3.yaml": 8.0,
    "tisdiss_sep1x2_re2x2.yaml": 11.2,
}


def trainable_parameters(config: Path) -> int:
    args = TISDiSSEnhancementTask.get_parser().parse_args(["--config", str(config)])
    model = TISDiSSEnhancementTask.build_model(args)
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def stated_count(config: Path):
    """The "(N trainable" count in the config's comments, or None."""
    match = re.search(r"\(([\d,]+)\s+(?:#\s+)?trainable", config.read_text())  # may wrap a line
    return int(match.group(1).replace(",", "")) if match else None


@pytest.mark.parametrize("config", sorted(CONF.glob("*.yaml")), ids=lambda p: p.name)
def test_config_builds_and_states_its_true_count(config):
    count = trainable_parameters(config)
    assert count > 0
    assert stated_count(config) is not None, f'{config.name}: no "({count:,} trainable parameters)" comment'
    assert stated_count(config) == count


@pytest.mark.parametrize("name,millions", PAPER_MILLIONS.items())
def test_paper_configs_have_the_papers_sizes(name, millions):
    count = trainable_parameters(CONF / name)
    assert round(count / 1e6, 1) == millions
