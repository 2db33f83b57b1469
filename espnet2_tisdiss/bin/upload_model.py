"""Upload a packed model to the Hugging Face Hub (stage 8); needs HF_TOKEN or a login."""

import argparse
import sys
from pathlib import Path

from espnet2_tisdiss.cli_types import RECIPE_INTERNAL
from espnet2_tisdiss.fileio.model_archive import ArchiveError
from espnet2_tisdiss.stages.upload import UploadError, upload_archive


def main(cmd=None):
    parser = argparse.ArgumentParser(description=f"{__doc__} {RECIPE_INTERNAL}")
    parser.add_argument("--archive", type=Path, required=True, help="stage 7's packed_model.tar.gz")
    parser.add_argument("--repo_id", default="", help="Hub repository, e.g. user/tisdiss_mini")
    args = parser.parse_args(cmd)
    if not args.archive.is_file():
        sys.exit(f"error: {args.archive} does not exist; run stage 7 first.")
    try:
        url = upload_archive(args.archive, args.repo_id)
    except (UploadError, ArchiveError) as err:
        sys.exit(f"error: {err}")
    print(f"uploaded to {url}")


if __name__ == "__main__":
    main()
