"""Dynamic mixing for training: ESPnet's preprocessor, with distinct speakers and crops.

ESPnet's ``DynamicMixingPreprocessor`` remixes every training example on the fly: the
example's own source (``speech_ref1``, read from the source list the training data points
at) plus ``ref_num - 1`` sources drawn from the same list, each scaled by a random gain of
up to +-``dynamic_mixing_gain_db`` dB, summed into ``speech_mix``. Its draws come from
Python's ``random``, which ESPnet's trainer reseeds with ``seed + epoch`` at every epoch,
so the mixtures change from epoch to epoch and are reproducible.

:class:`SpeakerDistinctDynamicMixing` (``preprocessor: dynamic_mixing_crop``) keeps that and
changes two things:

- the partners are drawn only among the sources of speakers not yet in the mixture (ESPnet's
  gives up after ten tries and accepts a repeated speaker); a source list with fewer than
  ``ref_num`` speakers is refused when the preprocessor is built;
- with ``speech_segment`` set, every signal of a training mixture is cut to one random
  window of that many samples (as the ``enh`` preprocessor crops the stored mixtures).

Validation and test data are left as they are (``train=False``).
"""

import random
from typing import Dict, List, Optional, Union

import numpy as np
from espnet2.train.preprocessor import DynamicMixingPreprocessor

PREPROCESSOR_NAME = "dynamic_mixing_crop"


class SpeakerDistinctDynamicMixing(DynamicMixingPreprocessor):
    """Dynamic mixing of ``ref_num`` sources of distinct speakers, cropped to ``speech_segment``.

    Args:
        train: mix (and crop) only when True.
        source_scp: the source list, ``<source id> <wav path>`` per line.
        utt2spk: ``<source id> <speaker id>`` per line (required: it defines "distinct").
        ref_num: sources per mixture (J).
        dynamic_mixing_gain_db: each source is scaled by 10^(g/20), g uniform in [-this, this].
        speech_segment: training crop length in samples; None keeps the whole source.

    Raises:
        ValueError: no ``utt2spk``, or fewer than ``ref_num`` speakers in the source list.
    """

    def __init__(self, train: bool, source_scp: str, utt2spk: Optional[str], ref_num: int = 2,
                 dynamic_mixing_gain_db: float = 0.0, speech_segment: Optional[int] = None, **kwargs):
        if utt2spk is None:
            raise ValueError("dynamic mixing needs --utt2spk (source id -> speaker) to keep the speakers of "
                             "a mixture distinct; stage 2 writes it beside the source list")
        super().__init__(train, source_scp=source_scp, ref_num=ref_num,
                         dynamic_mixing_gain_db=dynamic_mixing_gain_db, utt2spk=utt2spk, **kwargs)
        self.speech_segment = speech_segment
        self.sources_of: Dict[str, List[str]] = {}
        for key in self.source_keys:
            self.sources_of.setdefault(self.utt2spk[key], []).append(key)
        if len(self.sources_of) < ref_num:
            raise ValueError(f"dynamic mixing of {ref_num} speakers needs sources of at least {ref_num} "
                             f"speakers; {source_scp} has {len(self.sources_of)}")

    def _pick_source_utterances_(self, uid: str) -> List[str]:
        """``ref_num - 1`` source ids, each of a speaker not yet in the mixture of ``uid``."""
        speakers = {self.utt2spk[uid]}
        picked = []
        while len(picked) < self.ref_num - 1:
            for _ in range(20):  # uniform over the sources of the other speakers, by rejection
                key = random.choice(self.source_keys)
                if self.utt2spk[key] not in speakers:
                    break
            else:  # a few speakers hold most sources: draw from the others' sources directly
                key = random.choice([k for spk, keys in self.sources_of.items() if spk not in speakers
                                     for k in keys])
            speakers.add(self.utt2spk[key])
            picked.append(key)
        return picked

    def __call__(self, uid: str, data: Dict[str, Union[str, np.ndarray]]) -> Dict[str, np.ndarray]:
        data = super().__call__(uid, data)
        if not self.train or self.speech_segment is None:
            return data
        length = len(data[self.speech_name])
        if length <= self.speech_segment:
            return data
        start = random.randint(0, length - self.speech_segment)
        names = [self.speech_name] + [f"{self.speech_ref_name_prefix}{j + 1}" for j in range(self.ref_num)]
        for name in names:
            data[name] = data[name][start:start + self.speech_segment]
        return data
