"""Stage 2: the source-level lists that dynamic mixing trains on.

Reads a formatted dump dir (``spk<j>.scp``, ``utt2spk`` with the speakers of a mixture
joined by "_", ``utt2num_samples``) and writes ``<dst>/`` with one line per source of
every mixture, the source id being ``<utt>_s<j>``:

    <dst>/spk1.scp           source id -> wav of that source (the dump dir's reference j)
    <dst>/utt2spk            source id -> its speaker (part j of the mixture's "_"-joined speakers)
    <dst>/spk2utt            speaker -> source ids
    <dst>/utt2num_samples    source id -> samples

ESPnet's dynamic mixing reads ``spk1.scp`` beside the training data it is given and
``--utt2spk`` (``espnet2_tisdiss.preprocessing.dynamic_mixing``). Written atomically, like
the dump dirs.

    python -m espnet2_tisdiss.stages.source_lists --src dump/train --dst dump/train_sources
"""

import argparse
import sys
from pathlib import Path
from typing import Dict, List

from espnet2_tisdiss.fileio.atomic_io import atomic_dir
from espnet2_tisdiss.fileio.kaldi_lists import read_scp, write_scp
from espnet2_tisdiss.stages.format_data import DataDirError


def reference_lists(src: Path) -> List[Path]:
    """``spk1.scp`` .. ``spkJ.scp`` of ``src``, in order."""
    lists = []
    while (src / f"spk{len(lists) + 1}.scp").is_file():
        lists.append(src / f"spk{len(lists) + 1}.scp")
    return lists


class NoSpeakerPairs(DataDirError):
    """The data dir's ``utt2spk`` does not give the speaker of every source."""


def sources_of(src: Path) -> Dict[str, Dict[str, str]]:
    """{list name: {source id: value}} for ``spk1.scp``, ``utt2spk`` and ``utt2num_samples``.

    Raises:
        DataDirError: a list is missing, or a mixture's speakers do not split into J.
    """
    refs = reference_lists(src)
    for name in ("utt2spk", "utt2num_samples"):
        if not (src / name).is_file():
            raise DataDirError(f"{src}/{name} does not exist; run stage 2 (formatting) first")
    if not refs:
        raise DataDirError(f"{src} has no spk1.scp; run stage 2 (formatting) first")
    paths = [read_scp(ref) for ref in refs]
    pairs, samples = read_scp(src / "utt2spk"), read_scp(src / "utt2num_samples")
    lists: Dict[str, Dict[str, str]] = {"spk1.scp": {}, "utt2spk": {}, "utt2num_samples": {}}
    for utt, pair in sorted(pairs.items()):
        speakers = pair.split("_")
        if len(speakers) != len(refs) or not all(speakers):
            raise NoSpeakerPairs(f"{src}/utt2spk: {utt} has speakers '{pair}', not {len(refs)} speaker ids joined "
                                 "by '_'; dynamic mixing needs the speaker of every source")
        for j, (speaker, ref) in enumerate(zip(speakers, paths), start=1):
            source = f"{utt}_s{j}"
            lists["spk1.scp"][source] = ref[utt]
            lists["utt2spk"][source] = speaker
            lists["utt2num_samples"][source] = samples[utt]
    return lists


def write_source_lists(src: Path, dst: Path) -> int:
    """Write ``dst`` from the dump dir ``src``; returns the number of sources."""
    lists = sources_of(src)
    spk2utt: Dict[str, List[str]] = {}
    for source, speaker in lists["utt2spk"].items():
        spk2utt.setdefault(speaker, []).append(source)
    with atomic_dir(dst) as tmp:
        for name, entries in lists.items():
            write_scp(tmp / name, entries)
        write_scp(tmp / "spk2utt", {spk: " ".join(keys) for spk, keys in sorted(spk2utt.items())})
    return len(lists["spk1.scp"])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, required=True, help="a formatted dump dir (stage 2)")
    parser.add_argument("--dst", type=Path, required=True, help="the source lists' dir to write")
    parser.add_argument("--if_speakers_known", action="store_true",
                        help="without speaker pairs in utt2spk, say so and write nothing (exit 0)")
    args = parser.parse_args(argv)
    try:
        count = write_source_lists(args.src, args.dst)
    except NoSpeakerPairs as err:
        if not args.if_speakers_known:
            sys.exit(f"error: {err}")
        print(f"note: no source lists for dynamic mixing in {args.dst}: {err}")
        return 0
    except (DataDirError, OSError) as err:
        sys.exit(f"error: {err}")
    print(f"{args.src} -> {args.dst}: {count} sources")
    return 0


if __name__ == "__main__":
    main()
