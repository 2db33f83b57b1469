"""Pack a trained model (config, averaged weights, RESULTS.md) into one archive (stage 7)."""

import argparse
import sys
from pathlib import Path

from espnet2_tisdiss.cli_types import RECIPE_INTERNAL, positive_float
from espnet2_tisdiss.fileio.model_archive import ArchiveError, pack_model


def main(cmd=None):
    parser = argparse.ArgumentParser(description=f"{__doc__} {RECIPE_INTERNAL}")
    parser.add_argument("--train_config", type=Path, required=True)
    parser.add_argument("--model_file", type=Path, required=True)
    parser.add_argument("--results", type=Path, default=None, help="RESULTS.md to include")
    parser.add_argument("--fs", type=int, default=None, help="sample rate the model expects")
    parser.add_argument("--output", type=Path, required=True, help="the .tar.gz to write")
    parser.add_argument("--auto_threshold", type=positive_float, default=None,
                        help="default threshold of depth 'auto' for this model (calibrate_auto's output)")
    args = parser.parse_args(cmd)
    try:
        path = pack_model(args.train_config, args.model_file, args.output, args.results, args.fs,
                          args.auto_threshold)
    except (ArchiveError, OSError) as err:  # missing inputs, or a full disk while writing
        sys.exit(f"error: {err}")
    print(f"packed {path} ({path.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
