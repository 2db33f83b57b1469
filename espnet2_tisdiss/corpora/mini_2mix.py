"""Synthesise ``mini_2mix``: a small two-speaker mixture corpus in the style of WSJ0-2mix (or,
with ``--num_speakers 3``, its three-speaker sibling in the style of WSJ0-3mix).

Reads nothing from the network: speech comes from eSpeak NG, whose library and voice data
ship in the ``espeakng-loader`` wheel (``pip install espeakng-loader``), driven through its
C API with ctypes. A speaker is an accent plus an eSpeak voice variant
(``en-us+m3``) with its own base pitch, pitch range and speaking rate; each utterance
varies them a little around the base, as a person's voice does. Variants that are
near-copies of each other form a family; a family belongs to one split only, so no dev or
test voice is heard in training.

A mixture takes J (2 or 3) seeded sentence-like word sequences (``mini_2mix_text``; about
1-5 s) spoken by J different speakers of one split, synthesised at 22050 Hz, trimmed of
silence, resampled to ``fs``, cut to the shortest one ("min" mode, and to ``max_seconds``)
and set to equal RMS. With two speakers s1 then gets +snr/2 dB and s2 -snr/2 dB, the level
ratio snr being U[0, 5] dB as in WSJ0-2mix (U[0, 8] dB in training, for more variety of
relative levels); with three, each source gets its own gain, U[-m/2, m/2] dB for the same
bound m. mix = s1 + ... + sJ, all scaled together so that no peak exceeds 0.9.

Splits: ``train``, ``dev`` and ``test`` use the six ``SEEN_ACCENTS`` and the ``seen``
lexicon; ``test_unseen`` has the test split's voice variants in four accents and with
words that training never uses (``UNSEEN_ACCENTS``, the ``unseen`` lexicon). Writes, for
each split::

    <output_dir>/wav/<split>/<utt>_{mix,s1,...,sJ}.wav    16-bit PCM, mix == s1 + ... + sJ exactly
    <output_dir>/<split>/{wav.scp,spk1.scp,...,spkJ.scp,utt2spk,spk2utt}    sorted by utt id

The same arguments give byte-identical files. libespeak-ng keeps synthesis state (such as
its flutter phase) in C statics that no API call resets, so every block of mixtures is made
in a fresh process, and a block's audio depends on nothing but its own plan.

    python -m espnet2_tisdiss.corpora.mini_2mix --output_dir DIR --n_train N --n_dev N --n_test N \
        --n_test_unseen N [--num_speakers 3]
"""

from __future__ import annotations

import argparse
import ctypes
import multiprocessing
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from tqdm import tqdm

from espnet2_tisdiss.corpora.mini_2mix_text import sentence

SPLITS = ("train", "dev", "test", "test_unseen")
BLOCK = 100  # mixtures made by one fresh worker process
LEVEL_RMS = 0.05  # RMS of each source before its gain
PEAK = 0.9
_SPEAKER_SEED = 2024  # the speaker inventory is fixed, whatever the corpus seed

# Voice variants (files in espeak-ng-data/voices/!v); "a/b" joins near-copies into a family.
# Left out: klatt/speechPlayer voices (libc rand()), heavy echo, whisper, croak and the like.
_FAMILIES = {
    "train": """f2/f5 f4/aunty/belinda/linda steph/steph2/steph3 zac Alicia Nguyen/m7/m8
                anika/Diogo/Henrique/Hugo/michel/miguel AnxiousAndy/john/norbert/pedro
                Mario/Michael/gustave iven/iven2/iven3/iven4 Gene/Gene2 m2 m5 Andy Lee Marco
                Mike antonio ed marcelo max paul robert sandro victor pablo""",
    "dev": "f1 Andrea shelby m1 m4 Denis boris quincy",
    "test": "f3 Annie grandma m3 m6 Alex kaukovalta Jacky travis",
}
_FAMILIES["test_unseen"] = _FAMILIES["test"]  # the test voices, in accents training never uses
SEEN_ACCENTS = {"us": "en-us", "gb": "en", "sc": "en-gb-scotland", "rp": "en-gb-x-rp",
                "cb": "en-029", "ny": "en-us-nyc"}
