"""optimize_for_inference: float32 unchanged, int8 close, int8 kernels kept."""

import copy

import pytest
import torch

from espnet2_tisdiss.separator import TISDiSSSeparator, optimize_for_inference
from tests.conftest import TINY, random_stft


def test_float32_keeps_outputs_and_int8_stays_close():
    torch.manual_seed(0)
    sep = TISDiSSSeparator(9, **TINY).eval()
    spec, ilens = random_stft(), torch.tensor([10, 7])
    with torch.inference_mode():
        reference = torch.stack(sep(spec, ilens)[0])
        same = optimize_for_inference(copy.deepcopy(sep), "float32")
        assert torch.equal(torch.stack(same(spec, ilens)[0]), reference)
        if "x86" in torch.backends.quantized.supported_engines:
            quantized = optimize_for_inference(copy.deepcopy(sep), "int8")
            assert quantized.state_dict().keys() == sep.state_dict().keys()
            depths = quantized.forward_all_depths(spec, ilens, max_reps=3)
            error = (torch.stack(depths[-1]) - reference).norm() / reference.norm()
            assert len(depths) == 3 and error.item() < 0.2


@pytest.mark.skipif("x86" not in torch.backends.quantized.supported_engines, reason="no x86 int8 engine")
def test_int8_layers_keep_their_int8_kernels_on_the_plain_path():
    sep = optimize_for_inference(TISDiSSSeparator(9, **TINY), "int8")
    spec, ilens = random_stft(), torch.tensor([10, 7])
    with torch.inference_mode():
        int8 = torch.stack(sep(spec, ilens)[0])
        sep.layer_path = "plain"  # the norms and the splitter switch; the int8 layers cannot
        assert torch.allclose(torch.stack(sep(spec, ilens)[0]), int8, rtol=1e-4, atol=1e-6)


def test_bad_dtype_names_the_choices():
    with pytest.raises(ValueError, match="autocast"):
        optimize_for_inference(TISDiSSSeparator(9, **TINY), "bfloat16")
