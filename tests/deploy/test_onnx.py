"""ONNX export and the torch-free runtime: the numpy STFT, parity with PyTorch at depths 1, 3, 8
and auto, silence, and a separation in a process that never imports torch."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from espnet2.enh.decoder.stft_decoder import STFTDecoder
from espnet2.enh.encoder.stft_encoder import STFTEncoder

from espnet2_tisdiss import pretrained
from espnet2_tisdiss.adaptive_depth import AutoDepth
from espnet2_tisdiss.bin import export_onnx as export_cli
from espnet2_tisdiss.deploy.export_onnx import export_onnx
from espnet2_tisdiss.deploy.onnx_runtime import OnnxSeparator
from espnet2_tisdiss.deploy.stft import NumpySTFT
from espnet2_tisdiss.inference.core import separate_depths
from espnet2_tisdiss.inference.model_loading import LoadedModel, load_pretrained
from tests.inference.tiny_model import FS, tiny_config, write_model

pytest.importorskip("onnxruntime")
DEPTHS = [1, 3, 8, "auto"]


def relative_error(ours, reference) -> float:
    """max |ours - reference| over the J outputs, relative to the reference's peak."""
    peak = max(np.abs(r).max() for r in reference)
    return max(np.abs(o - r).max() for o, r in zip(ours, reference)) / peak


@pytest.mark.parametrize("n_fft,hop,samples", [(256, 128, 8003), (128, 64, 4000), (512, 128, 1234)])
def test_numpy_stft_equals_espnets(n_fft, hop, samples):
    wave = np.random.default_rng(0).standard_normal(samples).astype(np.float32)
    spec, _ = STFTEncoder(n_fft=n_fft, hop_length=hop)(torch.from_numpy(wave)[None], torch.tensor([samples]))
    stft = NumpySTFT(n_fft, hop)
    ours = stft.forward(wave)
    np.testing.assert_allclose(ours, spec[0].numpy(), atol=2e-5 * np.abs(ours).max())
    back = STFTDecoder(n_fft=n_fft, hop_length=hop)(spec, torch.tensor([samples]))[0][0].numpy()
    np.testing.assert_allclose(stft.inverse(spec[0].numpy().astype(np.complex128), samples), back, atol=1e-5)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    folder = tmp_path_factory.mktemp("onnx") / "mini_2mix"
    export_cli.main(["--model", "mini_2mix", "--output_dir", str(folder)])
    return folder


def check_parity(loaded: LoadedModel, folder: Path, mixture: np.ndarray, tolerance: float = 1e-4):
    runtime = OnnxSeparator(folder)
    auto = AutoDepth(8, runtime.auto_threshold)
    reference = separate_depths(loaded.model, mixture, DEPTHS, auto=auto)
    ours, used = runtime.separate_depths(mixture, DEPTHS, auto)
    assert used == reference.auto_depth
    errors = {depth: relative_error(ours[depth], reference.waves[depth]) for depth in DEPTHS}
    assert all(error < tolerance for error in errors.values()), errors
    return errors


def test_shipped_model_matches_pytorch_at_depths_1_3_8_and_auto(shipped):
    description = json.loads((shipped / "model.json").read_text())
    assert (description["fs"], description["num_spk"], description["n_re"]) == (8000, 2, 3)
    loaded = load_pretrained("mini_2mix")
    assert description["auto_threshold"] == pytest.approx(loaded.auto_threshold)
    for mix in [p for p in pretrained.examples() if p.stem.endswith("_mix")]:
        check_parity(loaded, shipped, sf.read(mix, dtype="float32")[0])


def test_silence_gives_silence(shipped):
    outputs, used = OnnxSeparator(shipped).separate_depths(np.zeros(4000, np.float32), [2, "auto"])
    assert used == 1 and all(not w.any() and w.shape == (4000,) for d in (2, "auto") for w in outputs[d])


def test_separates_in_a_process_without_torch(shipped, tmp_path):
    mix = next(p for p in pretrained.examples() if p.stem.endswith("_mix"))
    code = ("import sys\n"
            "from espnet2_tisdiss.deploy import onnx_runtime\n"
            f"status = onnx_runtime.main([{str(mix)!r}, '--model_dir', {str(shipped)!r}, "
            f"'--output_dir', {str(tmp_path)!r}, '--inference_reps', 'auto'])\n"
            "assert 'torch' not in sys.modules, 'torch was imported'\n"
            "sys.exit(status)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"{mix}: depth " in done.stdout
    outputs = sorted(p.name for p in tmp_path.iterdir())
    assert outputs == [f"{mix.stem}_spk1.wav", f"{mix.stem}_spk2.wav"]
    loaded = load_pretrained("mini_2mix")
    mixture = sf.read(mix, dtype="float32")[0]
    reference = separate_depths(loaded.model, mixture, ["auto"], auto=AutoDepth(8, loaded.auto_threshold))
    written = [sf.read(tmp_path / name, dtype="float32")[0] for name in outputs]
    assert relative_error(written, reference.waves["auto"]) < 1e-4


def test_refusals(tmp_path, capsys):
    with pytest.raises(ValueError, match="holds no model.json"):
        OnnxSeparator(tmp_path)
    with pytest.raises(SystemExit, match="give either --model, or both --train_config and --model_file"):
        export_cli.main(["--output_dir", str(tmp_path / "x")])


def test_inference_sep_reps_is_baked_in(tmp_path):
    files = write_model(tmp_path / "tiny", tiny_config())
    loaded = load_pretrained(files["archive"])
    export_onnx(loaded, tmp_path / "twice", inference_sep_reps=2)
    assert json.loads((tmp_path / "twice/model.json").read_text())["inference_sep_reps"] == 2
    loaded.model.separator.inference_sep_reps = 2
    mixture = np.random.default_rng(1).standard_normal(3 * FS // 4).astype(np.float32) * 0.1
    check_parity(loaded, tmp_path / "twice", mixture)


@pytest.mark.slow
def test_paper_config_matches_pytorch(tmp_path):
    """The paper's 8.0M model (conf/tisdiss_sep1x2_re1x3.yaml), seeded weights, 0.6 s of audio."""
    import argparse

    import yaml

    from espnet2_tisdiss.tasks import TISDiSSEnhancementTask

    config = yaml.safe_load((Path(__file__).resolve().parents[2] / "conf/tisdiss_sep1x2_re1x3.yaml").read_text())
    torch.manual_seed(0)
    model = TISDiSSEnhancementTask.build_model(argparse.Namespace(**config)).eval()
    loaded = LoadedModel(model, 8000, "tisdiss_sep1x2_re1x3", 0.01)
    export_onnx(loaded, tmp_path / "paper")
    mixture = np.random.default_rng(2).standard_normal(4800).astype(np.float32) * 0.1
    check_parity(loaded, tmp_path / "paper", mixture)
