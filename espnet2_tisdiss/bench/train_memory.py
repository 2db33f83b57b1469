"""Training step time and peak memory per N_re at a fixed batch, side by side.

Run ``python -m espnet2_tisdiss.bench.train_memory [--authors_src DIR --authors_python PY]``.

For every N_re in ``--n_re`` and every path, one subprocess (bench/worker.py)
builds the separator, runs ``--warmup`` training steps, then times
``--steps`` steps (forward in training mode with all N_re + 1 decoded
stages, a loss on every stage, backward, AdamW) and reports its peak resident
memory (VmHWM: the whole process, PyTorch and its imports included) and the
growth of the resident memory over the built model (peak minus VmRSS before
the first step: activations, gradients, optimizer state, allocator caches).
The input is ``--batch`` random ``--seconds``-long 8 kHz mixtures as ESPnet's
STFT gives them (n_fft 128, hop 64, centred).

``--profile`` adds a table of one more step per path by op kind
(matmul/conv, attention, elementwise/other, python/autograd): seconds, share of
the step, GFLOP (torch.utils.flop_counter) and GFLOP/s against the machine's
float32 matmul peak, which shows what bounds the step.

Paths: ``authors`` (with ``--authors_src``: their code, the paper's
supervision flags: splitter and every repetition decoded), ``ours``, and
``ours ckpt`` (``activation_checkpointing: true``). Step-time and memory
ratios are against the authors' code when given, else against ``ours``.
"""

import argparse
import tempfile
from pathlib import Path

import torch

from espnet2_tisdiss.bench.inference import print_table
from espnet2_tisdiss.bench.jobs import authors_training_conf, machine_line, matmul_peak, run_worker
from espnet2_tisdiss.separator import TISDiSSSeparator

FS, N_FFT, HOP = 8000, 128, 64


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The separator options measured (all but N_re), default emb 32."""
    parser.add_argument("--emb-dim", type=int, default=32)
    parser.add_argument("--n-heads", type=int, default=4)
    parser.add_argument("--ffn-hidden-dim", type=int, default=64,
                        help="0 means 2 * emb_dim")
    parser.add_argument("--ffn-kernel-size", type=int, default=4)
    parser.add_argument("--num-groups", type=int, default=4)
    parser.add_argument("--num-spk", type=int, default=2)
    parser.add_argument("--n-sep", type=int, default=1)


def model_options(args: argparse.Namespace) -> dict:
    """TISDiSSSeparator options (but n_re) from :func:`add_model_arguments`'s arguments."""
    return dict(
        num_spk=args.num_spk,
        n_sep=args.n_sep,
        emb_dim=args.emb_dim,
        n_heads=args.n_heads,
        ffn_hidden_dim=args.ffn_hidden_dim or 2 * args.emb_dim,
        ffn_kernel_size=args.ffn_kernel_size,
        ffn_stride=1,
        num_groups=args.num_groups,
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--n_re", type=lambda s: [int(n) for n in s.split(",")], default=[1, 3, 6],
                        help="comma-separated N_re values")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=2)
    parser.add_argument("--authors_src", type=Path, help="a checkout of the authors' code")
    parser.add_argument("--authors_python", default=None,
                        help="interpreter for the authors' code (default: this one)")
    parser.add_argument("--profile", action="store_true",
                        help="also seconds and GFLOP/s per op kind of one step of every path")
    args = parser.parse_args(argv)

    frames = int(args.seconds * FS) // HOP + 1
    base = model_options(args)
    n_params = sum(p.numel() for p in TISDiSSSeparator(65, **base, n_re=1).parameters())
    print(machine_line(args.threads))
    print(f"config: {base}; {n_params / 1e6:.3f} M parameters; batch {args.batch} x "
          f"{args.seconds:g} s = [{args.batch}, {frames}, {N_FFT // 2 + 1}]; "
          f"best of {args.steps} steps after {args.warmup} warm-up")
    labels = (["authors"] if args.authors_src else []) + ["ours", "ours ckpt"]
    rows, profiles = [], []
    with tempfile.TemporaryDirectory() as tmp:
        torch.manual_seed(1)
        spec = Path(tmp) / "input.pt"
        torch.save(torch.randn(args.batch, frames, N_FFT // 2 + 1, dtype=torch.complex64), spec)
        for n_re in args.n_re:
            conf = dict(base, n_re=n_re)
            measured = {}
            for label in labels:
                job = dict(task="train", input_dim=N_FFT // 2 + 1, threads=args.threads,
                           device="cpu", input=str(spec), steps=args.steps, warmup=args.warmup,
                           state_dict=str(Path(tmp) / f"{label}{n_re}.pt"), profile=args.profile)
                if label == "authors":
                    measured[label] = run_worker(dict(job, impl="authors", conf=authors_training_conf(conf)),
                                                 args.authors_python, args.authors_src)
                else:
                    ours = dict(conf, activation_checkpointing=label == "ours ckpt")
                    measured[label] = run_worker(dict(job, impl="ours", conf=ours))
            reference = measured[labels[0]]
            for label in labels:
                r = measured[label]
                growth = r["peak_rss_mib"] - r["rss_model_mib"]
                rows.append([n_re, label, f"{r['step_s']:.2f}", f"{r['peak_rss_mib']:.0f}",
                             f"{growth:.0f}", f"{reference['step_s'] / r['step_s']:.2f}",
                             f"{r['peak_rss_mib'] / reference['peak_rss_mib']:.2f}",
                             f"{growth / (reference['peak_rss_mib'] - reference['rss_model_mib']):.2f}"])
            profiles += [(n_re, label, measured[label]["op_kinds"]) for label in labels if args.profile]
    print(f"ratios against: {labels[0]}")
    print_table(["N_re", "path", "step s", "peak RSS MiB", "growth MiB", "speed-up",
                 "peak ratio", "growth ratio"], rows)
    if profiles:
        print_op_kinds(profiles, matmul_peak(args.threads))


def print_op_kinds(profiles, peak: float) -> None:
    """Seconds, share and GFLOP/s (against the float32 matmul ``peak``) per op kind of one step."""
    print(f"\nOne profiled training step per path, by op kind; float32 matmul peak {peak:.1f} GFLOP/s "
          "(GFLOP: matmuls, convolutions, attention; forward and backward)")
    rows = []
    for n_re, label, kinds in profiles:
        total = sum(k["seconds"] for k in kinds.values())
        for kind, k in kinds.items():
            rate = k["gflop"] / k["seconds"] if k["gflop"] and k["seconds"] else None
            rows.append([n_re, label, kind, f"{k['seconds']:.3f}", f"{100 * k['seconds'] / total:.0f}",
                         f"{k['gflop']:.1f}" if k["gflop"] else "-",
                         f"{rate:.1f}" if rate else "-", f"{100 * rate / peak:.0f}" if rate else "-"])
    print_table(["N_re", "path", "op kind", "seconds", "% of step", "GFLOP", "GFLOP/s", "% peak"], rows)


if __name__ == "__main__":
    main()
