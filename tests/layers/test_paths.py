"""The layer-path choice: one rule by device, an override that really switches, same weights."""

import pytest
import torch
from torch.autograd.function import BackwardCFunction

from espnet2_tisdiss.layers.locoformer import TFLocoformerBlock
from espnet2_tisdiss.layers.paths import TwoPaths, check_layer_path, uses_tuned
from espnet2_tisdiss.separator import TISDiSSSeparator
from tests.conftest import TINY, random_stft


def custom_functions(output: torch.Tensor) -> set:
    """Names of the custom autograd Functions in the graph that produced ``output``."""
    seen, found, todo = set(), set(), [output.grad_fn]
    while todo:
        node = todo.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        if isinstance(node, BackwardCFunction):
            found.add(type(node).__name__)
        todo += [next_node for next_node, _ in node.next_functions]
    return found


def training_output(sep: TISDiSSSeparator, spec: torch.Tensor) -> torch.Tensor:
    stages, _, _ = sep.train()(spec, torch.tensor([spec.shape[1]] * spec.shape[0]))
    return sum(o.abs().mean() for stage in stages for o in stage)


@pytest.mark.parametrize(
    "device,layer_path,tuned",
    [("cpu", "auto", True), ("cuda", "auto", False), ("mps", "auto", False), ("meta", "auto", False),
     ("cpu", "plain", False), ("cuda", "plain", False), ("cpu", "tuned", True)],
)
def test_tuned_only_on_the_cpu_unless_overridden(device, layer_path, tuned):
    assert uses_tuned(torch.device(device), layer_path) is tuned


@pytest.mark.parametrize("device", ["cuda", "mps", "meta"])
def test_tuned_refuses_devices_other_than_the_cpu(device):
    with pytest.raises(ValueError, match=f"does not run on {device}.*'auto'"):
        uses_tuned(torch.device(device), "tuned")


def test_plain_path_runs_no_custom_autograd_function():
    sep = TISDiSSSeparator(9, **TINY, layer_path="plain")
    assert custom_functions(training_output(sep, random_stft())) == set()


@pytest.mark.parametrize("layer_path", ["tuned", "auto"])
def test_tuned_path_is_the_cpu_default_and_differs(layer_path):
    sep = TISDiSSSeparator(9, **TINY, layer_path=layer_path)
    assert custom_functions(training_output(sep, random_stft())) == {
        "_Conv2dBackward", "_SwiGLUFunctionBackward", "_RMSGroupNormFunctionBackward"
    }


def test_the_path_follows_the_input_device_at_call_time():
    """auto decides by the input's device: a block moved off the CPU runs plain."""
    block = TFLocoformerBlock(speaker_path=True, dim=8, attention_dim=8, n_heads=2, ffn_hidden_dim=12,
                              ffn_kernel_size=3, ffn_stride=1, num_groups=2, dropout=0.0, eps=1e-5)
    x = torch.randn(2, 2, 8, 5, 6, requires_grad=True)
    assert custom_functions(block(x)) != set()
    block.to("meta")  # a device other than the CPU
    assert custom_functions(block(x.detach().to("meta").requires_grad_())) == set()


def test_setting_the_path_reaches_every_two_path_layer():
    sep = TISDiSSSeparator(9, **TINY)
    layers = [m for m in sep.modules() if isinstance(m, TwoPaths)]
    assert len(layers) > 10 and all(m.layer_path == "auto" for m in layers)
    sep.layer_path = "plain"
    assert sep.layer_path == "plain" and all(m.layer_path == "plain" for m in layers)


def test_a_state_dict_trained_on_one_path_runs_on_the_other():
    torch.manual_seed(0)
    plain = TISDiSSSeparator(9, **TINY, layer_path="plain")
    optim = torch.optim.SGD(plain.parameters(), lr=0.1)
    training_output(plain, random_stft()).backward()
    optim.step()
    tuned = TISDiSSSeparator(9, **TINY, layer_path="tuned")
    assert tuned.state_dict().keys() == plain.state_dict().keys()
    tuned.load_state_dict(plain.state_dict(), strict=True)
    spec, ilens = random_stft(), torch.tensor([10, 7])
    with torch.no_grad():
        ours, theirs = tuned.eval()(spec, ilens)[0], plain.eval()(spec, ilens)[0]
    for a, b in zip(ours, theirs, strict=True):
        assert ((a - b).abs().max() / b.abs().max()).item() < 1e-5


@pytest.mark.parametrize("bad", ["fast", "", None, "PLAIN"])
def test_bad_layer_path_names_the_choices(bad):
    with pytest.raises(ValueError, match="auto.*plain.*tuned"):
        check_layer_path(bad)
    with pytest.raises(ValueError, match="layer_path"):
        TISDiSSSeparator(9, **TINY, layer_path=bad)
