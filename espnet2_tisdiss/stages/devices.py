"""Stages 4-5 on GPUs: stop at once when this machine has fewer CUDA devices than ``--ngpu``.

The benchmark recipes train on one GPU by default. On a machine without one the
recipe stops before any work, says that ``--ngpu 0`` trains on the CPU, and what
that costs for the config at hand, from training steps measured on a CPU
(:data:`CPU_SECONDS_PER_AUDIO_SECOND`).

    python -m espnet2_tisdiss.stages.devices --ngpu 1 --config conf/tisdiss_sep1x2_re1x6.yaml
"""

import argparse
import sys
from pathlib import Path
from typing import Optional

from espnet2_tisdiss.fileio.safe_yaml import load_yaml_mapping

# Seconds of one training step per second of 8 kHz audio in the batch, on 2 CPU threads
# (float32, tuned layers, no activation checkpointing; one 1-s mixture per step: forward with
# every early-split stage decoded, the PIT loss, backward, AdamW), measured with
# ``python -m espnet2_tisdiss.bench.train_step --device cpu --batch 1 --seconds 1 --threads 2``
# on 2026-12-02, on a machine whose float32 matmul peak read MEASURED_PEAK GFLOP/s around the runs.
# A machine with a 100 GFLOP/s peak takes up to about 1.6x as long. The three-speaker config is
# the two-speaker one times their ratio measured side by side in one run on 2026-12-03
# (29.5 / 15.8 s, peak about 180 GFLOP/s).
CPU_SECONDS_PER_AUDIO_SECOND = {
    "tisdiss_sep1x2_re1x6": 32.3,
    "tisdiss_sep1x2_re1x6_3spk": 32.3 * 29.5 / 15.8,
    "tisdiss_sep1x2_re1x3": 16.0,
    "tisdiss_sep1x2_re2x2": 14.4,
    "tisdiss_small": 4.1,
}
MEASURED_PEAK = "105-167"


def cpu_cost(config_path: Path, fs: int = 8000) -> str:
    """What training ``config_path`` on the CPU costs per step, as far as it was measured."""
    name = Path(config_path).stem
    per_second = CPU_SECONDS_PER_AUDIO_SECOND.get(name)
    if per_second is None:
        return f"The CPU step time of {name} was not measured."
    config = load_yaml_mapping(Path(config_path))
    line = (f"Measured on 2 CPU cores (float32 matmul peak {MEASURED_PEAK} GFLOP/s), one training step of "
            f"{name} takes about {per_second:.0f} s per second of audio in the batch")
    batch, segment = config.get("batch_size"), config.get("speech_segment")
    if isinstance(batch, int) and isinstance(segment, int):
        minutes = per_second * batch * segment / fs / 60
        line += (f"; its batch of {batch} x {segment / fs:g} s takes about {minutes:.0f} min per step, "
                 "and an epoch holds thousands of steps")
    return line + "."


def missing_gpus(ngpu: int, config_path: Path, fs: int = 8000) -> Optional[str]:
    """None when this machine has ``ngpu`` CUDA devices, else the message to stop with."""
    import torch

    found = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if found >= ngpu:
        return None
    return (f"error: --ngpu {ngpu} asks for {ngpu} CUDA GPU(s) but this machine has {found}. "
            "Run on a machine with GPUs, or pass --ngpu 0 to train and decode on the CPU. "
            + cpu_cost(config_path, fs))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ngpu", type=int, required=True)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--fs", type=int, default=8000)
    args = parser.parse_args(argv)
    message = missing_gpus(args.ngpu, args.config, args.fs)
    if message:
        print(message, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
