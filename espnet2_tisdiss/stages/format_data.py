"""Stage 2: format a prepared data dir into the dump dir the training reads.

Reads ``<src>/wav.scp`` and ``<src>/spk<j>.scp`` (Kaldi style, "utt path"),
writes ``<dst>/`` with the same lists plus ``utt2spk`` (``<src>/utt2spk``'s speaker pairs, or
each utterance as its own speaker), ``spk2utt`` and ``utt2num_samples``. Audio at another rate than ``fs`` is resampled into
``<dst>/wav/``; mono audio already at ``fs`` is referenced in place. Utterances
shorter than ``min_seconds`` are dropped (and counted). The dump dir is built in
a temporary folder beside it and renamed into place
(``espnet2_tisdiss.fileio.atomic_io.atomic_dir``), so an interrupted run or a full disk
leaves no half dir behind, and the previous dump dir (if any) stays until the
new one is complete.

Paths may hold spaces, quotes, leading dashes and non-ASCII characters (the
path is the rest of the line after the id); utterance ids cannot hold
whitespace, and a line whose path only exists when the id's first word is
dropped is reported as such, with its line number.
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Dict, List

import numpy as np
import soundfile as sf
import soxr
from tqdm import tqdm

from espnet2_tisdiss.fileio.atomic_io import atomic_dir, write_wav_atomic
from espnet2_tisdiss.fileio.kaldi_lists import line_number, read_scp, utt_file_name, write_scp


class DataDirError(ValueError):
    """A data dir is missing, empty or inconsistent."""


def source_lists(src: Path) -> List[str]:
    """Names of the lists of a separation data dir: wav.scp, spk1.scp, ... spkJ.scp."""
    if not src.is_dir():
        raise DataDirError(f"data dir {src} does not exist; run stage 1 (data preparation) first.")
    if not (src / "wav.scp").is_file():
        raise DataDirError(f"{src}/wav.scp is missing; run stage 1 (data preparation) first.")
    speakers = sorted(p.name for p in src.glob("spk*.scp"))
    expected = [f"spk{j}.scp" for j in range(1, len(speakers) + 1)]
    if not speakers or speakers != expected:
        raise DataDirError(f"{src} needs spk1.scp .. spkJ.scp (found {speakers}).")
    return ["wav.scp"] + speakers


def check_listed_files(scp: Path, entries: Dict[str, str]) -> None:
    """Every path of ``scp`` exists; an id that looks split at a space is named with its line.

    Raises:
        DataDirError: the first missing file, with ``scp:line``.
    """
    for utt, value in entries.items():
        if Path(value).is_file():
            continue
        where = f"{scp}:{line_number(scp, utt)}"
        first, _, rest = value.partition(" ")
        if rest and Path(rest.strip()).is_file():
            raise DataDirError(
                f"{where}: utterance id {f'{utt} {first}'!r} contains a space; Kaldi lists end the id at the "
                f"first blank, so this line reads as id {utt!r} with path {value!r}. Rename the utterance "
                f"without whitespace (e.g. {f'{utt}_{first}'!r}); paths may contain spaces.")
        raise DataDirError(f"{where}: utterance {utt}: no such file {value!r}")


def load_mono(path: str, utt: str) -> tuple:
    try:
        audio, rate = sf.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, sf.LibsndfileError) as err:
        raise DataDirError(f"utterance {utt}: cannot read {path}: {err}") from err
    if audio.shape[1] != 1:
        raise DataDirError(f"utterance {utt}: {path} has {audio.shape[1]} channels; need mono.")
    return audio[:, 0], rate


def format_data_dir(src: Path, dst: Path, fs: int, min_seconds: float) -> Dict[str, int]:
    """Format ``src`` into ``dst`` (see the module docstring); returns counts."""
    names = source_lists(src)
    lists = {name: read_scp(src / name) for name in names}
    utts = sorted(lists["wav.scp"])
    if not utts:
        raise DataDirError(f"{src}/wav.scp is empty.")
    for name in names:
        check_listed_files(src / name, lists[name])
        for utt in lists[name]:
            utt_file_name(utt)
    for name in names[1:]:
        if sorted(lists[name]) != utts:
            missing = sorted(set(utts) ^ set(lists[name]))[:5]
            raise DataDirError(f"{src}/{name} and wav.scp list different utterances, e.g. {missing}")

    out = {name: {} for name in names}
    num_samples, dropped = {}, 0
    with atomic_dir(dst) as work:
        for utt in tqdm(utts, desc=f"format {src.name}", unit="utt", file=sys.stderr):
            signals = {name: load_mono(lists[name][utt], utt) for name in names}
            rates = {rate for _, rate in signals.values()}
            if len(rates) != 1:
                raise DataDirError(f"utterance {utt}: mixture and references differ in sample rate {rates}")
            rate = rates.pop()
            length = min(len(audio) for audio, _ in signals.values()) * fs // rate
            if length < min_seconds * fs:
                dropped += 1
                continue
            for name, (audio, _) in signals.items():
                if rate == fs:
                    out[name][utt] = str(Path(lists[name][utt]).resolve())
                    continue
                wav = work / "wav" / name.replace(".scp", "") / f"{utt}.wav"
                write_wav_atomic(wav, soxr.resample(audio, rate, fs).astype(np.float32), fs)
                out[name][utt] = str((dst / wav.relative_to(work)).resolve())
            num_samples[utt] = str(length)
        if not num_samples:
            raise DataDirError(f"{src}: every utterance is shorter than {min_seconds} s.")
        for name in names:
            write_scp(work / name, out[name])
        write_scp(work / "utt2num_samples", num_samples)
        utt2spk = speakers_of(src, num_samples)
        write_scp(work / "utt2spk", utt2spk)
        spk2utt: Dict[str, List[str]] = {}
        for utt, speaker in utt2spk.items():
            spk2utt.setdefault(speaker, []).append(utt)
        write_scp(work / "spk2utt", {spk: " ".join(utts) for spk, utts in sorted(spk2utt.items())})
    return {"kept": len(num_samples), "dropped_short": dropped}


def speakers_of(src: Path, utts) -> Dict[str, str]:
    """{utt: speaker} of ``utts`` from ``<src>/utt2spk`` (stage 1 writes the mixture's speakers,
    "<spk1>_<spk2>[_<spk3>]");
    each utterance is its own speaker where the data dir has no utt2spk.

    Raises:
        DataDirError: ``utt2spk`` lacks one of ``utts``.
    """
    if not (src / "utt2spk").is_file():
        return {utt: utt for utt in utts}
    speakers = read_scp(src / "utt2spk")
    missing = [utt for utt in utts if utt not in speakers]
    if missing:
        raise DataDirError(f"{src}/utt2spk has no speaker for {len(missing)} utterance(s), e.g. {missing[0]}")
    return {utt: speakers[utt] for utt in utts}


def main(cmd=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, required=True, help="prepared data dir (stage 1)")
    parser.add_argument("--dst", type=Path, required=True, help="dump dir to write")
    parser.add_argument("--fs", type=int, required=True, help="sample rate of the dump (Hz)")
    parser.add_argument("--min_seconds", type=float, default=0.0, help="drop shorter utterances")
    args = parser.parse_args(cmd)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    try:
        counts = format_data_dir(args.src, args.dst, args.fs, args.min_seconds)
    except (ValueError, OSError) as err:  # DataDirError, a malformed list, a full disk
        sys.exit(f"error: {err}")
    logging.info("%s -> %s: kept %d utterances, dropped %d shorter than %.2f s",
                 args.src, args.dst, counts["kept"], counts["dropped_short"], args.min_seconds)


if __name__ == "__main__":
    main()
