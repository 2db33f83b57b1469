"""Stage 8: upload a packed model to the Hugging Face Hub in ESPnet's model-zoo layout.

Repository layout: ``README.md`` (model card with the results table),
``meta.yaml``, ``exp/enh/config.yaml``, ``exp/enh/model.pth`` and
``exp/enh/RESULTS.md``. Nothing is sent unless a token is available (the
``HF_TOKEN`` environment variable or ``huggingface-cli login``).
"""

import tempfile
from pathlib import Path

from espnet2_tisdiss.fileio.model_archive import unpack_model


class UploadError(RuntimeError):
    """The upload cannot start or failed."""


def model_card(repo_id: str, results: str) -> str:
    return f"""---
tags: [espnet, audio, speech-separation, tisdiss]
license: apache-2.0
---
# {repo_id}

A TISDiSS speech separation model (Feng et al., arXiv 2509.15666) trained with
[espnet2-tisdiss](https://pypi.org/project/espnet2-tisdiss/) on ESPnet-Enh.
One model runs at any inference depth: pick `--inference_reps N` per deployment, or
`auto` to stop once the estimate stops changing.

```sh
pip install espnet2-tisdiss
tisdiss-separate --model {repo_id} --inference_reps 4 mixture.wav   # -> mixture_spk1.wav, ...
```

```python
from espnet2_tisdiss import Separator
sources = Separator.from_pretrained("{repo_id}")(waveform, fs=8000, inference_reps=4)
```

## Results

{results}
"""


def upload_archive(archive: Path, repo_id: str, token: str = None) -> str:
    """Upload ``archive`` to ``repo_id``; returns the repository URL."""
    if not repo_id:
        raise UploadError("no --hf_repo given: name the Hub repository, e.g. --hf_repo user/tisdiss_mini.")
    import huggingface_hub

    token = token or huggingface_hub.get_token()
    if not token:
        raise UploadError(
            "no Hugging Face token: set HF_TOKEN or run 'huggingface-cli login', then rerun stage 8. "
            "Nothing was uploaded."
        )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        config, model, _ = unpack_model(archive, root / "exp" / "enh")
        results_file = config.parent / "RESULTS.md"
        results = results_file.read_text() if results_file.is_file() else "(no RESULTS.md packed)"
        (root / "README.md").write_text(model_card(repo_id, results))
        meta = config.parent / "meta.yaml"
        if meta.is_file():
            meta.rename(root / "meta.yaml")
        try:
            api = huggingface_hub.HfApi(token=token)
            api.create_repo(repo_id, exist_ok=True)
            api.upload_folder(folder_path=str(root), repo_id=repo_id, commit_message="Upload TISDiSS model")
        except Exception as err:  # network, auth and hub errors all end the stage the same way
            raise UploadError(f"upload to {repo_id} failed: {err}") from err
    return f"https://huggingface.co/{repo_id}"
