"""Gather the summary.json of several scored test sets into RESULTS.md and a PNG plot.

    python -m espnet2_tisdiss.bin.make_results --decode_dirs X1 X2 .. \
        --output RESULTS.md --plot quality_vs_depth.png [--title T] [--model_info M]

Prints the results table, then the paths written. Formats:
``espnet2_tisdiss.stages.results``.
"""

import argparse
import sys

from espnet2_tisdiss.cli_types import RECIPE_INTERNAL


def get_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=f"{__doc__.splitlines()[0]} {RECIPE_INTERNAL}")
    parser.add_argument("--decode_dirs", nargs="+", required=True, help="scored decode dirs (summary.json)")
    parser.add_argument("--output", required=True, help="RESULTS.md to write")
    parser.add_argument("--plot", default=None, help="PNG to write (SI-SNRi vs depth and vs RTF)")
    parser.add_argument("--title", default=None, help="section title above the table")
    parser.add_argument("--model_info", default=None, help="text above the table, e.g. config and #params")
    return parser


def main(cmd=None):
    args = get_parser().parse_args(cmd)
    from espnet2_tisdiss.stages import results

    try:
        table = results.make_results(args.decode_dirs, args.output, plot=args.plot,
                                     title=args.title, model_info=args.model_info)
    except (ValueError, OSError) as error:  # bad inputs, or a full disk while writing
        sys.exit(f"error: {error}")
    print(table, end="")
    print(f"wrote {args.output}")
    if args.plot is not None:
        print(f"plot: {args.plot}")
    return table


if __name__ == "__main__":
    main()
