"""Inference speed of TISDiSS per depth: RTF, peak memory and GFLOP/s against the matmul peak.

Run ``python -m espnet2_tisdiss.bench.inference [--authors_src DIR --authors_python PY]``.

Every path runs the same weights on the same input (``--seconds`` of 8 kHz
audio as ESPnet's STFT gives it: n_fft 128, hop 64, centred), each in its own
subprocess (bench/worker.py) so that its peak resident memory is its own. One
forward at the largest depth is timed per path, after a depth-1 warm-up; the
seconds to the depth-k output are the time until the k-th reconstruction
repetition ends plus one decode (nothing is recomputed between depths, as in
``forward_all_depths``). RTF = those seconds / audio seconds.

Paths (the baseline, ratio 1.00, is the first):

* ``authors fp32 eager``: the authors' code (``--authors_src``: a checkout
  whose ``espnet2`` holds ``enh/separator/tisdiss_separator.py``; run with
  ``--authors_python``, an interpreter with their dependencies), float32;
* ``ours fp32 eager``: this package's separator as built, float32, eager
  (the baseline when ``--authors_src`` is not given);
* ``ours fp32 compiled`` (with ``--compile``): ``optimize_for_inference(compile=True)``;
* ``ours int8``: ``optimize_for_inference(dtype="int8")``, on x86 CPUs without
  native bfloat16;
* ``ours bf16 autocast``: on CPUs with native bfloat16 (AVX512-BF16/AMX);
* ``onnx fp32``: the three ONNX graphs of ``espnet2_tisdiss.deploy.export_onnx`` (the same
  weights, exported from the plain layer path) run by onnxruntime on the CPU, when it is
  installed (``pip install .[onnx]``); its worker imports torch too (to read the input), so
  compare its memory by the increment over the loaded model (the "+" figure);
* ``cuda fp32`` and ``cuda bf16 autocast`` when a GPU is present.

GFLOP/s counts the model's FLOPs (torch.utils.flop_counter on the meta
device, where the layers run their plain path: convolutions, matmuls and
attention as the reference defines them), the same count for every path.
``--profile`` adds, for our CPU paths, seconds and GFLOP/s per component and
the self-time fractions of matmul/conv, attention and other ops (depth 1).
"""

import argparse
import importlib.util
import re
import tempfile
from pathlib import Path
from typing import Dict, List

import torch
from torch.utils.flop_counter import FlopCounterMode

from espnet2_tisdiss.bench.jobs import (
    REPO_ROOT, authors_conf, best_seconds, machine_line, matmul_peak, run_worker, separator_conf,
)
from espnet2_tisdiss.compat.state_dict import convert_authors_state_dict
from espnet2_tisdiss.layers.int8_gemm import int8_linear, pack_int8
from espnet2_tisdiss.precision import native_dtypes
from espnet2_tisdiss.separator import TISDiSSSeparator

FS, N_FFT, HOP = 8000, 128, 64


