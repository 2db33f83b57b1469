"""Prepare Libri2Mix or Libri3Mix data dirs (clean or noisy), from a generated tree or from
LibriSpeech + WHAM!.

A generated tree (LibriMix's scripts, or :mod:`.librimix_mixing`), N = 2 or 3::

    <root>/Libri<N>Mix/wav8k/min/{train-360,train-100,dev,test}/{mix_clean,mix_both,s1,...,sN,noise}/<id>.wav
    <root>/Libri<N>Mix/wav8k/min/metadata/mixture_<subset>_mix_{clean,both}.csv

(``<root>`` may also be ``Libri<N>Mix`` itself; also ``wav16k`` and ``max``). The metadata CSV
lists the mixtures of a subset (``mixture_ID``, ``length``, ...); the files are looked up in
the tree by id, so a moved tree works. ``--mix_type clean`` separates ``mix_clean``
(= s1 + ... + sN), ``both`` the noisy ``mix_both`` (= mix_clean + noise); the references are
s1 .. sN either way. Data dirs: ``train`` (the ``--train_subsets``, joined), ``dev``, ``test``;
utterance ``<spk1>_..._<spkN>_<mixture_ID>`` (LibriSpeech speakers from
``<spk>-<chapter>-<utt>``).

    python -m espnet2_tisdiss.corpora.librimix --librimix ROOT --datadir data
    python -m espnet2_tisdiss.corpora.librimix --num_speakers 3 --librispeech LS --wham_noise WHAM \\
        --metadata_dir LibriMix/metadata/Libri3Mix --generate_dir OUT --datadir data
"""

import csv
import sys
from pathlib import Path
from typing import Dict, List, Sequence

from espnet2_tisdiss.corpora.common import (CorpusError, Mixture, checked, corpus_parser,
                                            find_dir, publish, run_cli, utt_id)
from espnet2_tisdiss.corpora.librimix_mixing import corpus_name, generate, source_folders

MIX_TYPES = ("clean", "both")
TRAIN_SUBSETS = ("train-100", "train-360")


def tree_root(root: Path, sample_rate: int, mode: str, num_speakers: int = 2) -> Path:
    """``.../Libri<N>Mix/wavNk/<mode>`` of a generated tree.

    Raises:
        CorpusError: not found under ``<root>/Libri<N>Mix`` nor ``<root>``.
    """
    name = corpus_name(num_speakers)
    tail = Path(f"wav{sample_rate // 1000}k") / mode
    return find_dir([root / name / tail, root / tail],
                    f"{name} at {sample_rate} Hz, mode {mode}", "Set LIBRIMIX in db.sh to the "
                    "generated tree, or LIBRISPEECH, WHAM_NOISE and LIBRIMIX_METADATA.")


def read_metadata(path: Path) -> List[Dict[str, str]]:
    """Rows of a LibriMix CSV as dicts; a :class:`CorpusError` if it is missing or empty."""
    if not path.is_file():
        raise CorpusError(f"LibriMix metadata file {path} is missing.")
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows or "mixture_ID" not in rows[0]:
        raise CorpusError(f"{path} has no mixture_ID rows.")
    return rows


def subset_mixtures(base: Path, subset: str, mix_type: str, label: str,
                    num_speakers: int = 2) -> List[Mixture]:
    """The mixtures of one subset, by its metadata CSV, with their files in the tree."""
    folder = base / subset
    mix_dir = f"mix_{mix_type}"
    sources = source_folders(num_speakers)
    for name in [mix_dir, *sources] + (["noise"] if mix_type == "both" else []):
        if not (folder / name).is_dir():
            raise CorpusError(f"{label}: folder {folder / name} is missing.")
    mixtures = []
    for row in read_metadata(base / "metadata" / f"mixture_{subset}_{mix_dir}.csv"):
        mix_id = row["mixture_ID"]
        utterances = mix_id.split("_")
        if len(utterances) != num_speakers:
            raise CorpusError(f"{label}: mixture_ID {mix_id} does not name {num_speakers} "
                              "LibriSpeech utterances joined by '_'.")
        speakers = [utterance.split("-")[0] for utterance in utterances]
        file = f"{mix_id}.wav"
        others = (folder / "noise" / file,) if mix_type == "both" else ()
        mixtures.append(Mixture(utt_id(mix_id, *speakers), "_".join(speakers), folder / mix_dir / file,
                                tuple(folder / s / file for s in sources), others))
    return mixtures


def prepare(root: Path, datadir: Path, sample_rate: int = 8000, mode: str = "min",
            mix_type: str = "clean", train_subsets: Sequence[str] = ("train-360",),
            num_speakers: int = 2) -> Dict[str, int]:
    """Write ``<datadir>/{train,dev,test}`` from a generated tree; returns the counts."""
    base = tree_root(root, sample_rate, mode, num_speakers)
    groups = {"train": list(train_subsets), "dev": ["dev"], "test": ["test"]}
    sets = {}
    for name, subsets in groups.items():
        sets[name] = []
        for subset in subsets:
            label = f"{corpus_name(num_speakers)} {sample_rate} Hz {mode} {subset} mix_{mix_type}"
            sets[name] += checked(subset_mixtures(base, subset, mix_type, label, num_speakers),
                                  sample_rate, label, sums=True)
    return publish(datadir, sets)


def main(argv=None) -> int:
    """Command line (see the module docstring)."""
    parser = corpus_parser("espnet2_tisdiss.corpora.librimix", __doc__)
    parser.add_argument("--num_speakers", type=int, default=2, choices=(2, 3),
                        help="2: Libri2Mix; 3: Libri3Mix")
    parser.add_argument("--librimix", type=Path, help="root of a generated LibriMix tree")
    parser.add_argument("--librispeech", type=Path, help="LibriSpeech (holds train-clean-360/ ...)")
    parser.add_argument("--wham_noise", type=Path, help="wham_noise (holds tr/ cv/ tt/)")
    parser.add_argument("--metadata_dir", type=Path, help="LibriMix's metadata/Libri2Mix (or Libri3Mix) folder")
    parser.add_argument("--generate_dir", type=Path, help="where the generated tree goes")
    parser.add_argument("--mix_type", default="clean", choices=MIX_TYPES,
                        help="clean: mix_clean; both: mix_both (speech + WHAM! noise)")
    parser.add_argument("--train_subsets", nargs="+", default=["train-360"], choices=TRAIN_SUBSETS)
    parser.add_argument("--nj", type=int, default=1, help="processes for generation")
    args = parser.parse_args(argv)
    generating = [args.librispeech, args.wham_noise, args.metadata_dir, args.generate_dir]
    if (args.librimix is None) == all(g is None for g in generating):
        parser.error("give either --librimix, or --librispeech, --wham_noise, --metadata_dir "
                     "and --generate_dir")
    if args.librimix is None and None in generating:
        parser.error("generation needs --librispeech, --wham_noise, --metadata_dir and --generate_dir")

    def generate_and_prepare() -> Dict[str, int]:
        if args.librimix is None:
            generate(args.librispeech, args.wham_noise, args.metadata_dir, args.generate_dir,
                     args.sample_rate, args.mode, [*args.train_subsets, "dev", "test"], nj=args.nj,
                     num_speakers=args.num_speakers)
        return prepare(args.librimix or args.generate_dir, args.datadir, args.sample_rate,
                       args.mode, args.mix_type, args.train_subsets, args.num_speakers)

    return run_cli(parser.prog, args.datadir, generate_and_prepare)


if __name__ == "__main__":
    sys.exit(main())
