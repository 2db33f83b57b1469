"""The benchmarks run and print their rows on a tiny config (no timing is asserted)."""

import math
import os
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from espnet2_tisdiss.bench import train_step
from espnet2_tisdiss.bench.jobs import REPO_ROOT, authors_conf, worker_pythonpath
from espnet2_tisdiss.bench.worker import op_kind_breakdown


def run_module(*args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", *args], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def test_inference_benchmark_prints_every_depth_and_path():
    out = run_module("espnet2_tisdiss.bench.inference", "--config", "conf/tisdiss_tiny.yaml",
                     "--seconds", "0.25", "--depths", "1,2", "--threads", "1", "--profile")
    assert "CPU:" in out and "matmul peak: float32" in out
    assert "| path" in out and "RTF@1" in out and "RTF@2" in out
    assert "ours fp32 eager" in out and "baseline: ours fp32 eager" in out
    assert "| reconstruction" in out and "self-time fractions: matmul/conv" in out
    onnx_row = next(line for line in out.splitlines() if line.startswith("| onnx fp32"))
    assert float(onnx_row.split("|")[-2]) > 60  # out SNR dB against ours fp32 eager: the same model


def test_train_memory_benchmark_prints_one_row_per_path_and_depth():
    out = run_module("espnet2_tisdiss.bench.train_memory", "--emb-dim", "8", "--n-heads", "2",
                     "--ffn-hidden-dim", "12", "--num-groups", "2", "--n_re", "1,2",
                     "--batch", "1", "--seconds", "0.25", "--warmup", "0", "--steps", "1",
                     "--threads", "1", "--profile")
    timing, profile = out.split("One profiled training step")
    rows = [line for line in timing.splitlines() if line.startswith("| 1 ") or line.startswith("| 2 ")]
    assert len(rows) == 4 and sum("ours ckpt" in r for r in rows) == 2
    assert "ratios against: ours" in out
    kinds = [line.split("|")[3].strip() for line in profile.splitlines() if line.startswith("| 1 ")]
    assert kinds == ["matmul/conv", "attention", "elementwise/other", "python/autograd"] * 2


def test_op_kind_breakdown_counts_matmul_and_cpu_attention_flops():
    a, b = torch.randn(64, 32), torch.randn(32, 16)
    q = torch.randn(3, 2, 40, 8, requires_grad=True)

    def step():
        a @ b  # 2*64*32*16 FLOP
        F.scaled_dot_product_attention(q, q, q).sum().backward()  # flash kernel (L = 40)

    kinds = op_kind_breakdown(step)
    assert set(kinds) == {"matmul/conv", "attention", "elementwise/other", "python/autograd"}
    assert kinds["matmul/conv"]["gflop"] * 1e9 == pytest.approx(2 * 64 * 32 * 16)
    forward = 2 * (2 * 3 * 2 * 40 * 40 * 8)  # scores and weighted values: 2 matmuls
    # backward: the scores recomputed, then 4 gradient matmuls (PyTorch's count for SDPA)
    assert kinds["attention"]["gflop"] * 1e9 == pytest.approx(forward * 7 / 2)
    assert kinds["elementwise/other"]["gflop"] == 0
    assert all(k["seconds"] >= 0 for k in kinds.values()) and kinds["attention"]["seconds"] > 0


def test_authors_options_follow_the_table():
    conf = authors_conf(dict(num_spk=2, n_sep=2, n_re=6, emb_dim=128, n_heads=4,
                             ffn_hidden_dim=384, ffn_kernel_size=4))
    assert conf["encoder_repeat_times"] == 2 and conf["reconstructor_repeat_times"] == 6
    assert conf["ffn_hidden_dim"] == [384, 384] and conf["attention_dim"] == 128
    assert conf["conv1d_kernel"] == 4 and conf["spliter_loss"] is False
    runtime = authors_conf(dict(num_spk=2, emb_dim=8, ffn_hidden_dim=12, layer_path="plain",
                                activation_checkpointing=True, inference_reps=3))
    assert not {"layer_path", "activation_checkpointing", "inference_reps"} & set(runtime)


def table_rows(text: str, first_cell: str) -> list:
    """The cells of the table rows whose first cell starts with ``first_cell``."""
    lines = [line for line in text.splitlines() if line.startswith("| ")]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return [row for row in rows if row[0].startswith(first_cell)]


def test_train_step_benchmark_prints_every_path_dtype_and_checkpointing_with_finite_numbers():
    out = run_module("espnet2_tisdiss.bench.train_step", "--device", "cpu",
                     "--config", "conf/tisdiss_tiny.yaml", "--batch", "1", "--seconds", "0.25",
                     "--infer_seconds", "0.25", "--depths", "1,2", "--dtypes", "float32",
                     "--warmup", "0", "--steps", "1", "--threads", "1")
    training, inference = out.split("\ninference:")
    rows = table_rows(training, "ours")
    assert [row[:3] for row in rows] == [["ours plain", "float32", "off"], ["ours plain", "float32", "on"],
                                         ["ours tuned", "float32", "off"], ["ours tuned", "float32", "on"]]
    for row in rows:  # step s, speed-up, peak MiB, step MiB, MiB per s audio
        assert all(math.isfinite(float(cell)) for cell in row[3:]) and float(row[3]) > 0
    rows = table_rows(inference, "ours")
    assert [row[:2] for row in rows] == [["ours plain", "float32"], ["ours tuned", "float32"]]
    for row in rows:  # RTF@1, RTF@2, peak MiB
        assert len(row) == 5 and all(math.isfinite(float(cell)) and float(cell) > 0 for cell in row[2:])


def test_train_step_reports_a_failing_row_and_refuses_a_missing_device(tmp_path):
    args = train_step.parse_args(["--device", "cpu"])
    job = dict(task="train", input_dim=9, threads=1, device="cpu", input=str(tmp_path / "none.pt"),
               steps=1, warmup=0)
    variant = dict(impl="plain", dtype="float32", ckpt="off")
    result = train_step.measure(variant, dict(emb_dim=8, n_heads=3), job, args, tmp_path)
    assert "n_heads" in result["error"]  # the worker's last line, not a crash of the table
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            train_step.parse_args(["--device", "cuda"])


def test_workers_keep_packages_installed_on_the_callers_pythonpath(monkeypatch, tmp_path):
    # e.g. dependencies installed with pip --target and put on PYTHONPATH: the worker must see them
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    assert worker_pythonpath(REPO_ROOT).split(os.pathsep) == [str(REPO_ROOT), str(tmp_path)]
    monkeypatch.delenv("PYTHONPATH")
    assert worker_pythonpath(REPO_ROOT) == str(REPO_ROOT)


def test_train_step_measures_the_tuned_path_on_the_cpu_only(monkeypatch):
    assert train_step.parse_args(["--device", "cpu"]).paths == ["plain", "tuned"]
    monkeypatch.setattr(train_step, "check_device", lambda device: torch.device("cuda"))  # no GPU here
    assert train_step.parse_args(["--device", "cuda"]).paths == ["plain"]
    with pytest.raises(SystemExit):
        train_step.parse_args(["--device", "cuda", "--paths", "plain,tuned"])
