"""Score every decoded depth of one test set: scores.tsv per depth and summary.json.

    python -m espnet2_tisdiss.bin.score_separation --data_dir D --decode_dir X [--nj N]

Reads ``D/wav.scp``, ``D/spk<j>.scp``, ``X/reps<k>/spk<j>.scp`` and (optionally)
``X/timing.json``; writes ``X/reps<k>/scores.tsv`` and ``X/summary.json``. Prints
the summary table and the summary path. Formats and metrics:
``espnet2_tisdiss.stages.scoring``.
"""

import argparse
import sys
import warnings
from pathlib import Path

from espnet2_tisdiss.cli_types import RECIPE_INTERNAL


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=f"{__doc__.splitlines()[0]} {RECIPE_INTERNAL}")
    parser.add_argument("--data_dir", required=True, help="Kaldi-style dir with wav.scp and spk<j>.scp")
    parser.add_argument("--decode_dir", required=True, help="dir with reps<k>/spk<j>.scp and timing.json")
    parser.add_argument("--nj", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("--max_length_diff", type=int, default=None,
                        help="samples by which the files of one utterance may differ in length")
    parser.add_argument("--no_progress", action="store_true", help="hide the progress bar")
    return parser


def main(cmd=None):
    args = get_parser().parse_args(cmd)
    if args.nj < 1:
        sys.exit(f"error: --nj must be >= 1, got {args.nj}")
    from espnet2_tisdiss.depths import parse_depth
    from espnet2_tisdiss.stages import results, scoring

    options = {} if args.max_length_diff is None else {"max_length_diff": args.max_length_diff}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            summary = scoring.score_test_set(args.data_dir, args.decode_dir, nj=args.nj,
                                             progress=not args.no_progress, **options)
        except (ValueError, OSError) as error:  # bad inputs, or a full disk while writing
            sys.exit(f"error: {error}")
    for message in dict.fromkeys(str(w.message) for w in caught):
        print(f"warning: {message}", file=sys.stderr)
    depths = {parse_depth(k): v for k, v in summary["depths"].items()}  # in order: 1, 2, .., auto
    print(f"{summary['test_set']}: {summary['num_utts']} utterances, depths {list(depths)}")
    print(results.format_table([{**summary, "depths": depths}]), end="")
    print(f"wrote {Path(args.decode_dir) / 'summary.json'}")
    return summary


if __name__ == "__main__":
    main()
