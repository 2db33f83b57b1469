"""What every benchmark corpus preparer shares: its error, audio checks, publishing data dirs.

A preparer turns a corpus tree into one :class:`Mixture` per utterance, checks the audio
(:func:`check_audio`, :func:`check_sums`) before anything is written, and then
:func:`publish` writes the Kaldi-style data dirs that stage 2 reads::

    <datadir>/<set>/wav.scp     utt -> mixture wav
    <datadir>/<set>/spk<j>.scp  utt -> reference j (j = 1..J, in the corpus' s1, s2 order)
    <datadir>/<set>/utt2spk     utt -> its speakers joined by "_" ("<spk1>_<spk2>[_<spk3>]")
    <datadir>/<set>/spk2utt     speakers -> utts

Every set is written in a hidden folder and renamed into place only once all of them are
complete, so a failed or interrupted run leaves no data dir that stage 2 would trust.
"""

import argparse
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Sequence

import numpy as np
import soundfile as sf
from tqdm import tqdm

from espnet2_tisdiss.fileio.kaldi_lists import write_scp

LSB = 1 / 32768  # one step of 16-bit PCM in soundfile's float scale


class CorpusError(ValueError):
    """The corpus is missing, incomplete or not what the options say; the message names
    what is wrong and where it was looked for."""


@dataclass(frozen=True)
class Mixture:
    """One utterance: its id, speakers ("_"-joined), mixture and reference files.

    ``others`` are files that are no reference but add up into the mixture (the noise of a
    noisy mixture); :func:`check_sums` uses them, the data dir does not list them.
    """

    utt: str
    spk: str
    mix: Path
    refs: Sequence[Path]
    others: Sequence[Path] = field(default_factory=tuple)


def utt_id(name: str, *speakers: str) -> str:
    """Utterance id ``<spk1>_..._<spkJ>_<name>``: sorts by speakers, as Kaldi expects."""
    return "_".join((*speakers, name))


def require_dir(path: Path, what: str, hint: str = "") -> Path:
    """``path`` if it is a directory, else a :class:`CorpusError` naming ``what``."""
    if not path.is_dir():
        raise CorpusError(f"{what} not found: {path} is not a directory.{' ' + hint if hint else ''}")
    return path


def check_audio(mixtures: Sequence[Mixture], fs: int, label: str) -> None:
    """Every file exists, is mono at ``fs`` Hz, and all files of a mixture have one length.

    Raises:
        CorpusError: naming the first offending file and what was expected of it.
    """
    for m in tqdm(mixtures, desc=f"check {label}", unit="utt", leave=False):
        lengths = set()
        for path in (m.mix, *m.refs, *m.others):
            if not path.is_file():
                raise CorpusError(f"{label}: missing file {path} (utterance {m.utt}).")
            try:
                info = sf.info(str(path))
            except RuntimeError as err:
                raise CorpusError(f"{label}: cannot read {path}: {err}") from err
            if info.samplerate != fs:
                raise CorpusError(f"{label}: {path} is sampled at {info.samplerate} Hz, expected "
                                  f"{fs} Hz; point the corpus root at the wav{fs // 1000}k tree "
                                  "or pick the matching --sample_rate.")
            if info.channels != 1:
                raise CorpusError(f"{label}: {path} has {info.channels} channels, expected mono.")
            lengths.add(info.frames)
        if len(lengths) != 1:
            raise CorpusError(f"{label}: utterance {m.utt} has files of different lengths "
                              f"{sorted(lengths)} (mixture {m.mix}).")


