"""Stage 4's starting point for fine-tuning: turn a trained model into ESPnet's ``--init_param``.

Sources: a packed model (stage 7's ``packed_model.tar.gz``; unpacked safely into
``--work_dir``), a folder holding ``model.pth`` (``convert_authors_model``'s
output, an unpacked model), a ``.pth`` file (an ``exp/`` checkpoint such as
``valid.loss.ave.pth``), or ESPnet's own ``path:src_key:dst_key:exclude_keys``
form, passed on unchanged. The weights are read with ``weights_only=True``
first, so a corrupt or unsafe file stops here with its reason. A file holding a
bare separator (keys without ``separator.``) is loaded into the model's
separator. Prints the ``--init_param`` value.

    python -m espnet2_tisdiss.stages.init_model --source exp/x/packed_model.tar.gz --work_dir exp/y/init_model
"""

import argparse
import shutil
import sys
from pathlib import Path

from espnet2_tisdiss.fileio.checkpoint import CheckpointFileError, load_state_dict_file
from espnet2_tisdiss.fileio.model_archive import ArchiveError, unpack_model

ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar")


def weights_file(source: str, work_dir: Path) -> Path:
    """The ``.pth`` file that ``source`` names or holds (an archive is unpacked into ``work_dir``)."""
    path = Path(source)
    if path.name.endswith(ARCHIVE_SUFFIXES):
        if not path.is_file():
            raise ValueError(f"packed model {path} does not exist.")
        if work_dir.exists():
            shutil.rmtree(work_dir)  # ours: unpacked by an earlier (interrupted) run of this stage
        return unpack_model(path, work_dir)[1]
    if path.is_dir():
        if not (path / "model.pth").is_file():
            raise ValueError(f"folder {path} holds no model.pth (a packed model, convert_authors_model's "
                             "output folder or a .pth file is expected).")
        return path / "model.pth"
    if not path.is_file():
        raise ValueError(f"{path} does not exist (expected a packed_model.tar.gz, a folder with model.pth, "
                         "or a .pth file).")
    return path


def init_param(source: str, work_dir: Path) -> str:
    """ESPnet's ``--init_param`` value for ``source`` (see the module docstring)."""
    head, colon, _ = source.partition(":")
    if colon and Path(head).is_file() and not Path(source).exists():
        load_state_dict_file(head)  # ESPnet's own form: checked, passed on as given
        return source
    path = weights_file(source, work_dir)
    state = load_state_dict_file(path)
    if not any(key.startswith("separator.") for key in state):
        return f"{path.resolve()}::separator"  # a bare separator's weights
    return str(path.resolve())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True)
    parser.add_argument("--work_dir", type=Path, required=True, help="where an archive is unpacked")
    args = parser.parse_args(argv)
    try:
        print(init_param(args.source, args.work_dir))
    except (ValueError, CheckpointFileError, ArchiveError, OSError) as err:
        print(f"error: --init_param {args.source}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
