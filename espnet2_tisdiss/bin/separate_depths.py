"""Separate a data dir (or one wav) at one or several depths in one pass (recipe stage 5).

Examples:
    python -m espnet2_tisdiss.bin.separate_depths --train_config exp/m/config.yaml \\
        --model_file exp/m/valid.loss.ave.pth --data_dir dump/test \\
        --output_dir exp/m/decode/test --inference_reps 1 2 4 6 8 auto
    python -m espnet2_tisdiss.bin.separate_depths --model_archive packed_model.tar.gz \\
        --data_dir dump/test --output_dir exp/m/decode/test --inference_sep_reps 1 2 --inference_reps 1 2 3
    python -m espnet2_tisdiss.bin.separate_depths --model_archive packed_model.tar.gz \\
        --wav mixture.wav --output_dir separated --inference_reps 3
"""

import argparse
import hashlib
import logging
import re
import sys
from pathlib import Path

from tqdm import tqdm

from espnet2_tisdiss.cli_types import RECIPE_INTERNAL, depth_value, positive_float, positive_int


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=f"{__doc__}\n{RECIPE_INTERNAL}", formatter_class=argparse.RawDescriptionHelpFormatter)
    model = parser.add_argument_group("model (a training dir's files, or a packed archive)")
    model.add_argument("--train_config", type=Path)
    model.add_argument("--model_file", type=Path)
    model.add_argument("--model_archive", type=Path, help="stage 7's packed_model.tar.gz, or the name of "
                       "a model shipped in the package (mini_2mix)")
    model.add_argument("--inference_config", type=Path, help="YAML overriding *_conf of the model")
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--data_dir", type=Path, help="dir with wav.scp")
    data.add_argument("--wav", type=Path, help="a single mixture wav")
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument("--inference_reps", type=depth_value, nargs="+", default=None,
                        help="depth(s), integers >= 1 and/or 'auto'; default: the model's n_re")
    parser.add_argument("--inference_sep_reps", type=positive_int, nargs="+", default=None,
                        help="separation-block repetitions, one decode pass per value into "
                        "<output_dir>/sep<n>/ (a grid with --inference_reps); default: the model's n_sep, "
                        "written to <output_dir> itself")
    parser.add_argument("--max_reps", type=positive_int, default=8, help="deepest depth 'auto' tries")
    parser.add_argument("--auto_threshold", type=positive_float, default=None,
                        help="'auto' stops when the decoded spectra change by less than this (relative); "
                        "default: the packed model's calibrated threshold, else 0.01")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:i]")
    parser.add_argument("--nj", type=positive_int, default=1,
                        help="parallel decoding processes, each with its share of the CPU threads")
    return parser


def model_identity(*paths: Path) -> str:
    """SHA-256 over the bytes of the model's files (a folder: all its files, by name): a rerun
    resumes only with the very same model."""
    digest = hashlib.sha256()
    files = [f for p in paths for f in (sorted(q for q in p.rglob("*") if q.is_file()) if p.is_dir() else [p])]
    for path in files:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def main(cmd=None):
    args = get_parser().parse_args(cmd)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    from espnet2_tisdiss.depths import sep_folder
    from espnet2_tisdiss.fileio.checkpoint import CheckpointFileError
    from espnet2_tisdiss.fileio.kaldi_lists import read_scp
    from espnet2_tisdiss.fileio.model_archive import ArchiveError
    from espnet2_tisdiss.fileio.run_lock import RunLockError
    from espnet2_tisdiss.adaptive_depth import AutoDepth
    from espnet2_tisdiss.inference.core import separation_reps
    from espnet2_tisdiss.inference.errors import SeparationMemoryError
    from espnet2_tisdiss.inference.model_loading import load_from_files, load_pretrained, local_path
    from espnet2_tisdiss.stages.decode import decode_set
    from espnet2_tisdiss.stages.format_data import DataDirError

    if args.model_archive is None and (args.train_config is None or args.model_file is None):
        sys.exit("error: give --model_archive, or both --train_config and --model_file")
    try:
        if args.model_archive is not None:
            loaded = load_pretrained(args.model_archive, inference_config=args.inference_config)
            files = [local_path(args.model_archive)]
        else:
            loaded = load_from_files(args.train_config, args.model_file, inference_config=args.inference_config)
            files = [args.train_config, args.model_file]
        files += [args.inference_config] if args.inference_config else []
        threshold = args.auto_threshold or loaded.auto_threshold or AutoDepth.threshold
        if args.data_dir is not None:
            if not (args.data_dir / "wav.scp").is_file():
                sys.exit(f"error: {args.data_dir}/wav.scp does not exist")
            wavs = read_scp(args.data_dir / "wav.scp")
        else:
            if not args.wav.is_file():
                sys.exit(f"error: {args.wav} does not exist")
            wavs = {re.sub(r"\s", "_", args.wav.stem): str(args.wav)}  # ids hold no whitespace
        model = loaded.model.to(args.device)
        depths = list(dict.fromkeys(args.inference_reps or [getattr(model.separator, "n_re", 1)]))
        passes = [(None, args.output_dir)] if args.inference_sep_reps is None else \
            [(n, args.output_dir / sep_folder(n)) for n in dict.fromkeys(args.inference_sep_reps)]
        timings = {}
        for n_sep, output_dir in passes:
            with separation_reps(model, n_sep):
                timings[output_dir] = decode_set(
                    model, wavs, output_dir, depths, fs=loaded.fs, device=args.device,
                    progress=lambda items, total: tqdm(items, total=total, desc="separate", unit="utt"),
                    auto=AutoDepth(args.max_reps, threshold), model_id=model_identity(*files), jobs=args.nj)
    except (ValueError, CheckpointFileError, ArchiveError, DataDirError, OSError, RunLockError,
            SeparationMemoryError) as err:
        sys.exit(f"error: {err}")
    for output_dir, timing in timings.items():
        for depth, seconds in timing["seconds"].items():
            rtf = seconds / max(timing["audio_seconds"], 1e-9)
            logging.info("%s depth %s: %.2f s compute for %.2f s audio (RTF %.3f)",
                         output_dir, depth, seconds, timing["audio_seconds"], rtf)
    logging.info("wrote %s", args.output_dir)


if __name__ == "__main__":
    main()
