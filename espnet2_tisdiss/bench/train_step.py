"""Time one training step (and eval forwards) of the TISDiSS separator on the CPU.

Run ``python -m espnet2_tisdiss.bench.train_step [--emb-dim 32] [--profile]``.

A training step is: forward in training mode (all N_re + 1 decoded stages),
a loss on the decoded complex outputs (mean magnitude, a stand-in for SI-SNR
with the same backward structure through ``abs``), backward, and an AdamW
step. The input is ``--batch`` random one-second 8 kHz mixtures as ESPnet's
STFT (n_fft 128, hop 64, centred) gives them: T=126 frames, F=65 bins.

Prints figures only (no assertions): parameter count, mean seconds per
training step after warm-up, and mean seconds per eval forward at depth 1
and 6. With ``--profile`` also the top ops of one training step by self CPU
time (torch.profiler).
"""

import argparse
import os
import statistics
import time
from typing import Callable, List, Tuple

import torch

from espnet2_tisdiss.separator import TISDiSSSeparator

FRAMES, FREQS = 126, 65  # 1 s at 8 kHz, n_fft 128, hop 64, centred


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The separator options of the training benchmarks (all but N_re), default emb 32."""
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


def build_separator(args: argparse.Namespace) -> TISDiSSSeparator:
    torch.manual_seed(0)
    return TISDiSSSeparator(input_dim=FREQS, n_re=args.n_re, **model_options(args))


def stage_loss(stages: List[List[torch.Tensor]]) -> torch.Tensor:
    """Mean |.| over every stage and speaker (complex [B, T, F] each)."""
    return sum(spec.abs().mean() for stage in stages for spec in stage) / len(stages)


def _busy_seconds() -> Tuple[float, float]:
    """CPU seconds used so far by the whole machine and by this process (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:9]]
    machine = sum(fields) - fields[3] - fields[4]  # all but idle and iowait
    with open("/proc/self/stat") as f:
        own = f.read().rsplit(")", 1)[1].split()
    return machine / tick, (int(own[11]) + int(own[12])) / tick  # utime + stime


def wait_until_idle(max_seconds: float = 120.0) -> None:
    """Wait until no other process is runnable for half a second (Linux)."""
    deadline, quiet = time.monotonic() + max_seconds, 0
    while quiet < 5 and time.monotonic() < deadline:
        with open("/proc/loadavg") as f:
            running = int(f.read().split()[3].split("/")[0])  # includes us
        quiet = quiet + 1 if running <= 1 else 0
        time.sleep(0.1)


def time_calls(
    fn: Callable[[], None], warmup: int, repeats: int, quiet: bool = False
) -> List[float]:
    """Seconds per call after ``warmup`` calls.

    With ``quiet`` (a shared Linux machine), each timed call starts when no
    other process runs, and is repeated (up to 4 more times) when other
    processes used more than 5% of a core meanwhile.
    """
    for _ in range(warmup):
        fn()
    seconds = []
    for _ in range(repeats):
        for _attempt in range(5):
            if quiet:
                wait_until_idle()
            machine, own = _busy_seconds()
            start = time.perf_counter()
            fn()
            wall = time.perf_counter() - start
            machine_after, own_after = _busy_seconds()
            others = (machine_after - machine) - (own_after - own)
            if not quiet or others <= 0.05 * wall:
                break
        seconds.append(wall)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_model_arguments(parser)
    parser.add_argument("--n-re", type=int, default=3)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--eval-repeats", type=int, default=3)
    parser.add_argument("--no-eval", action="store_true", help="skip the eval timings")
    parser.add_argument("--quiet-machine", action="store_true",
                        help="Linux: time only calls during which no other process ran "
                        "(waits, and retries a call up to 4 times)")
    parser.add_argument("--profile", action="store_true",
                        help="print the top ops of one training step")
    parser.add_argument("--profile-rows", type=int, default=25)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    sep = build_separator(args)
    n_params = sum(p.numel() for p in sep.parameters())
    torch.manual_seed(1)
    spec = torch.randn(args.batch, FRAMES, FREQS, dtype=torch.complex64)
    ilens = torch.full((args.batch,), FRAMES)
    optim = torch.optim.AdamW(sep.parameters(), lr=1e-4)

    def train_step() -> None:
        sep.train()
        optim.zero_grad(set_to_none=True)
        stages, _, _ = sep(spec, ilens)
        stage_loss(stages).backward()
        optim.step()

    print(f"config: emb_dim={args.emb_dim} n_heads={args.n_heads} "
          f"ffn_hidden_dim={args.ffn_hidden_dim or 2 * args.emb_dim} "
          f"kernel={args.ffn_kernel_size} groups={args.num_groups} J={args.num_spk} "
          f"n_sep={args.n_sep} n_re={args.n_re}; input [{args.batch}, {FRAMES}, {FREQS}]; "
          f"threads={torch.get_num_threads()}; torch {torch.__version__}")
    print(f"parameters: {n_params} ({n_params / 1e6:.3f} M)")
    seconds = time_calls(train_step, args.warmup, args.steps, args.quiet_machine)
    print(f"train step: mean {statistics.mean(seconds):.3f} s, "
          f"min {min(seconds):.3f} s over {len(seconds)} steps")

    if not args.no_eval:
        sep.eval()
        for depth in (1, 6):
            sep.inference_reps = depth

            def forward() -> None:
                with torch.inference_mode():
                    sep(spec, ilens)

            seconds = time_calls(forward, 1, args.eval_repeats, args.quiet_machine)
            print(f"eval forward depth {depth}: mean {statistics.mean(seconds):.3f} s, "
                  f"min {min(seconds):.3f} s")

    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU]) as prof:
            train_step()
        print(prof.key_averages().table(sort_by="self_cpu_time_total",
                                        row_limit=args.profile_rows))


if __name__ == "__main__":
    main()