def check_sums(mixtures: Sequence[Mixture], label: str, count: int = 3, tol: float = 4 * LSB) -> None:
    """Spot-check that the first ``count`` mixtures are the sum of their refs and others.

    Each 16-bit file is rounded on its own, so a true sum differs by a few LSB at most.

    Raises:
        CorpusError: a mixture differs from the sum by more than ``tol``: the tree mixes up
            its folders, or the option (clean/noisy) does not match it.
    """
    for m in mixtures[:count]:
        mix = sf.read(str(m.mix), dtype="float64")[0]
        total = sum(sf.read(str(p), dtype="float64")[0] for p in (*m.refs, *m.others))
        error = float(np.abs(mix - total).max())
        if error > tol:
            parts = ", ".join(str(p) for p in (*m.refs, *m.others))
            raise CorpusError(f"{label}: {m.mix} is not the sum of {parts} (largest difference "
                              f"{error:.2e}); the tree's folders do not belong together.")


def _write_set(folder: Path, mixtures: Iterable[Mixture]) -> None:
    mixtures = list(mixtures)
    folder.mkdir(parents=True)
    write_scp(folder / "wav.scp", {m.utt: str(m.mix.resolve()) for m in mixtures})
    for j in range(len(mixtures[0].refs)):
        write_scp(folder / f"spk{j + 1}.scp", {m.utt: str(m.refs[j].resolve()) for m in mixtures})
    write_scp(folder / "utt2spk", {m.utt: m.spk for m in mixtures})
    spk2utt: Dict[str, List[str]] = {}
    for m in sorted(mixtures, key=lambda m: m.utt):
        spk2utt.setdefault(m.spk, []).append(m.utt)
    write_scp(folder / "spk2utt", {spk: " ".join(utts) for spk, utts in spk2utt.items()})


def publish(datadir: Path, sets: Dict[str, Sequence[Mixture]]) -> Dict[str, int]:
    """Write ``<datadir>/<set>/`` for every set, replacing old ones; returns utterances per set.

    Raises:
        CorpusError: a set is empty or repeats an utterance id.
    """
    for name, mixtures in sets.items():
        if not mixtures:
            raise CorpusError(f"set {name}: no utterances found.")
        utts = [m.utt for m in mixtures]
        if len(set(utts)) != len(utts):
            raise CorpusError(f"set {name}: repeated utterance ids.")
    datadir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".prepare.", dir=datadir))
    try:
        for name, mixtures in sets.items():
            _write_set(work / name, mixtures)
        for name in sets:
            if (datadir / name).exists():
                shutil.rmtree(datadir / name)
            (work / name).rename(datadir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {name: len(mixtures) for name, mixtures in sets.items()}


def find_dir(candidates: Sequence[Path], what: str, hint: str) -> Path:
    """The first of ``candidates`` that is a directory.

    Raises:
        CorpusError: none is; the message names ``what``, every candidate and the ``hint``.
    """
    found = next((c for c in candidates if c.is_dir()), None)
    if found is None:
        raise CorpusError(f"{what} not found: looked for {' and '.join(map(str, candidates))}. {hint}")
    return found


def run_cli(prog: str, datadir: Path, prepare: Callable[[], Dict[str, int]]) -> int:
    """Run a preparer for a command line: print the sets written, or the error; exit status."""
    try:
        counts = prepare()
    except CorpusError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 1
    for name, n in counts.items():
        print(f"{name}: {n} mixtures -> {datadir / name}")
    return 0


def checked(mixtures: List[Mixture], fs: int, label: str, sums: bool) -> List[Mixture]:
    """``mixtures`` after :func:`check_audio` and, if ``sums``, :func:`check_sums`."""
    check_audio(mixtures, fs, label)
    if sums:
        check_sums(mixtures, label)
    return mixtures


def corpus_parser(module: str, doc: str) -> argparse.ArgumentParser:
    """A preparer's parser with the options all of them have: --datadir, --sample_rate, --mode."""
    parser = argparse.ArgumentParser(prog=f"python -m {module}", description=doc.splitlines()[0])
    parser.add_argument("--datadir", type=Path, required=True, help="where the data dirs go")
    parser.add_argument("--sample_rate", type=int, default=8000, choices=(8000, 16000))
    parser.add_argument("--mode", default="min", choices=("min", "max"),
                        help="min: cut to the shorter source; max: padded to the longer")
    return parser