# Lancashire and West Midlands English, and English words read with Afrikaans and Dutch rules.
UNSEEN_ACCENTS = {"la": "en-gb-x-gbclan", "wm": "en-gb-x-gbcwmd", "af": "af", "nl": "nl"}
_SPLIT_ACCENTS = {"train": (SEEN_ACCENTS, 3), "dev": (SEEN_ACCENTS, 2), "test": (SEEN_ACCENTS, 2),
                  "test_unseen": (UNSEEN_ACCENTS, 2)}  # (accents, how many per variant)
_SPLIT_LEXICON = {"train": "seen", "dev": "seen", "test": "seen", "test_unseen": "unseen"}
_SPLIT_SNR_DB = {"train": 8.0, "dev": 5.0, "test": 5.0, "test_unseen": 5.0}  # level ratio bound, dB (see source_gains_db)
_PROSODY = ((15, 86), (20, 101), (120, 221))  # [lo, hi) of espeakPITCH, espeakRANGE, espeakRATE
_PROSODY_JITTER = (8, 15, 0.12)  # per utterance: pitch +-8, range +-15, rate x (1 +- 0.12)
_SECONDS = (1.0, 5.0)  # spoken length drawn per utterance, before the "min" cut
_WORDS_PER_MINUTE_SCALE = 1.08  # eSpeak says these words a little faster than its rate


# Values from eSpeak NG's speak_lib.h (API revision 12).
_AUDIO_OUTPUT_SYNCHRONOUS = 2  # espeak_AUDIO_OUTPUT: retrieval, returns when synthesis ends
_POS_CHARACTER = 1  # espeak_POSITION_TYPE
_CHARS_UTF8 = 1
_RATE, _VOLUME, _PITCH, _RANGE = 1, 2, 3, 4  # espeak_PARAMETER
# int SynthCallback(short *wav, int numsamples, espeak_EVENT *events); events are not read.
_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.c_void_p)


class EspeakUnavailable(RuntimeError):
    """eSpeak NG (the espeakng-loader wheel) cannot be loaded or lacks what is needed."""


@dataclass(frozen=True)
class Speaker:
    """A synthetic voice: eSpeak voice name (accent+variant) and its prosody settings."""

    spk_id: str
    voice: str
    pitch: int  # espeakPITCH 0-100; 50 keeps the variant's own base pitch
    pitch_range: int  # espeakRANGE 0-100; 0 is monotone
    rate: int  # espeakRATE, words per minute


def variants(split: str) -> list[str]:
    """The eSpeak voice variants of a split."""
    return [v for family in _FAMILIES[split].split() for v in family.split("/")]


def build_speakers() -> dict[str, list[Speaker]]:
    """The fixed speaker inventory per split: each variant in a few accents, disjoint splits."""
    speakers: dict[str, list[Speaker]] = {}
    for split in SPLITS:
        rng = np.random.default_rng([_SPEAKER_SEED, SPLITS.index(split)])
        accents, per_variant = _SPLIT_ACCENTS[split]
        codes = list(accents)
        speakers[split] = []
        for variant in variants(split):
            for c in sorted(rng.choice(len(codes), size=per_variant, replace=False)):
                pitch, pitch_range, rate = (int(rng.integers(lo, hi)) for lo, hi in _PROSODY)
                voice = f"{accents[codes[c]]}+{variant}"
                speakers[split].append(
                    Speaker(f"{variant.lower()}-{codes[c]}", voice, pitch, pitch_range, rate))
    return speakers


def espeak_paths() -> tuple[str, str]:
    """(library file, data dir) from espeakng-loader, checked to hold every variant used."""
    try:
        import espeakng_loader

        lib, data = espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
    except Exception as exc:  # ImportError, or its RuntimeError when the data is missing
        raise EspeakUnavailable(f"cannot load eSpeak NG via espeakng-loader ({exc}); "
                                "install it with: pip install espeakng-loader") from exc
    voice_dir = Path(data) / "voices" / "!v"
    missing = [v for split in SPLITS for v in variants(split) if not (voice_dir / v).is_file()]
    if not Path(lib).is_file() or missing:
        raise EspeakUnavailable(f"espeakng-loader is incomplete: library {lib}, missing voice "
                                f"variants {missing} in {voice_dir}")
    return lib, data


