"""Prepare wsj0-2mix data dirs, from a generated tree or by generating it from WSJ0.

A generated tree (the official scripts' output, or :mod:`.wsj0_2mix_mixing`'s)::

    <root>/wav8k/min/{tr,cv,tt}/{mix,s1,s2}/<utt1>_<snr1>_<utt2>_<snr2>.wav   (also wav16k, max)

``<root>`` may also be the folder that holds ``2speakers/wav8k``. Every mixture of a subset
becomes one utterance ``<spk1>_<spk2>_<file stem>`` (a WSJ0 speaker is the first three
characters of its utterance name) with references spk1 = s1, spk2 = s2, in data dirs named
after the subsets (``<datadir>/{tr,cv,tt}``, see :mod:`.common` for the files). Before anything
is written, every file is checked to exist, be mono at the sample rate and match the
mixture's length, and a few mixtures to equal s1 + s2.

    python -m espnet2_tisdiss.corpora.wsj0_2mix --wsj0_2mix ROOT --datadir data
    python -m espnet2_tisdiss.corpora.wsj0_2mix --wsj0 WSJ0 --mixing_lists_dir LISTS \\
        --generate_dir OUT --datadir data        # generate OUT/wav8k/min/... first
"""

import sys
from pathlib import Path
from typing import Dict, List, Sequence

from espnet2_tisdiss.corpora.common import (CorpusError, Mixture, checked, corpus_parser,
                                            find_dir, publish, run_cli, utt_id)
from espnet2_tisdiss.corpora.wsj0_2mix_mixing import SUBSETS, generate

KINDS = ("mix", "s1", "s2")


def tree_root(root: Path, sample_rate: int) -> Path:
    """The ``wav8k``/``wav16k`` folder of a generated tree.

    Raises:
        CorpusError: neither ``<root>/wavNk`` nor ``<root>/2speakers/wavNk`` exists.
    """
    name = f"wav{sample_rate // 1000}k"
    return find_dir([root / name, root / "2speakers" / name], f"wsj0-2mix at {sample_rate} Hz",
                    "Set WSJ0_2MIX in db.sh to the generated tree, or WSJ0 and WSJ0_2MIX_LISTS "
                    "to generate it.")


def subset_mixtures(folder: Path, label: str) -> List[Mixture]:
    """One :class:`Mixture` per wav in ``<folder>/mix``, references from ``s1/`` and ``s2/``."""
    for kind in KINDS:
        if not (folder / kind).is_dir():
            raise CorpusError(f"{label}: folder {folder / kind} is missing.")
    mixtures = []
    for mix in sorted((folder / "mix").glob("*.wav")):
        parts = mix.stem.split("_")
        if len(parts) != 4:
            raise CorpusError(f"{label}: {mix.name} is not named <utt1>_<snr1>_<utt2>_<snr2>.wav")
        spk1, spk2 = parts[0][:3], parts[2][:3]
        mixtures.append(Mixture(utt_id(mix.stem, spk1, spk2), f"{spk1}_{spk2}", mix,
                                (folder / "s1" / mix.name, folder / "s2" / mix.name)))
    if not mixtures:
        raise CorpusError(f"{label}: no wav files in {folder / 'mix'}.")
    return mixtures


def prepare(root: Path, datadir: Path, sample_rate: int = 8000, mode: str = "min",
            subsets: Sequence[str] = SUBSETS) -> Dict[str, int]:
    """Write ``<datadir>/<subset>`` for every subset of a generated tree; returns the counts."""
    base = tree_root(root, sample_rate) / mode
    sets = {}
    for subset in subsets:
        label = f"wsj0-2mix {sample_rate} Hz {mode} {subset}"
        sets[subset] = checked(subset_mixtures(base / subset, label), sample_rate, label, sums=True)
    return publish(datadir, sets)


def main(argv=None) -> int:
    """Command line (see the module docstring)."""
    parser = corpus_parser("espnet2_tisdiss.corpora.wsj0_2mix", __doc__)
    parser.add_argument("--wsj0_2mix", type=Path, help="root of a generated wsj0-2mix tree")
    parser.add_argument("--wsj0", type=Path, help="WSJ0 (the folder holding wsj0/), to generate")
    parser.add_argument("--mixing_lists_dir", type=Path,
                        help="folder with mix_2_spk_{tr,cv,tt}.txt, to generate")
    parser.add_argument("--generate_dir", type=Path, help="where the generated tree goes")
    parser.add_argument("--nj", type=int, default=1, help="processes for generation")
    args = parser.parse_args(argv)
    generating = [args.wsj0, args.mixing_lists_dir, args.generate_dir]
    if (args.wsj0_2mix is None) == all(g is None for g in generating):
        parser.error("give either --wsj0_2mix, or --wsj0, --mixing_lists_dir and --generate_dir")
    if args.wsj0_2mix is None and None in generating:
        parser.error("generation needs all of --wsj0, --mixing_lists_dir and --generate_dir")

    def generate_and_prepare() -> Dict[str, int]:
        if args.wsj0_2mix is None:
            generate(args.wsj0, args.mixing_lists_dir, args.generate_dir, (args.sample_rate,),
                     (args.mode,), nj=args.nj)
        return prepare(args.wsj0_2mix or args.generate_dir, args.datadir, args.sample_rate, args.mode)

    return run_cli(parser.prog, args.datadir, generate_and_prepare)


if __name__ == "__main__":
    sys.exit(main())
