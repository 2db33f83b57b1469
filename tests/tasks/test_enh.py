import argparse
import math
from pathlib import Path

import pytest
import torch
import yaml
from espnet2.enh.espnet_model import ESPnetEnhancementModel
from espnet2.tasks.enh import loss_wrapper_choices, separator_choices

from espnet2_tisdiss.loss import EarlySplitPITSolver
from espnet2_tisdiss.model import EarlySplitEnhancementModel
from espnet2_tisdiss.separator import TISDiSSSeparator
from espnet2_tisdiss.tasks import TISDiSSEnhancementTask
from espnet2_tisdiss.tasks.enh import check_reference_count, yaml_float_spelling

TINY_CONFIG = Path(__file__).resolve().parents[2] / "conf/tisdiss_tiny.yaml"


def build(**model_conf):
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config["model_conf"] = {**config.get("model_conf", {}), **model_conf}
    config.setdefault("init", None)
    return TISDiSSEnhancementTask.build_model(argparse.Namespace(**config))


def batch(size=2, samples=1600):
    mix_len = torch.tensor([samples, samples - 300])
    refs = {f"speech_ref{j + 1}": torch.randn(size, samples) for j in range(2)}
    return refs["speech_ref1"] + refs["speech_ref2"], mix_len, refs


def test_choices_are_registered_in_espnets_task():
    assert separator_choices.get_class("tisdiss") is TISDiSSSeparator
    assert loss_wrapper_choices.get_class("early_split_pit") is EarlySplitPITSolver


def test_built_model_is_the_stock_model_with_staged_normalisation():
    model = build()
    assert isinstance(model, EarlySplitEnhancementModel)
    assert isinstance(model, ESPnetEnhancementModel)
    assert isinstance(model.separator, TISDiSSSeparator)
    assert all(k.startswith("separator.") for k in model.state_dict())


def test_training_with_normalize_variance_gives_per_stage_losses():
    model = build(normalize_variance=True).train()
    mix, lengths, refs = batch()
    loss, stats, weight = model(mix, lengths, **refs)
    loss.backward()
    assert torch.isfinite(loss)
    n_re = model.separator.n_re
    assert {"si_snr_loss_split", "si_snr_loss", *(f"si_snr_loss_rep{k}" for k in range(1, n_re + 1))} <= set(stats)
    assert model.normalize_variance is True  # restored after forward
    # the stock model, given the same modules, fails on the staged outputs
    stock = ESPnetEnhancementModel(model.encoder, model.separator, model.decoder, None,
                                   model.loss_wrappers, normalize_variance=True)
    with pytest.raises(TypeError):
        stock(mix, lengths, **refs)


def test_staged_outputs_are_rescaled_by_the_mixture_std():
    model = build(normalize_variance=True).train()
    mix, lengths, _ = batch()
    model._normalize_in_enhance = True
    scaled, _, _, _ = model.forward_enhance(mix * 10.0, lengths)
    plain, _, _, _ = model.forward_enhance(mix, lengths)
    model._normalize_in_enhance = False
    for stage_scaled, stage_plain in zip(scaled, plain):
        for a, b in zip(stage_scaled, stage_plain):
            assert torch.allclose(a, 10.0 * b, rtol=1e-3, atol=1e-4)


def test_eval_mode_matches_the_stock_model():
    model = build(normalize_variance=True).eval()
    stock = ESPnetEnhancementModel(model.encoder, model.separator, model.decoder, None,
                                   model.loss_wrappers, normalize_variance=True).eval()
    mix, lengths, refs = batch()
    with torch.no_grad():
        ours, _, _ = model(mix, lengths, **refs)
        theirs, _, _ = stock(mix, lengths, **refs)
    assert torch.allclose(ours, theirs)


@pytest.mark.parametrize("option", ["--optim_conf", "--scheduler_conf"])
def test_a_number_yaml_reads_as_text_is_refused_with_the_spelling_that_works(option):
    args = TISDiSSEnhancementTask.get_parser().parse_args(
        ["--config", str(TINY_CONFIG), option, "lr=2e-4" if option == "--optim_conf" else "gamma=9e-1"])
    assert yaml.safe_load("2e-4") == "2e-4" and yaml.safe_load("1.0e4") == "1.0e4"  # YAML 1.1 text
    model = build()
    with pytest.raises(ValueError, match=r"write (lr=0\.0002|gamma=0\.9) "):
        TISDiSSEnhancementTask.build_optimizers(args, model)
    args.optim_conf["lr"], args.scheduler_conf["gamma"] = 2.0e-4, 0.9  # as "2.0e-4" reads
    assert TISDiSSEnhancementTask.build_optimizers(args, model)[0].defaults["lr"] == 2.0e-4


@pytest.mark.parametrize("number", [2e-4, 1e-5, 0.9, 1e4, 2.147483648e-4, 1e20, float("inf"), float("-inf")])
def test_the_suggested_spelling_reads_back_as_the_same_float(number):
    assert yaml.safe_load(yaml_float_spelling(number)) == number


def test_the_suggested_spelling_of_nan_reads_back_as_nan():
    assert math.isnan(yaml.safe_load(yaml_float_spelling(float("nan"))))


def test_text_that_is_no_e_notation_gets_a_message_that_fits_it():
    args = TISDiSSEnhancementTask.get_parser().parse_args(
        ["--config", str(TINY_CONFIG), "--optim_conf", "lr=inf"])
    assert args.optim_conf["lr"] == "inf"  # text for YAML 1.1, a number for float()
    with pytest.raises(ValueError, match=r"YAML read it as text; write lr=\.inf ") as refused:
        TISDiSSEnhancementTask.build_optimizers(args, build())
    assert "e-notation" not in str(refused.value)


@pytest.mark.parametrize("separator_conf", [{"num_spk": 3}, {"n_srcs": 3}])
def test_a_separator_with_more_outputs_than_the_data_has_references_is_refused(separator_conf):
    """TISDiSS names its output count ``num_spk``, TF-GridNet ``n_srcs``: both are checked."""
    data = [("dump/train/wav.scp", "speech_mix", "sound")] + [
        (f"dump/train/spk{j}.scp", f"speech_ref{j}", "sound") for j in (1, 2)]
    args = argparse.Namespace(train_data_path_and_name_and_type=data, separator_conf=separator_conf)
    option = next(iter(separator_conf))
    with pytest.raises(ValueError, match=rf"gives 2 reference\(s\) per mixture .* has {option} 3: "):
        check_reference_count(args)
    check_reference_count(argparse.Namespace(train_data_path_and_name_and_type=data, separator_conf={"n_srcs": 2}))
