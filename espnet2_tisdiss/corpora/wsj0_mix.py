"""Prepare wsj0-2mix or wsj0-3mix data dirs, from a generated tree or by generating it from WSJ0.

A generated tree (the official scripts' output, or :mod:`.wsj0_mix_mixing`'s), N = 2 or 3::

    <root>/wav8k/min/{tr,cv,tt}/{mix,s1,...,sN}/<utt1>_<snr1>_..._<uttN>_<snrN>.wav
                                                                   (also wav16k, max)

``<root>`` may also be the folder that holds ``<N>speakers/wav8k``. Every mixture of a subset
becomes one utterance ``<spk1>_..._<spkN>_<file stem>`` (a WSJ0 speaker is the first three
characters of its utterance name) with references spk<j> = s<j>, in data dirs named after the
subsets (``<datadir>/{tr,cv,tt}``, see :mod:`.common` for the files). Before anything is
written, every file is checked to exist, be mono at the sample rate and match the mixture's
length, and a few mixtures to equal the sum of their sources.

    python -m espnet2_tisdiss.corpora.wsj0_mix --wsj0_mix ROOT --datadir data
    python -m espnet2_tisdiss.corpora.wsj0_mix --num_speakers 3 --wsj0 WSJ0 \\
        --mixing_lists_dir LISTS --generate_dir OUT --datadir data   # generate OUT/wav8k/min/... first
"""

import sys
from pathlib import Path
from typing import Dict, List, Sequence

from espnet2_tisdiss.corpora.common import (CorpusError, Mixture, checked, corpus_parser,
                                            find_dir, publish, run_cli, utt_id)
from espnet2_tisdiss.corpora.wsj0_mix_mixing import SUBSETS, generate, kinds, list_name


def tree_root(root: Path, sample_rate: int, num_speakers: int = 2) -> Path:
    """The ``wav8k``/``wav16k`` folder of a generated tree.

    Raises:
        CorpusError: neither ``<root>/wavNk`` nor ``<root>/<N>speakers/wavNk`` exists.
    """
    name = f"wav{sample_rate // 1000}k"
    return find_dir([root / name, root / f"{num_speakers}speakers" / name],
                    f"wsj0-{num_speakers}mix at {sample_rate} Hz",
                    f"Set WSJ0_{num_speakers}MIX in db.sh to the generated tree, or WSJ0 and "
                    f"WSJ0_{num_speakers}MIX_LISTS to generate it.")


def subset_mixtures(folder: Path, label: str, num_speakers: int = 2) -> List[Mixture]:
    """One :class:`Mixture` per wav in ``<folder>/mix``, references from ``s1/`` .. ``sN/``."""
    sources = kinds(num_speakers)[1:]
    for kind in kinds(num_speakers):
        if not (folder / kind).is_dir():
            raise CorpusError(f"{label}: folder {folder / kind} is missing.")
    mixtures = []
    for mix in sorted((folder / "mix").glob("*.wav")):
        parts = mix.stem.split("_")
        if len(parts) != 2 * num_speakers:
            pattern = "_".join(f"<utt{j}>_<snr{j}>" for j in range(1, num_speakers + 1))
            raise CorpusError(f"{label}: {mix.name} is not named {pattern}.wav "
                              f"(a {num_speakers}-speaker mixture)")
        speakers = [utt[:3] for utt in parts[0::2]]
        mixtures.append(Mixture(utt_id(mix.stem, *speakers), "_".join(speakers), mix,
                                tuple(folder / kind / mix.name for kind in sources)))
    if not mixtures:
        raise CorpusError(f"{label}: no wav files in {folder / 'mix'}.")
    return mixtures


def prepare(root: Path, datadir: Path, sample_rate: int = 8000, mode: str = "min",
            subsets: Sequence[str] = SUBSETS, num_speakers: int = 2) -> Dict[str, int]:
    """Write ``<datadir>/<subset>`` for every subset of a generated tree; returns the counts."""
    base = tree_root(root, sample_rate, num_speakers) / mode
    sets = {}
    for subset in subsets:
        label = f"wsj0-{num_speakers}mix {sample_rate} Hz {mode} {subset}"
        sets[subset] = checked(subset_mixtures(base / subset, label, num_speakers), sample_rate,
                               label, sums=True)
    return publish(datadir, sets)


def main(argv=None) -> int:
    """Command line (see the module docstring)."""
    parser = corpus_parser("espnet2_tisdiss.corpora.wsj0_mix", __doc__)
    parser.add_argument("--num_speakers", type=int, default=2, choices=(2, 3),
                        help="2: wsj0-2mix; 3: wsj0-3mix")
    parser.add_argument("--wsj0_mix", type=Path, help="root of a generated wsj0-2mix/3mix tree")
    parser.add_argument("--wsj0", type=Path, help="WSJ0 (the folder holding wsj0/), to generate")
    parser.add_argument("--mixing_lists_dir", type=Path,
                        help=f"folder with {list_name(2, '{tr,cv,tt}')} (or mix_3_...), to generate")
    parser.add_argument("--generate_dir", type=Path, help="where the generated tree goes")
    parser.add_argument("--nj", type=int, default=1, help="processes for generation")
    args = parser.parse_args(argv)
    generating = [args.wsj0, args.mixing_lists_dir, args.generate_dir]
    if (args.wsj0_mix is None) == all(g is None for g in generating):
        parser.error("give either --wsj0_mix, or --wsj0, --mixing_lists_dir and --generate_dir")
    if args.wsj0_mix is None and None in generating:
        parser.error("generation needs all of --wsj0, --mixing_lists_dir and --generate_dir")

    def generate_and_prepare() -> Dict[str, int]:
        if args.wsj0_mix is None:
            generate(args.wsj0, args.mixing_lists_dir, args.generate_dir, (args.sample_rate,),
                     (args.mode,), nj=args.nj, num_speakers=args.num_speakers)
        return prepare(args.wsj0_mix or args.generate_dir, args.datadir, args.sample_rate,
                       args.mode, num_speakers=args.num_speakers)

    return run_cli(parser.prog, args.datadir, generate_and_prepare)


if __name__ == "__main__":
    sys.exit(main())
