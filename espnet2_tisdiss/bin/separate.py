"""Separate audio files, folders or Kaldi wav.scp lists with a trained TISDiSS model.

Examples:
    tisdiss-separate --model mini_2mix mix.wav          # the model shipped in the package
    tisdiss-separate --model exp/tisdiss/packed_model.tar.gz mix.wav
    tisdiss-separate --model user/tisdiss_wsj0_2mix recordings/ --output_dir separated \\
        --inference_reps auto --max_reps 8
    tisdiss-separate --train_config their_exp/config.yaml --model_file their_exp/valid.loss.best.pth \\
        --model_fs 8000 --channel 0 stereo.flac

Writes ``<stem>_spk<j>.wav`` (float wav at the input's rate and length) next to
each input or under --output_dir (mirroring a folder's tree; wav.scp entries are
named by utterance id). A file that cannot be separated is reported by name and
the run goes on; the exit status is 1 when any file failed. Each output is
written to a temporary file and renamed, so an interrupted run never leaves a
truncated wav. Also runnable as ``python -m espnet2_tisdiss.bin.separate``.
"""

import argparse
import logging
import sys
import warnings
from pathlib import Path

from espnet2_tisdiss.cli_types import depth_value, positive_float, positive_int
from espnet2_tisdiss.precision import DTYPES


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("inputs", nargs="+", type=Path, help="audio files, folders (recursive) or wav.scp lists")
    model = parser.add_argument_group("model (--model, or --train_config with --model_file)")
    model.add_argument("--model", help="a shipped model's name (mini_2mix), packed .tar.gz, model folder, "
                       "or Hugging Face tag user/name[@revision]")
    model.add_argument("--train_config", type=Path, help="training config.yaml (ours or the authors')")
    model.add_argument("--model_file", type=Path, help="weights (.pth) for --train_config")
    model.add_argument("--model_fs", type=positive_int, help="the model's sample rate, where its files omit it")
    model.add_argument("--offline", action="store_true", help="only use the local Hugging Face cache "
                       "(also when HF_HUB_OFFLINE is set)")
    parser.add_argument("--output_dir", type=Path, help="write here instead of next to each input")
    parser.add_argument("--channel", type=int, help="0-based channel of multi-channel inputs")
    depth = parser.add_argument_group("depth")
    depth.add_argument("--inference_reps", type=depth_value, help="reconstruction depth N >= 1, or 'auto' "
                       "(default: the model's trained N_re)")
    depth.add_argument("--inference_sep_reps", type=positive_int, help="repetitions of the separation "
                       "block N >= 1 (default: the model's trained N_sep)")
    depth.add_argument("--max_reps", type=positive_int, default=8, help="deepest depth 'auto' tries (default 8)")
    depth.add_argument("--auto_threshold", type=positive_float, default=None,
                       help="'auto' stops when ||Y_k - Y_k-1|| / ||Y_k-1|| over the decoded spectra "
                       "falls below this (default: the threshold calibrated for the model, else 0.01)")
    chunks = parser.add_argument_group("long inputs")
    chunks.add_argument("--chunk_seconds", type=positive_float, default=30.0,
                        help="separate longer inputs in chunks of this length (default 30)")
    chunks.add_argument("--overlap_seconds", type=positive_float, default=2.0,
                        help="overlap of consecutive chunks, cross-faded (default 2)")
    run = parser.add_argument_group("compute")
    run.add_argument("--device", default="cpu", help="cpu, cuda or cuda:<i> (default cpu)")
    run.add_argument("--dtype", choices=DTYPES, help="default: bfloat16 where the device computes it "
                     "natively (GPUs from compute capability 8.0, CPUs with AVX512-BF16/AMX), else float32; "
                     "int8 (x86 CPUs with AVX2, opt-in): int8 matmuls in the FFNs and attention projections")
    return parser


