"""Resolve a Hugging Face Hub tag (``user/name`` or ``user/name@revision``) to a local snapshot."""

import re
from pathlib import Path
from typing import Optional

from espnet2_tisdiss.inference.errors import ModelLoadError

TAG_PATTERN = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+(@[\w./-]+)?")


def is_hub_tag(text: str) -> bool:
    """True for ``user/name`` or ``user/name@revision`` (not checked against the Hub)."""
    return TAG_PATTERN.fullmatch(text) is not None


def download_snapshot(tag: str, local_files_only: Optional[bool] = None) -> Path:
    """The folder of the snapshot of ``tag`` in the Hugging Face cache, downloading it if needed.

    Args:
        tag: ``user/name`` or ``user/name@revision``.
        local_files_only: only use the local cache; None means "when the
            ``HF_HUB_OFFLINE`` environment variable is set". Without network
            access huggingface_hub also falls back to a cached snapshot.

    Raises:
        ModelLoadError: the tag is not cached (offline) or not on the Hub.
    """
    import huggingface_hub
    from huggingface_hub import constants, errors

    repo_id, _, revision = tag.partition("@")
    offline = constants.HF_HUB_OFFLINE if local_files_only is None else local_files_only
    try:
        folder = huggingface_hub.snapshot_download(
            repo_id, revision=revision or None, local_files_only=offline, library_name="espnet2-tisdiss"
        )
    except errors.LocalEntryNotFoundError as err:
        why = "offline mode is on (HF_HUB_OFFLINE)" if offline else "the Hub could not be reached"
        raise ModelLoadError(
            f"model {tag!r} is not in the local Hugging Face cache ({constants.HF_HUB_CACHE}) and {why}. "
            f"Download it once where the Hub is reachable (huggingface-cli download {repo_id}), "
            "or pass a local packed model (.tar.gz) or folder instead."
        ) from err
    except (errors.RepositoryNotFoundError, errors.RevisionNotFoundError) as err:
        raise ModelLoadError(f"model {tag!r} is not on the Hugging Face Hub (or is private): {err}") from err
    except (errors.HfHubHTTPError, errors.HFValidationError, OSError) as err:
        raise ModelLoadError(f"cannot download model {tag!r} from the Hugging Face Hub: {err}") from err
    return Path(folder)
