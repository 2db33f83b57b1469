"""Calibrate the default threshold of depth "auto" on a validation set (recipe stage 5).

    python -m espnet2_tisdiss.bin.calibrate_auto --train_config exp/m/config.yaml \\
        --model_file exp/m/valid.loss.ave.pth --data_dir dump/dev --output exp/m/auto_calibration.json

Writes the calibration (threshold, its mean depth and SI-SNR, every fixed depth's
SI-SNR) as JSON and prints the threshold; see ``espnet2_tisdiss.stages.calibrate_auto``.
"""

import argparse
import sys
from pathlib import Path

from espnet2_tisdiss.cli_types import RECIPE_INTERNAL, positive_float, positive_int


def main(cmd=None):
    parser = argparse.ArgumentParser(description=f"{__doc__}\n{RECIPE_INTERNAL}",
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train_config", type=Path, required=True)
    parser.add_argument("--model_file", type=Path, required=True)
    parser.add_argument("--data_dir", type=Path, required=True, help="validation data dir (wav.scp, spk<j>.scp)")
    parser.add_argument("--output", type=Path, required=True, help="the JSON to write")
    parser.add_argument("--max_reps", type=positive_int, default=8, help="deepest depth 'auto' may use")
    parser.add_argument("--tolerance_db", type=positive_float, default=0.05,
                        help="SI-SNR 'auto' may give up against the best fixed depth (dB)")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(cmd)
    from espnet2_tisdiss.fileio.atomic_io import write_atomic
    from espnet2_tisdiss.fileio.kaldi_lists import read_scp
    from espnet2_tisdiss.inference.audio import read_mixture
    from espnet2_tisdiss.inference.errors import AudioError, ModelLoadError
    from espnet2_tisdiss.inference.model_loading import load_from_files
    from espnet2_tisdiss.stages.calibrate_auto import calibrate, read_references

    try:
        if args.max_reps < 2:
            raise ValueError("--max_reps must be at least 2 to calibrate 'auto'")
        loaded = load_from_files(args.train_config, args.model_file)
        if not hasattr(loaded.model.separator, "encode_and_split"):
            raise ValueError(f"{args.train_config}: the model has no inference depth to calibrate")
        wavs = read_scp(args.data_dir / "wav.scp")
        refs = read_references(args.data_dir, list(wavs))
        mixtures = [read_mixture(Path(path))[0] for path in wavs.values()]
        result = calibrate(loaded.model.to(args.device), mixtures, [refs[u] for u in wavs], args.max_reps,
                           args.tolerance_db, args.device)
    except (ValueError, OSError, AudioError, ModelLoadError, KeyError) as err:
        sys.exit(f"error: {err}")
    write_atomic(args.output, result.to_json())
    print(f"{result.threshold:.6g}")
    print(f"auto: threshold {result.threshold:.4g}, mean depth {result.mean_depth:.2f}, SI-SNR "
          f"{result.si_snr:.2f} dB; best fixed depth {result.best_depth}: {result.best_si_snr:.2f} dB "
          f"({result.num_utts} mixtures of {args.data_dir})", file=sys.stderr)


if __name__ == "__main__":
    main()