def count_flops(conf: Dict, frames: int, depth: int) -> FlopCounterMode:
    """The FLOP counter of one eval forward at ``depth`` (counted on the meta device)."""
    with torch.device("meta"):
        sep = TISDiSSSeparator(N_FFT // 2 + 1, **conf).eval()
        spec = torch.randn(1, frames, N_FFT // 2 + 1, dtype=torch.complex64)
    sep.inference_reps = depth
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        sep(spec, torch.tensor([frames]))
    return counter


def model_flops(conf: Dict, frames: int, depths: List[int]) -> Dict[int, float]:
    """FLOPs of one eval forward per depth."""
    return {depth: count_flops(conf, frames, depth).get_total_flops() for depth in depths}


def component_flops(conf: Dict, frames: int) -> Dict[str, float]:
    """FLOPs per component of a depth-1 forward (as bench/worker.py names them)."""
    per_module = count_flops(conf, frames, 1).get_flop_counts()
    names = {"encoder": "encoder", "separation": ("separation_block", "mixture_residual"),
             "splitter": "splitter", "reconstruction": "reconstruction_block", "decoder": "decoder"}
    out = {}
    for component, children in names.items():
        children = (children,) if isinstance(children, str) else children
        # a module, or the layers of a ModuleList ("<name>.<index>"), not their insides
        pattern = re.compile(rf"TISDiSSSeparator\.({'|'.join(children)})(\.\d+)?$")
        out[component] = sum(
            sum(counts.values()) for name, counts in per_module.items() if pattern.match(name)
        )
    return out


def int8_peak(threads: int, rows: int = 8192, size: int = 1024) -> float:
    """GFLOP/s-equivalent of a large int8 matmul (dynamic activations) at ``threads`` threads."""
    torch.set_num_threads(threads)
    x, packed = torch.randn(rows, size), pack_int8(torch.randn(size, size))
    return 2 * rows * size * size / best_seconds(lambda: int8_linear(x, packed), 3) / 1e9


def paths(args) -> List[Dict]:
    """The measured paths, the baseline first."""
    out = []
    if args.authors_src:
        out.append(dict(label="authors fp32 eager", impl="authors", dtype="float32", device="cpu"))
    out.append(dict(label="ours fp32 eager", impl="ours", dtype="float32", device="cpu"))
    if args.compile:
        out.append(dict(label="ours fp32 compiled", impl="ours", dtype="float32", device="cpu", compile=True))
    native = native_dtypes(torch.device("cpu"))
    if "int8" in native:
        out.append(dict(label="ours int8", impl="ours", dtype="int8", device="cpu"))
    if "bfloat16" in native:
        out.append(dict(label="ours bf16 autocast", impl="ours", dtype="bfloat16", device="cpu"))
    if importlib.util.find_spec("onnxruntime") and importlib.util.find_spec("onnxscript"):
        out.append(dict(label="onnx fp32", impl="onnx", dtype="float32", device="cpu"))
    if torch.cuda.is_available():
        out.append(dict(label="cuda fp32", impl="ours", dtype="float32", device="cuda"))
        if "bfloat16" in native_dtypes(torch.device("cuda")):
            out.append(dict(label="cuda bf16 autocast", impl="ours", dtype="bfloat16", device="cuda"))
    return out


def snr_db(reference: torch.Tensor, other: torch.Tensor) -> float:
    error = (reference - other).abs().pow(2).sum()
    return float(10 * torch.log10(reference.abs().pow(2).sum() / error.clamp_min(1e-30)))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "conf/tisdiss_sep1x2_re1x6.yaml",
                        help="training config whose separator_conf is measured")
    parser.add_argument("--seconds", type=float, default=4.0, help="input length in seconds")
    parser.add_argument("--depths", type=lambda s: sorted(int(d) for d in s.split(",")),
                        default=[1, 3, 6, 8], help="comma-separated inference depths")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--authors_src", type=Path, help="a checkout of the authors' code")
    parser.add_argument("--authors_python", default=None,
                        help="interpreter for the authors' code (default: this one)")
    parser.add_argument("--compile", action="store_true", help="also measure torch.compile")
    parser.add_argument("--profile", action="store_true",
                        help="per-component and per-op-kind breakdown of our CPU paths")
    args = parser.parse_args(argv)

    conf = separator_conf(args.config)
    frames = int(args.seconds * FS) // HOP + 1
    flops = model_flops(conf, frames, args.depths)
    peak = matmul_peak(args.threads)
    print(machine_line(args.threads))
    print(f"model: {args.config.name} ({sum(p.numel() for p in TISDiSSSeparator(65, **conf).parameters()) / 1e6:.2f} M "
          f"parameters); input {args.seconds:g} s = [1, {frames}, {N_FFT // 2 + 1}] STFT frames x bins")
    print(f"matmul peak: float32 {peak:.1f} GFLOP/s (2048^3, {args.threads} threads)", end="")
    measured = paths(args)
    if any(p["dtype"] == "int8" for p in measured):
        print(f"; int8 {int8_peak(args.threads):.1f} GFLOP/s-equivalent (8192x1024x1024, dynamic)", end="")
    print()
    print("model GFLOP per forward: " + ", ".join(f"depth {d}: {flops[d] / 1e9:.1f}" for d in args.depths))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        torch.manual_seed(1)
        torch.save(torch.randn(1, frames, N_FFT // 2 + 1, dtype=torch.complex64), tmp / "input.pt")
        ours_weights = tmp / "ours.pt"
        results = {}
        for path in measured:
            job = dict(impl=path["impl"], task="infer", input_dim=N_FFT // 2 + 1, threads=args.threads,
                       device=path["device"], input=str(tmp / "input.pt"), depths=args.depths,
                       dtype=path["dtype"], compile=path.get("compile", False),
                       output=str(tmp / f"out{len(results)}.pt"),
                       profile=args.profile and path["impl"] == "ours" and path["device"] == "cpu")
            if path["impl"] == "onnx":
                from espnet2_tisdiss.deploy.export_onnx import export_graphs

                separator = TISDiSSSeparator(N_FFT // 2 + 1, **conf)
                separator.load_state_dict(torch.load(ours_weights, weights_only=True))
                (tmp / "onnx").mkdir()
                export_graphs(separator, N_FFT // 2 + 1, tmp / "onnx")
                job["onnx_dir"] = str(tmp / "onnx")
                results[path["label"]] = run_worker(job)
            elif path["impl"] == "authors":
                job.update(conf=authors_conf(conf), state_dict=str(tmp / "authors.pt"))
                results[path["label"]] = run_worker(job, args.authors_python, args.authors_src)
                torch.save(convert_authors_state_dict(torch.load(tmp / "authors.pt")), ours_weights)
            else:
                job.update(conf=conf, state_dict=str(ours_weights))
                results[path["label"]] = run_worker(job)
            results[path["label"]]["output"] = torch.load(job["output"])
        report(measured, results, flops, peak, args, component_flops(conf, frames))


def report(measured, results, flops, peak, args, parts) -> None:
    base = measured[0]["label"]
    top = 6 if 6 in args.depths else max(args.depths)
    reference = results["ours fp32 eager"]["output"]
    header = (["path"] + [f"RTF@{d}" for d in args.depths]
              + [f"GFLOP/s@{top}", "% peak", "peak RSS MiB (+over model)", f"x vs base@{top}", "out SNR dB"])
    rows = []
    for path in measured:
        r = results[path["label"]]
        seconds = {int(d): s for d, s in r["seconds"].items()}
        gflops = flops[top] / seconds[top] / 1e9
        memory = f"{r['peak_rss_mib']:.0f} (+{r['peak_rss_mib'] - r['rss_model_mib']:.0f})" + (f" (GPU {r['peak_gpu_mib']:.0f})" if "peak_gpu_mib" in r else "")
        same = path["label"] == "ours fp32 eager"
        rows.append([path["label"]] + [f"{seconds[d] / args.seconds:.2f}" for d in args.depths]
                    + [f"{gflops:.1f}", f"{100 * gflops / peak:.0f}", memory,
                       f"{results[base]['seconds'][str(top)] / seconds[top]:.2f}",
                       "ref" if same else f"{snr_db(reference, r['output']):.1f}"])
    print(f"baseline: {base}; RTF = seconds per second of audio; out SNR: max-depth output "
          "against ours fp32 eager")
    print_table(header, rows)
    for path in measured:
        r = results[path["label"]]
        if "components" in r:
            print(f"\n{path['label']}, depth 1 (component: seconds, GFLOP/s, % of float32 peak):")
            print_table(["component", "seconds", "GFLOP/s", "% peak"], [
                [c, f"{s:.3f}", f"{parts[c] / s / 1e9:.1f}" if s else "-",
                 f"{100 * parts[c] / s / 1e9 / peak:.0f}" if s else "-"]
                for c, s in r["components"].items()])
            print("self-time fractions: " + ", ".join(
                f"{k} {100 * v:.0f}%" for k, v in r["op_fractions"].items()))


def print_table(header, rows) -> None:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header, ["-" * w for w in widths]] + rows:
        print("| " + " | ".join(str(x).ljust(w) for x, w in zip(row, widths)) + " |")


if __name__ == "__main__":
    main()
