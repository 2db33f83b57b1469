"""Convert the authors' ``config.yaml`` + checkpoint into our ``config.yaml`` + ``model.pth``.

Example:
    python -m espnet2_tisdiss.bin.convert_authors_model \\
        --config exp/enh_train_..._raw/config.yaml \\
        --checkpoint exp/enh_train_..._raw/valid.loss.ave_5best.pth \\
        --output_dir exp/tisdiss_wsj0_2mix_converted
    python -m espnet2_tisdiss.bin.enh_inference --train_config <output_dir>/config.yaml \\
        --model_file <output_dir>/model.pth --inference_reps 8 ...
"""

import argparse
import sys
from pathlib import Path

from espnet2_tisdiss.compat.convert import convert_authors_model
from espnet2_tisdiss.fileio.checkpoint import CheckpointFileError


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True, help="the authors' config.yaml")
    parser.add_argument("--checkpoint", type=Path, required=True, help="their .pth weights")
    parser.add_argument("--output_dir", type=Path, required=True, help="where to write ours")
    return parser


def main(cmd=None):
    args = get_parser().parse_args(cmd)
    try:
        config, model = convert_authors_model(args.config, args.checkpoint, args.output_dir)
    except (ValueError, CheckpointFileError, OSError) as err:
        sys.exit(f"error: {err}")
    print(f"wrote {config} and {model}")


if __name__ == "__main__":
    main()
