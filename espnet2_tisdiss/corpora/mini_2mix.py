"""Synthesise ``mini_2mix``: a small two-speaker mixture corpus in the style of WSJ0-2mix.

Reads nothing from the network: speech comes from eSpeak NG, whose library and voice data
ship in the ``espeakng-loader`` wheel (``pip install espeakng-loader``), driven through its
C API with ctypes. A speaker is an English accent plus an eSpeak voice variant
(``en-us+m3``) with its own base pitch, pitch range and speaking rate. Variants that are
near-copies of each other form a family; a family belongs to one split only, so no dev or
test voice is heard in training.

A mixture takes two seeded random word sequences (about 1.5-4 s) spoken by two different
speakers of one split, synthesised at 22050 Hz, trimmed of silence, resampled to ``fs``,
cut to the shorter one ("min" mode, and to ``max_seconds``), set to equal RMS, then
s1 gets +snr/2 dB and s2 -snr/2 dB with snr ~ U[0, 5] dB; mix = s1 + s2, the three scaled
together so that no peak exceeds 0.9. Writes, for split in train, dev, test::

    <output_dir>/wav/<split>/<utt>_{mix,s1,s2}.wav    16-bit PCM, mix == s1 + s2 exactly
    <output_dir>/<split>/{wav.scp,spk1.scp,spk2.scp,utt2spk,spk2utt}    sorted by utt id

The same arguments give byte-identical files. libespeak-ng keeps synthesis state (such as
its flutter phase) in C statics that no API call resets, so every block of mixtures is made
in a fresh process, and a block's audio depends on nothing but its own plan.

    python -m espnet2_tisdiss.corpora.mini_2mix --output_dir DIR --n_train N --n_dev N --n_test N
"""

from __future__ import annotations

import argparse
import ctypes
import multiprocessing
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr
from tqdm import tqdm

SPLITS = ("train", "dev", "test")
BLOCK = 100  # mixtures made by one fresh worker process
LEVEL_RMS = 0.05  # RMS of each source before the +-snr/2 dB gains
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
_ACCENTS = {"us": "en-us", "gb": "en", "sc": "en-gb-scotland", "rp": "en-gb-x-rp", "cb": "en-029",
            "ny": "en-us-nyc", "la": "en-gb-x-gbclan", "wm": "en-gb-x-gbcwmd"}
_PROSODY = ((25, 76), (30, 91), (140, 201))  # [lo, hi) of espeakPITCH, espeakRANGE, espeakRATE
_WORDS_PER_MINUTE_SCALE = 1.08  # eSpeak says these words a little faster than its rate

_WORDS = """
about above across after again against air all almost along also always among animal answer
any apple around ask away baby back bad ball bank basket bear beautiful bed before begin behind
believe bell below best better between big bird black blue boat body book both bottle box boy
bread break bridge bright bring brother brown build busy but buy call came can car care carry
cat catch cause center chair change cheap child city class clean clear close cloud coast cold
color come common corner country cover cross cup dark daughter day dear deep different dinner
doctor dog door down draw dream dress drink drive dry during early earth easy eat edge egg
either empty end enough evening every example eye face fact fair fall family far farm fast
father feel field fight fill find fine finger fire fish floor flower fly follow food foot
forest forget found free friend front fruit full game garden gate gentle girl give glass go
gold good grass great green ground group grow hair half hand happy hard hat have head hear
heart heavy help high hill hold home horse hot hour house hundred idea island jump just keep
key kind king kitchen know lake land large last late laugh lead learn leave left letter light
like line listen little live long look lost loud love low machine make many map market matter
may measure meet middle might mile milk mind minute money month moon morning mother mountain
move music name near need never new next nice night noise north nothing number ocean offer
often old open orange order other outside over page paint paper park part party pass people
perhaps picture piece place plain plan plant play please pocket point poor present pretty
problem pull push question quick quiet rain reach read ready real red remember rest rich
ride right river road rock room round run salt same sand save say school sea season second
see seem send serve seven shape sharp ship shoe short should show side simple sing sister sit
six sky sleep slow small smile snow soft soldier some song soon sound south space speak spring
square stand star start station stay step still stone stop story straight street strong study
sugar summer sun sure sweet table take talk tall teacher tell ten thank thing think three
through time today together tomorrow tonight tree true try turn under until usual valley very
village visit voice wait walk wall want warm wash watch water wave way weather week well west
wheel white whole wide wild wind window winter wish without woman wonder wood word work world
write wrong yard year yellow young
""".split()

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
    """The fixed speaker inventory per split: each variant in two accents, disjoint splits."""
    rng = np.random.default_rng(_SPEAKER_SEED)
    codes = list(_ACCENTS)
    speakers: dict[str, list[Speaker]] = {}
    for split in SPLITS:
        speakers[split] = []
        for variant in variants(split):
            for c in rng.choice(len(codes), size=2, replace=False):
                pitch, pitch_range, rate = (int(rng.integers(lo, hi)) for lo, hi in _PROSODY)
                voice = f"{_ACCENTS[codes[c]]}+{variant}"
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


