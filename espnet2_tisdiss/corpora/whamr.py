"""Prepare WHAMR! data dirs from a generated tree: reverberant (noisy) mixtures, anechoic targets.

The tree that the official WHAMR! scripts write::

    <root>/wav8k/min/{tr,cv,tt}/{mix_both_reverb,mix_single_reverb,mix_clean_reverb,
                                 s1_anechoic,s2_anechoic,s1_reverb,s2_reverb,noise,...}/<name>.wav

(``<root>`` may also be the folder that holds ``whamr/``; also ``wav16k`` and ``max``). File
names are wsj0-2mix's. As in the paper, the mixture is ``mix_<mix_type>`` (default
``both_reverb``: two reverberant speakers plus WHAM! noise) and the references are the
anechoic ``s1_anechoic`` and ``s2_anechoic``, so the model separates, denoises and
dereverberates at once. ``mix_single_*`` (speaker 1 alone plus noise) is refused: it is
WHAMR!'s enhancement task, not separation. Data dirs ``<datadir>/{tr,cv,tt}``; utterance ids as in
:mod:`.wsj0_mix`. No sum check: the mixture is reverberant and the targets are not.

Generating WHAMR! needs its room simulation (the official ``whamr_scripts`` with
pyroomacoustics and the WHAMR! reverberation parameters); that is not done here: generate
the tree with those scripts, then point WHAMR at it.

    python -m espnet2_tisdiss.corpora.whamr --whamr ROOT --datadir data
"""

import sys
from pathlib import Path
from typing import Dict, List, Sequence

from espnet2_tisdiss.corpora.common import (CorpusError, Mixture, checked, corpus_parser,
                                            find_dir, publish, run_cli, utt_id)

SUBSETS = ("tr", "cv", "tt")
MIX_TYPES = ("both_reverb", "clean_reverb")  # the two-speaker mixtures
SINGLE_SPEAKER_TYPES = ("single_reverb", "single_anechoic")  # WHAMR!'s enhancement task


def check_mix_type(mix_type: str) -> None:
    """Refuse mixtures that are not two-speaker separation tasks, saying why."""
    if mix_type in SINGLE_SPEAKER_TYPES:
        raise CorpusError(
            f"mix_{mix_type} holds speaker 1 alone (plus WHAM! noise): it is WHAMR!'s single-speaker "
            "enhancement task, and pairing it with two references would train the model to invent a "
            f"second speaker. For two-speaker separation use --mix_type {' or '.join(MIX_TYPES)}.")
    if mix_type not in MIX_TYPES:
        raise CorpusError(f"unknown WHAMR! mix_type {mix_type!r}; use one of {', '.join(MIX_TYPES)}.")
TARGETS = ("s1_anechoic", "s2_anechoic")


def tree_root(root: Path, sample_rate: int, mode: str) -> Path:
    """``<root>/wavNk/<mode>`` (or under ``<root>/whamr``) of a generated tree."""
    tail = Path(f"wav{sample_rate // 1000}k") / mode
    return find_dir([root / tail, root / "whamr" / tail], f"WHAMR! at {sample_rate} Hz, mode {mode}",
                    "Set WHAMR in db.sh to the tree written by the official WHAMR! scripts.")


def subset_mixtures(folder: Path, mix_type: str, label: str) -> List[Mixture]:
    """One :class:`Mixture` per wav of ``mix_<mix_type>``, with the anechoic targets."""
    mix_dir = folder / f"mix_{mix_type}"
    for path in (mix_dir, *(folder / t for t in TARGETS)):
        if not path.is_dir():
            raise CorpusError(f"{label}: folder {path} is missing.")
    mixtures = []
    for mix in sorted(mix_dir.glob("*.wav")):
        parts = mix.stem.split("_")
        if len(parts) != 4:
            raise CorpusError(f"{label}: {mix.name} is not named <utt1>_<snr1>_<utt2>_<snr2>.wav")
        spk1, spk2 = parts[0][:3], parts[2][:3]
        mixtures.append(Mixture(utt_id(mix.stem, spk1, spk2), f"{spk1}_{spk2}", mix,
                                tuple(folder / t / mix.name for t in TARGETS)))
    if not mixtures:
        raise CorpusError(f"{label}: no wav files in {mix_dir}.")
    return mixtures


def prepare(root: Path, datadir: Path, sample_rate: int = 8000, mode: str = "min",
            mix_type: str = "both_reverb", subsets: Sequence[str] = SUBSETS) -> Dict[str, int]:
    """Write ``<datadir>/<subset>`` for every subset; returns the counts."""
    check_mix_type(mix_type)
    base = tree_root(root, sample_rate, mode)
    sets = {}
    for subset in subsets:
        label = f"WHAMR! {sample_rate} Hz {mode} {subset} mix_{mix_type}"
        sets[subset] = checked(subset_mixtures(base / subset, mix_type, label), sample_rate, label,
                               sums=False)  # reverberant mixture, anechoic targets
    return publish(datadir, sets)


def main(argv=None) -> int:
    """Command line (see the module docstring)."""
    parser = corpus_parser("espnet2_tisdiss.corpora.whamr", __doc__)
    parser.add_argument("--whamr", type=Path, required=True, help="root of a generated WHAMR! tree")
    parser.add_argument("--mix_type", default="both_reverb",
                        help=f"{' or '.join(MIX_TYPES)} (the single-speaker mixtures are refused)")
    args = parser.parse_args(argv)
    return run_cli(parser.prog, args.datadir,
                   lambda: prepare(args.whamr, args.datadir, args.sample_rate, args.mode, args.mix_type))


if __name__ == "__main__":
    sys.exit(main())
