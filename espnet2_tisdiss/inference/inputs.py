"""Turn the command line's inputs (files, folders, Kaldi wav.scp lists) into separation jobs.

Each job names one mixture and where its outputs go: ``<prefix>_spk<j>.wav``,
``prefix`` being the input's stem (a wav.scp entry: its utterance id) next to
the input, or in the output folder when one is given. A folder is searched
recursively for audio files (by extension) and its tree is mirrored in the
output folder; files already named like outputs (``*_spk<j>.<ext>``) are left
out, so running again over a folder does not separate earlier results.
"""

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import soundfile as sf

from espnet2_tisdiss.fileio.kaldi_lists import read_scp, utt_file_name

AUDIO_EXTENSIONS = frozenset(f".{name.lower()}" for name in sf.available_formats()) | {".mp3", ".oga"}
OUTPUT_NAME = re.compile(r".+_spk\d+")


@dataclass(frozen=True)
class Job:
    """One mixture to separate.

    Attributes:
        name: how messages name it (the path, or ``utt_id (path)`` for wav.scp entries).
        path: the audio file.
        prefix: outputs are written to ``<prefix>_spk<j>.wav``.
    """

    name: str
    path: Path
    prefix: Path

    def output(self, j: int) -> Path:
        """The output file of stream ``j`` (1-based)."""
        return self.prefix.with_name(f"{self.prefix.name}_spk{j}.wav")


def is_scp(path: Path) -> bool:
    return path.suffix == ".scp" and path.is_file()


def jobs_from_scp(scp: Path, output_dir: Optional[Path]) -> List[Job]:
    """A job per ``utt_id path`` line; paths are taken relative to the current folder, as Kaldi does.

    Raises:
        ValueError: a malformed list, or an id that cannot name a file ("..", "a/b").
    """
    jobs = []
    for utt, value in read_scp(scp).items():
        path = Path(value)
        folder = output_dir if output_dir is not None else path.parent
        jobs.append(Job(f"{utt} ({value})", path, folder / utt_file_name(utt)))
    return jobs


def jobs_from_folder(folder: Path, output_dir: Optional[Path]) -> List[Job]:
    """A job per audio file under ``folder`` (recursively, sorted), mirroring the tree."""
    jobs = []
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_EXTENSIONS):
        if OUTPUT_NAME.fullmatch(path.stem) or not (path.is_file() or path.is_symlink()):
            continue
        relative = path.relative_to(folder)
        target = (output_dir / relative if output_dir is not None else path).with_suffix("")
        jobs.append(Job(str(path), path, target))
    return jobs


def collect_jobs(inputs: List[Path], output_dir: Optional[Path] = None) -> List[Job]:
    """The jobs of every input, in order.

    Args:
        inputs: audio files, folders, or ``.scp`` lists. A path that does not
            exist becomes a job too, so that it is reported with the other
            failures instead of stopping the run.
        output_dir: where outputs go (None: next to each input).

    Raises:
        ValueError: a malformed wav.scp, or two jobs writing the same outputs.
    """
    jobs: List[Job] = []
    for source in inputs:
        if source.is_dir():
            jobs += jobs_from_folder(source, output_dir)
        elif is_scp(source):
            jobs += jobs_from_scp(source, output_dir)
        else:
            folder = output_dir if output_dir is not None else source.parent
            jobs.append(Job(str(source), source, folder / source.stem))
    owners: Dict[Path, str] = {}
    for job in jobs:
        if job.prefix in owners:
            raise ValueError(f"{job.name} and {owners[job.prefix]} would both be written to "
                             f"{job.output(1).name} etc. in {job.prefix.parent}; rename one or separate "
                             "them into different --output_dir folders.")
        owners[job.prefix] = job.name
    return jobs