def mix_pair(a: np.ndarray, b: np.ndarray, snr_db: float, max_len: int | None = None):
    """(s1, s2) as int16, WSJ0-2mix "min" mode: level ratio ``snr_db`` dB, peaks <= 0.9."""
    n = min(len(a), len(b), max_len or len(a))
    s1, s2 = a[:n].astype(np.float64), b[:n].astype(np.float64)
    for s, db in ((s1, snr_db / 2), (s2, -snr_db / 2)):
        rms = np.sqrt(np.mean(s**2))
        if rms == 0:
            raise RuntimeError("a source is silent after truncation")
        s *= LEVEL_RMS * 10 ** (db / 20) / rms
    peak = max(np.abs(s1 + s2).max(), np.abs(s1).max(), np.abs(s2).max())
    scale = 32767 * min(1.0, PEAK / peak)
    return np.round(s1 * scale).astype(np.int16), np.round(s2 * scale).astype(np.int16)


def _plan(split: str, speakers: list[Speaker], n: int, seed: int) -> list[tuple]:
    """Seeded (utt_id, snr, [(speaker, text, synth_seed)] * 2) for the mixtures of a split."""
    rng = np.random.default_rng([seed, SPLITS.index(split)])  # a split ignores the others' sizes
    jobs = []
    for i in range(n):
        utts = []
        for k in rng.choice(len(speakers), size=2, replace=False):
            spk = speakers[k]
            words = max(2, round(rng.uniform(1.6, 3.8) * spk.rate / 60 * _WORDS_PER_MINUTE_SCALE))
            text = " ".join(_WORDS[j] for j in rng.integers(len(_WORDS), size=words))
            utts.append((spk, text, int(rng.integers(1, 2**31 - 1))))
        snr = float(rng.uniform(0.0, 5.0))
        jobs.append((f"{utts[0][0].spk_id}_{utts[1][0].spk_id}_{split}{i:05d}", snr, utts))
    return jobs


def _run_block(task: tuple) -> int:
    """Synthesise, mix and write one block of mixtures; returns how many."""
    wav_dir, fs, max_seconds, jobs = task
    engine = Espeak.get()
    max_len = None if max_seconds is None else max(1, int(round(max_seconds * fs)))
    for utt_id, snr, ((spk_a, text_a, seed_a), (spk_b, text_b, seed_b)) in jobs:
        s1, s2 = mix_pair(speech(engine, spk_a, text_a, seed_a, fs),
                          speech(engine, spk_b, text_b, seed_b, fs), snr, max_len)
        mix = (s1.astype(np.int32) + s2).astype(np.int16)  # no overflow: peaks <= 0.9
        for key, wave in (("mix", mix), ("s1", s1), ("s2", s2)):
            sf.write(wav_dir / f"{utt_id}_{key}.wav", wave, fs, subtype="PCM_16", format="WAV")
    return len(jobs)


def _write_lists(data_dir: Path, wav_dir: Path, jobs: list[tuple]) -> None:
    """Kaldi-style wav.scp, spk1.scp, spk2.scp, utt2spk and spk2utt, sorted by utterance."""
    data_dir.mkdir(parents=True, exist_ok=True)
    utt2spk = sorted((utt, f"{u[0][0].spk_id}_{u[1][0].spk_id}") for utt, _, u in jobs)
    for name, key in (("wav.scp", "mix"), ("spk1.scp", "s1"), ("spk2.scp", "s2")):
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
                    num_workers: int | None = None) -> dict:
    """Write the corpus (see the module docstring); returns counts and speakers per split."""
    espeak_paths()  # fail here, with a clear message, rather than in a worker
    output_dir = Path(output_dir).resolve()
    speakers = build_speakers()
    plans, tasks = {}, []
    for split, n in zip(SPLITS, (n_train, n_dev, n_test)):
        wav_dir = output_dir / "wav" / split
        wav_dir.mkdir(parents=True, exist_ok=True)
        plans[split] = _plan(split, speakers[split], n, seed)
        tasks += [(wav_dir, fs, max_seconds, plans[split][i:i + BLOCK])
                  for i in range(0, n, BLOCK)]
    if tasks:
        workers = max(1, min(num_workers or os.cpu_count() or 1, len(tasks)))
        # spawn + one task per child: every block starts from a fresh libespeak-ng
        with multiprocessing.get_context("spawn").Pool(workers, maxtasksperchild=1) as pool, \
                tqdm(total=n_train + n_dev + n_test, desc="mini_2mix", unit="mix") as bar:
            for done in pool.imap_unordered(_run_block, tasks):
                bar.update(done)
    for split in SPLITS:
        _write_lists(output_dir / split, output_dir / "wav" / split, plans[split])
    return {"output_dir": str(output_dir), "fs": fs, "seed": seed,
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
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fs", type=int, default=8000)
    parser.add_argument("--max_seconds", type=float, default=None,
                        help="cap on mixture length in seconds (default: none)")
    parser.add_argument("--num_workers", type=int, default=None,
                        help="worker processes (default: CPU count)")
    args = parser.parse_args(argv)
    if min(args.n_train, args.n_dev, args.n_test) < 0 or args.fs <= 0 or \
            (args.max_seconds is not None and args.max_seconds <= 0):
        parser.error("counts must be >= 0; --fs and --max_seconds must be > 0")
    try:
        summary = generate_corpus(args.output_dir, args.n_train, args.n_dev, args.n_test,
                                  args.seed, args.fs, args.max_seconds, args.num_workers)
    except EspeakUnavailable as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 1
    for split, info in summary["splits"].items():
        print(f"{split}: {info['mixtures']} mixtures, {len(info['speakers'])} speakers "
              f"-> {summary['output_dir']}/{split}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
