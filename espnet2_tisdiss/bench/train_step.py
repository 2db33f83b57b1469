"""Training step time and memory, and inference RTF per depth, of every implementation on one device.

Run ``python -m espnet2_tisdiss.bench.train_step --device cuda`` (or ``--device cpu``;
``--authors_src DIR --authors_python PY`` adds the authors' code).

For one training config (``--config``, default the paper's 8.0M model
``conf/tisdiss_sep1x2_re1x6.yaml``) and a batch of random mixtures (default
the paper's: ``--batch 6`` x ``--seconds 4`` at 8 kHz, as the config's STFT
gives them), every combination of

* implementation: the authors' code (with ``--authors_src``), our ``plain``
  and our ``tuned`` layer path (``layer_path``, see ``espnet2_tisdiss.layers.paths``);
* dtype: float32, and bfloat16 autocast where the device computes it natively
  (``espnet2_tisdiss.precision``; ``--dtypes`` forces a list);
* activation checkpointing off and on (``separator_conf:
  activation_checkpointing``; ours only)

runs in its own process (bench/worker.py): ``--warmup`` training steps, then
the fastest of ``--steps`` timed steps (forward in training mode with every
decoded stage, a loss on each, backward, AdamW). Memory: on CUDA
``torch.cuda.max_memory_allocated`` (peak) and the peak minus the weights
("step"); on the CPU the peak resident memory (VmHWM, imports included) and its
growth over the built model ("step"). "MiB per s audio" is the step memory
divided by the seconds of audio in the batch. A row that fails (e.g. out of
memory) says why and the others go on.

Then one eval forward per implementation and dtype on one ``--infer_seconds``
mixture gives the real-time factor at every depth of ``--depths`` (measured
as bench/inference.py does).
"""

import argparse
import tempfile
from pathlib import Path
from typing import Dict, List

import torch
import yaml

from espnet2_tisdiss.bench.inference import print_table
from espnet2_tisdiss.bench.jobs import (
    REPO_ROOT, authors_conf, authors_training_conf, machine_line, run_worker, separator_conf,
)
from espnet2_tisdiss.layers.paths import uses_tuned
from espnet2_tisdiss.precision import check_device, default_dtype, resolve_dtype
from espnet2_tisdiss.separator import TISDiSSSeparator


def comma_list(cast):
    return lambda text: [cast(item) for item in text.split(",")]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:<index> or cpu")
    parser.add_argument("--config", type=Path, default=REPO_ROOT / "conf/tisdiss_sep1x2_re1x6.yaml",
                        help="training config whose separator_conf and STFT are measured")
    parser.add_argument("--batch", type=int, default=6, help="mixtures per training step")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each training mixture")
    parser.add_argument("--fs", type=int, default=8000, help="sample rate in Hz")
    parser.add_argument("--paths", type=comma_list(str), default=None,
                        help="our layer paths to measure (plain, tuned); default: both on the CPU, "
                        "plain elsewhere (tuned runs on the CPU only)")
    parser.add_argument("--dtypes", type=comma_list(str), default=None,
                        help="default: float32, plus bfloat16 where the device computes it natively")
    parser.add_argument("--checkpointing", type=comma_list(str), default=["off", "on"],
                        help="activation checkpointing settings to measure (off, on)")
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3, help="timed training steps (the fastest is shown)")
    parser.add_argument("--depths", type=comma_list(int), default=[1, 3, 6, 8],
                        help="inference depths for the RTF table")
    parser.add_argument("--infer_seconds", type=float, default=4.0, help="length of the inference mixture")
    parser.add_argument("--no_inference", action="store_true", help="skip the RTF table")
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="CPU threads")
    parser.add_argument("--authors_src", type=Path, help="a checkout of the authors' code")
    parser.add_argument("--authors_python", default=None,
                        help="interpreter for the authors' code (default: this one)")
    args = parser.parse_args(argv)
    for path in args.paths or []:
        if path not in ("plain", "tuned"):
            parser.error(f"--paths: {path!r} is not one of plain, tuned")
    for setting in args.checkpointing:
        if setting not in ("off", "on"):
            parser.error(f"--checkpointing: {setting!r} is not one of off, on")
    try:
        args.device = check_device(args.device)
    except ValueError as err:
        parser.error(f"--device: {err}")
    if args.paths is None:  # what "auto" runs there, beside the plain path
        args.paths = ["plain", "tuned"] if uses_tuned(args.device, "auto") else ["plain"]
    elif "tuned" in args.paths:
        try:
            uses_tuned(args.device, "tuned")
        except ValueError as err:
            parser.error(f"--paths: {err}")
    return args


def stft_conf(config: Path) -> Dict:
    """The encoder's n_fft and hop_length of a training config."""
    with open(config) as f:
        encoder = yaml.safe_load(f)["encoder_conf"]
    return dict(n_fft=encoder["n_fft"], hop=encoder["hop_length"])


def implementations(args) -> List[str]:
    return (["authors"] if args.authors_src else []) + args.paths


def variants(args, dtypes: List[str]) -> List[Dict]:
    """The measured training rows, the baseline (ratio 1.00) first; the authors' code has no checkpointing."""
    return [dict(impl=impl, dtype=dtype, ckpt=ckpt) for impl in implementations(args) for dtype in dtypes
            for ckpt in args.checkpointing if impl != "authors" or ckpt == "off"]