class Espeak:
    """libespeak-ng in synchronous retrieval mode. The library is global: use ``get()``."""

    _instance: Espeak | None = None

    def __init__(self) -> None:
        lib_path, data = espeak_paths()
        try:
            lib = ctypes.CDLL(lib_path)
            lib.espeak_ng_SetRandSeed.argtypes = [ctypes.c_long]  # eSpeak NG >= 1.52
        except (OSError, AttributeError) as exc:
            raise EspeakUnavailable(f"cannot use {lib_path}: {exc}") from exc
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self.rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, data.encode(), 0)
        if self.rate <= 0:
            raise EspeakUnavailable(f"espeak_Initialize failed with data dir {data}")
        self._chunks: list[bytes] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # C keeps only the pointer
        lib.espeak_SetSynthCallback(self._callback)
        self.lib = lib

    @classmethod
    def get(cls) -> Espeak:
        """The process-wide engine, initialised on first use."""
        if cls._instance is None:
            cls._instance = cls()
        return cls._instance

    def _collect(self, wav, numsamples, _events) -> int:
        if wav and numsamples > 0:
            self._chunks.append(ctypes.string_at(wav, 2 * numsamples))
        return 0  # go on

    def synth(self, speaker: Speaker, text: str, seed: int, volume: int = 50) -> np.ndarray:
        """int16 samples at ``self.rate`` of ``text`` spoken by ``speaker``."""
        lib = self.lib
        if lib.espeak_SetVoiceByName(speaker.voice.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice {speaker.voice!r}")
        # Parameters outlive voice changes, so all of them are set for every utterance.
        for param, value in ((_RATE, speaker.rate), (_PITCH, speaker.pitch),
                             (_RANGE, speaker.pitch_range), (_VOLUME, volume)):
            lib.espeak_SetParameter(param, value, 0)
        lib.espeak_ng_SetRandSeed(seed)  # otherwise seeded from the clock
        self._chunks = []
        data = text.encode() + b"\0"
        err = lib.espeak_Synth(data, len(data), 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        if err != 0:
            raise RuntimeError(f"espeak_Synth failed ({err}) for {speaker.voice!r}")
        return np.frombuffer(b"".join(self._chunks), dtype=np.int16)


def speech(engine: Espeak, speaker: Speaker, text: str, seed: int, fs: int) -> np.ndarray:
    """float32 speech at ``fs``: synthesised (quieter if it clipped), trimmed, resampled."""
    volume = 50
    for _ in range(4):
        pcm = engine.synth(speaker, text, seed, volume).astype(np.float32) / 32768
        if np.abs(pcm).max() < 0.98:
            break
        volume = volume * 2 // 3
    loud = np.flatnonzero(np.abs(pcm) > 0.01 * np.abs(pcm).max())
    if loud.size == 0:
        raise RuntimeError(f"eSpeak NG gave silence for {speaker.voice!r}: {text!r}")
    pad = engine.rate // 100  # keep 10 ms either side
    x = pcm[max(loud[0] - pad, 0):loud[-1] + pad + 1]
    return x if fs == engine.rate else soxr.resample(x, engine.rate, fs).astype(np.float32)


def mix_sources(sources: list[np.ndarray], gains_db: list[float],
                max_len: int | None = None) -> list[np.ndarray]:
    """The sources as int16, WSJ0-mix "min" mode: each at RMS ``LEVEL_RMS`` times its gain
    in dB, all cut to the shortest, scaled together so that no peak (nor the mix's) exceeds 0.9."""
    n = min(*(len(x) for x in sources), max_len or len(sources[0]))
    scaled = [x[:n].astype(np.float64) for x in sources]
    for s, db in zip(scaled, gains_db):
        rms = np.sqrt(np.mean(s**2))
        if rms == 0:
            raise RuntimeError("a source is silent after truncation")
        s *= LEVEL_RMS * 10 ** (db / 20) / rms
    peak = max(np.abs(sum(scaled)).max(), *(np.abs(s).max() for s in scaled))
    scale = 32767 * min(1.0, PEAK / peak)
    return [np.round(s * scale).astype(np.int16) for s in scaled]


def source_gains_db(rng: np.random.Generator, num_speakers: int, bound_db: float) -> list[float]:
    """Gains in dB of a mixture's sources: +-snr/2 with snr ~ U[0, bound] for two speakers
    (WSJ0-2mix's level ratio), each U[-bound/2, bound/2] for more."""
    if num_speakers == 2:
        snr = float(rng.uniform(0.0, bound_db))
        return [snr / 2, -snr / 2]
    return [float(g) for g in rng.uniform(-bound_db / 2, bound_db / 2, num_speakers)]


def _utterance_voice(rng: np.random.Generator, spk: Speaker) -> Speaker:
    """``spk`` with this utterance's pitch, range and rate drawn around its base."""
    d_pitch, d_range, d_rate = _PROSODY_JITTER
    return replace(spk, pitch=int(np.clip(spk.pitch + rng.integers(-d_pitch, d_pitch + 1), 0, 100)),
                   pitch_range=int(np.clip(spk.pitch_range + rng.integers(-d_range, d_range + 1),
                                           0, 100)),
                   rate=int(round(spk.rate * rng.uniform(1 - d_rate, 1 + d_rate))))


def _plan(split: str, speakers: list[Speaker], n: int, seed: int, num_speakers: int = 2) -> list[tuple]:
    """Seeded (utt_id, source gains in dB, [(speaker, text, synth_seed)] * J) for the mixtures
    of a split."""
    rng = np.random.default_rng([seed, SPLITS.index(split)])  # a split ignores the others' sizes
    jobs = []
    for i in range(n):
        utts = []
        for k in rng.choice(len(speakers), size=num_speakers, replace=False):
            spk = _utterance_voice(rng, speakers[k])
            words = max(2, round(rng.uniform(*_SECONDS) * spk.rate / 60 * _WORDS_PER_MINUTE_SCALE))
            text = sentence(rng, _SPLIT_LEXICON[split], words)
            utts.append((spk, text, int(rng.integers(1, 2**31 - 1))))
        gains = source_gains_db(rng, num_speakers, _SPLIT_SNR_DB[split])
        speaker_ids = "_".join(u[0].spk_id for u in utts)
        jobs.append((f"{speaker_ids}_{split}{i:05d}", gains, utts))
    return jobs


def _run_block(task: tuple) -> int:
    """Synthesise, mix and write one block of mixtures; returns how many."""
    wav_dir, fs, max_seconds, jobs = task
    engine = Espeak.get()
    max_len = None if max_seconds is None else max(1, int(round(max_seconds * fs)))
    for utt_id, gains, utts in jobs:
        sources = mix_sources([speech(engine, spk, text, seed, fs) for spk, text, seed in utts],
                              gains, max_len)
        mix = sum(s.astype(np.int32) for s in sources).astype(np.int16)  # no overflow: peaks <= 0.9
        for key, wave in zip(source_keys(len(sources)), (mix, *sources)):
            sf.write(wav_dir / f"{utt_id}_{key}.wav", wave, fs, subtype="PCM_16", format="WAV")
    return len(jobs)


def source_keys(num_speakers: int) -> tuple[str, ...]:
    """File suffixes of a mixture: ``mix``, ``s1`` .. ``sJ``."""
    return ("mix", *(f"s{j}" for j in range(1, num_speakers + 1)))


def _write_lists(data_dir: Path, wav_dir: Path, jobs: list[tuple]) -> None:
    """Kaldi-style wav.scp, spk1.scp .. spkJ.scp, utt2spk and spk2utt, sorted by utterance."""
    data_dir.mkdir(parents=True, exist_ok=True)
    utt2spk = sorted((utt, "_".join(u[0].spk_id for u in utts)) for utt, _, utts in jobs)
    keys = source_keys(len(jobs[0][2]))
    for name, key in zip(("wav.scp", *(f"spk{j}.scp" for j in range(1, len(keys)))), keys):
        lines = [f"{utt} {wav_dir / f'{utt}_{key}.wav'}\n" for utt, _ in utt2spk]
        (data_dir / name).write_text("".join(lines))
    (data_dir / "utt2spk").write_text("".join(f"{utt} {spk}\n" for utt, spk in utt2spk))
    spk2utt: dict[str, list[str]] = {}
    for utt, spk in utt2spk:
        spk2utt.setdefault(spk, []).append(utt)
    (data_dir / "spk2utt").write_text(
        "".join(f"{spk} {' '.join(utts)}\n" for spk, utts in sorted(spk2utt.items())))


def generate_corpus(output_dir: Path, n_train: int, n_dev: int, n_test: int, seed: int = 0,
                    fs: int = 8000, max_seconds: float | None = None,
                    num_workers: int | None = None, n_test_unseen: int = 0,
                    num_speakers: int = 2) -> dict:
    """Write the corpus (see the module docstring); returns counts and speakers per split."""
    espeak_paths()  # fail here, with a clear message, rather than in a worker
    output_dir = Path(output_dir).resolve()
    speakers = build_speakers()
    plans, tasks = {}, []
    for split, n in zip(SPLITS, (n_train, n_dev, n_test, n_test_unseen)):
        wav_dir = output_dir / "wav" / split
        wav_dir.mkdir(parents=True, exist_ok=True)
        plans[split] = _plan(split, speakers[split], n, seed, num_speakers)
        tasks += [(wav_dir, fs, max_seconds, plans[split][i:i + BLOCK])
                  for i in range(0, n, BLOCK)]
    if tasks:
        workers = max(1, min(num_workers or os.cpu_count() or 1, len(tasks)))
        # spawn + one task per child: every block starts from a fresh libespeak-ng
        with multiprocessing.get_context("spawn").Pool(workers, maxtasksperchild=1) as pool, \
                tqdm(total=sum(len(p) for p in plans.values()), desc=f"mini {num_speakers}-speaker",
                     unit="mix") as bar:
            for done in pool.imap_unordered(_run_block, tasks):
                bar.update(done)
    for split in SPLITS:
        if plans[split]:  # a split asked for with 0 mixtures gets no lists
            _write_lists(output_dir / split, output_dir / "wav" / split, plans[split])
    return {"output_dir": str(output_dir), "fs": fs, "seed": seed, "num_speakers": num_speakers,
            "splits": {s: {"mixtures": len(plans[s]),
                           "speakers": [spk.spk_id for spk in speakers[s]]} for s in SPLITS}}


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m espnet2_tisdiss.corpora.mini_2mix --output_dir DIR ...``."""
    parser = argparse.ArgumentParser(prog="python -m espnet2_tisdiss.corpora.mini_2mix",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--output_dir", type=Path, required=True)
    parser.add_argument("--n_train", type=int, default=1000)
    parser.add_argument("--n_dev", type=int, default=100)
    parser.add_argument("--n_test", type=int, default=100)
    parser.add_argument("--n_test_unseen", type=int, default=100,
                        help="mixtures of test voices in unseen accents, saying unseen words")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fs", type=int, default=8000)
    parser.add_argument("--max_seconds", type=float, default=None,
                        help="cap on mixture length in seconds (default: none)")
    parser.add_argument("--num_speakers", type=int, default=2, choices=(2, 3),
                        help="speakers per mixture (3: the mini_3mix recipe's corpus)")
    parser.add_argument("--num_workers", type=int, default=None,
                        help="worker processes (default: CPU count)")
    args = parser.parse_args(argv)
    if min(args.n_train, args.n_dev, args.n_test, args.n_test_unseen) < 0 or args.fs <= 0 or \
            (args.max_seconds is not None and args.max_seconds <= 0):
        parser.error("counts must be >= 0; --fs and --max_seconds must be > 0")
    try:
        summary = generate_corpus(args.output_dir, args.n_train, args.n_dev, args.n_test,
                                  args.seed, args.fs, args.max_seconds, args.num_workers,
                                  args.n_test_unseen, args.num_speakers)
    except EspeakUnavailable as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    for split, info in summary["splits"].items():
        print(f"{split}: {info['mixtures']} mixtures, {len(info['speakers'])} speakers "
              f"-> {summary['output_dir']}/{split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
