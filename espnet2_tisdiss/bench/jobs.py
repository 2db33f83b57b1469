"""Shared pieces of the side-by-side benchmarks: worker subprocesses, configs, the machine line."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import torch
import yaml

from espnet2_tisdiss.compat.options import OPTION_NAMES, REQUIRED_VALUES, SUPERVISION_FLAGS
from espnet2_tisdiss.precision import cpu_flags, cpu_has_native_bf16, cpu_model

WORKER = Path(__file__).with_name("worker.py")
REPO_ROOT = Path(__file__).resolve().parents[2]
# Our separator options that choose how it runs, not the model: the authors' code has none of them.
RUNTIME_OPTIONS = ("inference_reps", "activation_checkpointing", "layer_path")
SHOWN_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def separator_conf(config: Path) -> Dict[str, Any]:
    """The ``separator_conf`` of one of our training configs (e.g. conf/tisdiss_sep1x2_re1x6.yaml)."""
    with open(config) as f:
        return dict(yaml.safe_load(f)["separator_conf"])


def authors_conf(ours: Dict[str, Any]) -> Dict[str, Any]:
    """The authors' separator options for the same model (the table in compat/options.py).

    Their supervision flags are all off (only the final output is decoded in
    eval mode; in training they then return every stage, see bench/worker.py).
    """
    conf = {OPTION_NAMES[k]: v for k, v in ours.items() if k not in RUNTIME_OPTIONS}
    conf.setdefault("attention_dim", ours["emb_dim"])
    conf["ffn_hidden_dim"] = [ours["ffn_hidden_dim"]] * 2
    conf.update(REQUIRED_VALUES)
    conf.update(dict.fromkeys(SUPERVISION_FLAGS, False))
    conf["flash_attention"] = False
    return conf


def authors_training_conf(ours: Dict[str, Any]) -> Dict[str, Any]:
    """:func:`authors_conf` with the paper's supervision: the splitter and every repetition decoded."""
    return dict(authors_conf(ours), spliter_loss=True, reconstructor_multi_decoder=True)


def run_worker(job: Dict[str, Any], python: Optional[str] = None, authors_src: Optional[Path] = None) -> Dict:
    """Run bench/worker.py on ``job`` in a fresh process; its RESULT dict.

    With ``authors_src``, that directory comes first on PYTHONPATH (their
    ``espnet2`` package); otherwise this repository does. Entries already on
    PYTHONPATH (packages installed there) stay behind it.
    """
    env = dict(os.environ, PYTHONPATH=worker_pythonpath(authors_src or REPO_ROOT))
    proc = subprocess.run(
        [python or sys.executable, str(WORKER), json.dumps(job)],
        env=env, capture_output=True, text=True, cwd=str(authors_src or REPO_ROOT),
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    raise RuntimeError(f"benchmark worker failed ({job['impl']}):\n{proc.stderr[-3000:]}")


def worker_pythonpath(first: Path) -> str:
    """PYTHONPATH for a worker: ``first``, then what this process was given."""
    given = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join([str(first)] + ([given] if given else []))


def machine_line(threads: int) -> str:
    """CPU model, the flags that decide the fast paths, thread count, torch version."""
    model = cpu_model()
    flags = cpu_flags()
    shown = " ".join(f for f in SHOWN_FLAGS if f in flags) or "none of interest"
    native = "yes" if cpu_has_native_bf16(flags) else "no"
    gpu = torch.cuda.get_device_name() if torch.cuda.is_available() else "none"
    return (f"CPU: {model}; flags: {shown}; native bfloat16: {native}; threads: {threads}; "
            f"GPU: {gpu}; torch {torch.__version__}")


def best_seconds(call: Callable[[], Any], repeats: int) -> float:
    """The fastest of ``repeats`` timed calls of ``call``, after one untimed warm-up call."""
    call()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_peak(threads: int, size: int = 2048, repeats: int = 5) -> float:
    """GFLOP/s of the best of ``repeats`` float32 [size, size] matmuls at ``threads`` threads."""
    torch.set_num_threads(threads)
    a, b = torch.randn(size, size), torch.randn(size, size)
    return 2 * size**3 / best_seconds(lambda: a @ b, repeats) / 1e9
