"""Read a WSJ0 utterance: a wav file, or the LDC original, NIST SPHERE (``.wv1``).

LDC's WSJ0 discs store speech as NIST SPHERE, most of it compressed with "shorten"
(header field ``sample_coding -s26 pcm,embedded-shorten-v2.00``). No maintained Python
package decodes shorten, so compressed files go through LDC's ``sph2pipe`` decoder (the
program must be on the PATH; Kaldi builds it in ``tools/sph2pipe_v2.5``). Uncompressed
SPHERE and wav files are read with soundfile (libsndfile reads both).
"""

import io
import shutil
import subprocess
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
import soundfile as sf

from espnet2_tisdiss.corpora.common import CorpusError

SPHERE_MAGIC = b"NIST_1A"
SPH2PIPE = "sph2pipe"


def sphere_header(path: Path) -> Dict[str, str]:
    """The fields of a NIST SPHERE header (``{name: value}``, values as text); {} if not SPHERE."""
    with open(path, "rb") as f:
        if f.read(len(SPHERE_MAGIC)) != SPHERE_MAGIC:
            return {}
        f.readline()
        size = int(f.readline().strip() or 1024)
        text = f.read(size).decode("ascii", errors="replace")
    fields = {}
    for line in text.splitlines():
        if line.strip() == "end_head":
            break
        parts = line.split(None, 2)
        if len(parts) == 3:
            fields[parts[0]] = parts[2].strip()
    return fields


def read_speech(path: Path) -> Tuple[np.ndarray, int]:
    """(float64 samples in [-1, 1), sample rate) of a wav or SPHERE file.

    Raises:
        CorpusError: shorten-compressed SPHERE without ``sph2pipe`` on the PATH, a failing
            decoder, or a file that is not readable audio.
    """
    header = sphere_header(path)
    if "shorten" in header.get("sample_coding", ""):
        return _decode_shorten(path)
    try:
        audio, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except RuntimeError as err:
        raise CorpusError(f"cannot read {path}: {err}") from err
    return audio[:, 0], rate


def _decode_shorten(path: Path) -> Tuple[np.ndarray, int]:
    program = shutil.which(SPH2PIPE)
    if program is None:
        raise CorpusError(
            f"{path} is shorten-compressed NIST SPHERE, which needs LDC's decoder '{SPH2PIPE}' "
            "on the PATH (Kaldi builds it under tools/sph2pipe_v2.5; or convert WSJ0 to wav "
            f"first with: {SPH2PIPE} -f wav in.wv1 out.wav, keeping the folder layout).")
    proc = subprocess.run([program, "-f", "wav", str(path)], capture_output=True)
    if proc.returncode != 0:
        raise CorpusError(f"{SPH2PIPE} failed on {path}: {proc.stderr.decode(errors='replace')[-500:]}")
    audio, rate = sf.read(io.BytesIO(proc.stdout), dtype="float64", always_2d=True)
    return audio[:, 0], rate
