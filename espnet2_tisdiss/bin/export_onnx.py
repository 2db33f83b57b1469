"""Export a trained TISDiSS model to ONNX for separation without PyTorch (``tisdiss-export``).

    tisdiss-export --model mini_2mix --output_dir mini_2mix_onnx
    tisdiss-export --model exp/tisdiss/packed_model.tar.gz --output_dir exported --inference_sep_reps 1
    python -m espnet2_tisdiss.deploy.onnx_runtime --model_dir mini_2mix_onnx mix.wav --output_dir out

Writes three graphs (encode-and-split, one reconstruction repetition, decode) and
``model.json``; the runtime (onnxruntime and numpy) runs any depth, ``auto`` included.
Needs the optional extra: ``pip install .[onnx]``.
"""

import argparse
import sys
from pathlib import Path

from espnet2_tisdiss.cli_types import positive_int


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="a shipped model's name (mini_2mix), packed .tar.gz, model folder, "
                        "or Hugging Face tag user/name[@revision]")
    parser.add_argument("--train_config", type=Path, help="training config.yaml (ours or the authors')")
    parser.add_argument("--model_file", type=Path, help="weights (.pth) for --train_config")
    parser.add_argument("--model_fs", type=positive_int, help="the model's sample rate, where its files omit it")
    parser.add_argument("--output_dir", type=Path, required=True, help="folder to write (replaced whole)")
    parser.add_argument("--inference_sep_reps", type=positive_int, default=None,
                        help="separation-block repetitions baked into the export (default: the trained N_sep)")
    return parser


def main(argv=None) -> int:
    args = get_parser().parse_args(argv)
    try:
        import onnx  # noqa: F401  (the exporter writes through it)
        import onnxscript  # noqa: F401
    except ImportError:
        sys.exit("error: exporting needs the optional extra: pip install 'espnet2-tisdiss[onnx]' "
                 "(onnx, onnxscript, onnxruntime)")
    from espnet2_tisdiss.deploy.export_onnx import export_onnx
    from espnet2_tisdiss.inference.errors import ModelLoadError
    from espnet2_tisdiss.inference.model_loading import load_from_files, load_pretrained

    if (args.model is None) == (args.train_config is None or args.model_file is None):
        sys.exit("error: give either --model, or both --train_config and --model_file")
    try:
        if args.model is not None:
            loaded = load_pretrained(args.model, fs=args.model_fs)
        else:
            loaded = load_from_files(args.train_config, args.model_file, fs=args.model_fs)
        if loaded.fs is None:
            raise ValueError("the model's sample rate is not recorded; give --model_fs")
        export_onnx(loaded, args.output_dir, args.inference_sep_reps)
    except (ValueError, ModelLoadError, OSError) as err:
        sys.exit(f"error: {err}")
    print(f"wrote {args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