def load_separator(args):
    from espnet2_tisdiss.inference import Separator

    if args.model is not None:
        if args.train_config is not None or args.model_file is not None:
            raise ValueError("give either --model or --train_config with --model_file, not both")
        return Separator.from_pretrained(args.model, fs=args.model_fs, device=args.device, dtype=args.dtype,
                                         local_files_only=True if args.offline else None)
    if args.train_config is None or args.model_file is None:
        from espnet2_tisdiss import pretrained

        raise ValueError("give --model (a shipped model, a packed .tar.gz, a folder or a Hub tag), or "
                         "both --train_config and --model_file. Shipped models:\n" + pretrained.listing())
    return Separator.from_files(args.train_config, args.model_file, fs=args.model_fs, device=args.device,
                                dtype=args.dtype)


def separate_job(separator, job, args) -> list:
    """Separate one job and write its outputs; returns the depths used."""
    from espnet2_tisdiss.fileio.atomic_io import write_wav_atomic
    from espnet2_tisdiss.inference.audio import read_mixture

    mixture, rate = read_mixture(job.path, args.channel)
    result = separator.separate(mixture, rate, args.inference_reps, max_reps=args.max_reps,
                                auto_threshold=args.auto_threshold, chunk_seconds=args.chunk_seconds,
                                overlap_seconds=args.overlap_seconds, inference_sep_reps=args.inference_sep_reps)
    for j, source in enumerate(result.sources, start=1):
        write_wav_atomic(job.output(j), source, rate)
    return result.depths


def memory_advice(job, err) -> str:
    """The message for a file that ran out of memory: its name, duration, and the option to use."""
    cause = str(err.__cause__).strip().splitlines()[0] if err.__cause__ else "out of memory"
    how = "whole" if err.chunk_seconds is None else f"in chunks of {err.chunk_seconds:g} s"
    overlap = " (with --overlap_seconds below it)" if err.suggested_chunk_seconds <= 2 else ""
    return (f"{job.name} ({err.seconds:.1f} s): out of memory separating it {how} ({cause}); rerun this "
            f"file with a smaller --chunk_seconds, e.g. --chunk_seconds {err.suggested_chunk_seconds:g}{overlap}")


def describe_depths(depths) -> str:
    if len(depths) == 1:
        return f"depth {depths[0]}"
    return f"depth {sum(depths) / len(depths):.2f} on average over {len(depths)} chunks ({min(depths)}-{max(depths)})"


def main(cmd=None) -> int:
    args = get_parser().parse_args(cmd)
    if args.overlap_seconds >= args.chunk_seconds:
        sys.exit(f"error: --overlap_seconds ({args.overlap_seconds}) must be below --chunk_seconds "
                 f"({args.chunk_seconds})")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    from tqdm import tqdm

    from espnet2_tisdiss.inference.inputs import collect_jobs

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            separator = load_separator(args)
        for message in dict.fromkeys(str(w.message) for w in caught):
            print(f"warning: {message}", file=sys.stderr)
        jobs = collect_jobs(args.inputs, args.output_dir)
    except (ValueError, OSError) as err:
        sys.exit(f"error: {err}")
    if not jobs:
        sys.exit(f"error: no audio files found in {' '.join(map(str, args.inputs))}")
    from espnet2_tisdiss.inference.errors import SeparationMemoryError

    failures = []
    for job in tqdm(jobs, desc="separating", unit="file", disable=len(jobs) < 2):
        try:
            depths = separate_job(separator, job, args)
        except SeparationMemoryError as err:
            failures.append(job.name)
            tqdm.write(f"error: {memory_advice(job, err)}", file=sys.stderr)
            continue
        except (ValueError, OSError, RuntimeError) as err:  # AudioError is a ValueError
            failures.append(job.name)
            named = str(err).startswith(str(job.path))  # read errors already start with the path
            tqdm.write(f"error: {err}" if named else f"error: {job.name}: {err}", file=sys.stderr)
            continue
        tqdm.write(f"{job.name}: {describe_depths(depths)} -> {job.output(1).parent}")
    done = len(jobs) - len(failures)
    print(f"separated {done} of {len(jobs)} file(s) with {separator.source} on {separator.device} "
          f"({separator.dtype})", file=sys.stderr)
    if failures:
        print(f"{len(failures)} file(s) failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
