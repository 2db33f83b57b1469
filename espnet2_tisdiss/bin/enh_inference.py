"""ESPnet's enhancement inference with TISDiSS registered and ``--inference_reps N``.

All options of ``python -m espnet2.bin.enh_inference`` are accepted. With
``--inference_reps N`` the reconstruction block runs N times (any N >= 1, also
beyond the trained N_re); it is passed to the stock tool as an inference config
that sets ``separator_conf.inference_reps``, merged with ``--inference_config``
if one is given.
"""

import argparse
import sys
import tempfile
from pathlib import Path

import yaml

from espnet2_tisdiss.cli_types import RECIPE_INTERNAL, positive_int


def split_arguments(argv):
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--inference_reps", type=positive_int, default=None)
    parser.add_argument("--inference_config", default=None)
    return parser.parse_known_args(argv)


def main(cmd=None):
    argv = sys.argv[1:] if cmd is None else list(cmd)
    ours, rest = split_arguments(argv)  # before the slow imports: bad options fail fast
    from espnet2.bin import enh_inference

    if "-h" in rest or "--help" in rest:  # ESPnet's options, under our description
        parser = enh_inference.get_parser()
        parser.description = f"{__doc__}\n{RECIPE_INTERNAL}"
        parser.print_help()
        return None
    import espnet2_tisdiss.tasks  # noqa: F401  (registers separator: tisdiss)
    from espnet2_tisdiss.fileio.safe_yaml import ConfigFileError, load_yaml_mapping

    if ours.inference_reps is None:
        if ours.inference_config is not None:
            rest += ["--inference_config", ours.inference_config]
        return enh_inference.main(rest)
    config = {}
    if ours.inference_config is not None:
        try:
            config = load_yaml_mapping(ours.inference_config, "inference config")
        except ConfigFileError as err:
            sys.exit(f"error: {err}")
    config.setdefault("separator_conf", {})["inference_reps"] = ours.inference_reps
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "inference.yaml"
        path.write_text(yaml.safe_dump(config))
        return enh_inference.main(rest + ["--inference_config", str(path)])


if __name__ == "__main__":
    main()