def measure(variant: Dict, conf: Dict, job: Dict, args, tmp: Path) -> Dict:
    """The worker's result for one variant, or {"error": <the last line it printed>}."""
    job = dict(job, dtype=variant["dtype"])
    try:
        if variant["impl"] == "authors":
            theirs = authors_training_conf(conf) if job["task"] == "train" else authors_conf(conf)
            job.update(impl="authors", conf=theirs, state_dict=str(tmp / "authors.pt"))
            return run_worker(job, args.authors_python, args.authors_src)
        ours = dict(conf, layer_path=variant["impl"], activation_checkpointing=variant["ckpt"] == "on")
        return run_worker(dict(job, impl="ours", conf=ours, state_dict=str(tmp / "ours.pt")))
    except RuntimeError as err:
        lines = [line for line in str(err).splitlines() if line.strip()]
        return {"error": lines[-1][:120] if lines else "failed"}


def memory_columns(result: Dict, audio_seconds: float) -> List[str]:
    """Peak MiB, step MiB and step MiB per second of audio (GPU figures where measured)."""
    if "peak_gpu_mib" in result:
        peak, step = result["peak_gpu_mib"], result["peak_gpu_mib"] - result["gpu_model_mib"]
    else:
        peak, step = result["peak_rss_mib"], result["peak_rss_mib"] - result["rss_model_mib"]
    return [f"{peak:.0f}", f"{step:.0f}", f"{step / audio_seconds:.0f}"]


def label(variant: Dict) -> str:
    return "authors" if variant["impl"] == "authors" else f"ours {variant['impl']}"


def train_table(measured: List, audio_seconds: float) -> None:
    """One row per training variant; speed-up against the first that ran."""
    base = next((r for _, r in measured if "error" not in r), None)
    rows = []
    for variant, r in measured:
        cells = [label(variant), variant["dtype"], variant["ckpt"]]
        if "error" in r:
            rows.append(cells + ["failed: " + r["error"]] + [""] * 4)
            continue
        rows.append(cells + [f"{r['step_s']:.3f}", f"{base['step_s'] / r['step_s']:.2f}"]
                    + memory_columns(r, audio_seconds))
    print_table(["path", "dtype", "ckpt", "step s", "speed-up", "peak MiB", "step MiB",
                 "MiB per s audio"], rows)


def inference_table(args, measured: List) -> None:
    """One row per implementation and dtype: RTF at every depth, peak memory."""
    rows = []
    for variant, r in measured:
        cells = [label(variant), variant["dtype"]]
        if "error" in r:
            rows.append(cells + ["failed: " + r["error"]] + [""] * len(args.depths))
            continue
        memory = r.get("peak_gpu_mib", r["peak_rss_mib"])
        rows.append(cells + [f"{r['seconds'][str(d)] / args.infer_seconds:.3f}" for d in args.depths]
                    + [f"{memory:.0f}"])
    print_table(["path", "dtype"] + [f"RTF@{d}" for d in args.depths] + ["peak MiB"], rows)


def main(argv=None) -> None:
    args = parse_args(argv)
    device = args.device
    if args.dtypes:
        dtypes = [resolve_dtype(device, d) for d in args.dtypes]  # warns where bfloat16 is emulated
    else:
        dtypes = ["float32"] + (["bfloat16"] if default_dtype(device) == "bfloat16" else [])
    conf, stft = separator_conf(args.config), stft_conf(args.config)
    freqs = stft["n_fft"] // 2 + 1
    frames = int(args.seconds * args.fs) // stft["hop"] + 1
    audio_seconds = args.batch * args.seconds
    n_params = sum(p.numel() for p in TISDiSSSeparator(freqs, **conf).parameters())
    print(machine_line(args.threads))
    print(f"device: {device}; model: {args.config.name} ({n_params / 1e6:.3f} M parameters, "
          f"n_re {conf.get('n_re', 6)}); training batch {args.batch} x {args.seconds:g} s = "
          f"{audio_seconds:g} s of audio = [{args.batch}, {frames}, {freqs}]; fastest of "
          f"{args.steps} steps after {args.warmup} warm-up")
    if device.type == "cuda":
        print("memory: torch.cuda.max_memory_allocated; step = peak - weights")
    else:
        print("memory: peak RSS (VmHWM); step = peak - RSS of the built model")

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        torch.manual_seed(1)
        torch.save(torch.randn(args.batch, frames, freqs, dtype=torch.complex64), tmp / "train.pt")
        job = dict(task="train", input_dim=freqs, threads=args.threads, device=str(device),
                   input=str(tmp / "train.pt"), steps=args.steps, warmup=args.warmup)
        measured = [(v, measure(v, conf, job, args, tmp)) for v in variants(args, dtypes)]
        train_table(measured, audio_seconds)
        if args.no_inference:
            return
        infer_frames = int(args.infer_seconds * args.fs) // stft["hop"] + 1
        torch.save(torch.randn(1, infer_frames, freqs, dtype=torch.complex64), tmp / "infer.pt")
        job = dict(job, task="infer", input=str(tmp / "infer.pt"), depths=args.depths, compile=False)
        once = [dict(impl=impl, dtype=dtype, ckpt="off")
                for impl in implementations(args) for dtype in dtypes]
        measured = [(v, measure(v, conf, job, args, tmp)) for v in once]
        print(f"\ninference: one eval forward of 1 x {args.infer_seconds:g} s; "
              "RTF = seconds to the depth-k output per second of audio")
        inference_table(args, measured)


if __name__ == "__main__":
    main()
