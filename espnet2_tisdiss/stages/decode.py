"""Stage 5: separate a data set at several inference depths in one forward pass.

Each utterance goes through the separation core (``espnet2_tisdiss.inference.core``):
one pass at every requested depth, with the compute time of each depth as if it had
run alone, so the real-time factor of every depth comes from the same pass. Models
without an inference depth (e.g. TF-GridNet) are decoded once and reported as depth 1.
Depth "auto" stops per utterance once the estimate stops changing.

Writes ``<output_dir>/reps<k>/wavs/<j>/<utt>.wav`` (float wav),
``<output_dir>/reps<k>/spk<j>.scp`` and ``<output_dir>/timing.json``
(``{"audio_seconds": .., "seconds": {"<k>": ..}}``); for "auto" the folder is
``reps_auto/``, with ``reps_auto/utt2depth`` ("utt depth" per line: the depth used).

Interrupted runs: every wav is written atomically (``espnet2_tisdiss.fileio.atomic_io``)
and an utterance is recorded as finished in ``.decode_progress.jsonl`` only
once all its wavs exist; the lists and ``timing.json`` are written at the end.
Given a ``model_id``, a rerun of the same model, depths and inputs skips the
finished utterances (``decode_journal``). One decode per folder at a time: a
second one is refused while the first holds ``.<folder>.lock`` beside it
(``run_lock``). An utterance that runs out of memory stops the run with an
error naming it, its duration and what to do; the finished ones are kept.
"""

import json
import logging
import secrets
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Dict, Iterator, Optional, Sequence

import torch

from espnet2_tisdiss.depths import AUTO, Depth, depth_folder, depth_order, parse_depth
from espnet2_tisdiss.fileio.atomic_io import write_atomic, write_wav_atomic
from espnet2_tisdiss.fileio.decode_journal import DecodeJournal, input_identity
from espnet2_tisdiss.fileio.kaldi_lists import utt_file_name, write_scp
from espnet2_tisdiss.fileio.run_lock import hold_lock
from espnet2_tisdiss.adaptive_depth import AutoDepth
from espnet2_tisdiss.inference.audio import is_constant, read_mixture
from espnet2_tisdiss.inference.core import separate_depths
from espnet2_tisdiss.inference.errors import AudioError, SeparationMemoryError
from espnet2_tisdiss.inference.memory import first_line, is_out_of_memory, release_cached_memory

def read_utterance(utt: str, path: str, fs: Optional[int]):
    """The mono mixture [S] of one utterance and its rate; a ValueError names ``utt`` and ``path``.

    Reads through the CLI's ``read_mixture`` (missing, unreadable, empty, multi-channel and
    NaN inputs are refused there), then checks the rate: the decode stage does not resample.
    """
    try:
        mixture, rate = read_mixture(Path(path))
    except AudioError as err:
        raise ValueError(f"{utt}: {err}") from err
    if fs is not None and rate != fs:
        raise ValueError(f"{utt}: {path} is {rate} Hz but the model expects {fs} Hz.")
    return mixture, rate


def memory_error(utt: str, path: str, seconds: float, device: str, err: BaseException) -> SeparationMemoryError:
    """The decode stage's out-of-memory error: the utterance, its duration, and what to do."""
    return SeparationMemoryError(
        f"{utt}: {path} ({seconds:.1f} s): out of memory on {device} ({first_line(err)}). The decode stage "
        "separates each utterance whole; the utterances decoded so far are kept and a rerun continues "
        "after them. Separate long recordings in chunks with the CLI (tisdiss-separate --chunk_seconds 10 "
        "...), or cut the test set into shorter utterances.", seconds, None, 10.0)


def decode_utterance(model, utt: str, path: str, output_dir: Path, depths: Sequence[Depth],
                     fs: Optional[int], device: str, auto: AutoDepth) -> Dict:
    """Separate one utterance, write its wavs atomically; returns its journal record."""
    mixture, rate = read_utterance(utt, path, fs)
    if is_constant(mixture):
        logging.warning("%s: the mixture %s is silent or constant (every sample %g); its outputs are "
                        "silence at every depth", utt, path, mixture[0])
    source = input_identity(path)
    try:
        result = separate_depths(model, mixture, depths, device, auto)
    except (RuntimeError, MemoryError) as err:
        if not is_out_of_memory(err):
            raise
        release_cached_memory(device)
        raise memory_error(utt, path, len(mixture) / rate, device, err) from err
    outputs = {}
    for depth, waves in result.waves.items():
        outputs[str(depth)] = []
        for j, wave in enumerate(waves, start=1):
            name = f"{depth_folder(depth)}/wavs/{j}/{utt_file_name(utt)}.wav"
            write_wav_atomic(output_dir / name, wave, rate)
            outputs[str(depth)].append(name)
    return {"utt": utt, "input": source, "audio_seconds": len(mixture) / rate,
            "seconds": {str(k): v for k, v in result.seconds.items()},
            "auto_depth": result.auto_depth, "outputs": outputs}


def write_summary(output_dir: Path, records: Sequence[Dict]) -> Dict:
    """The lists (``spk<j>.scp``, ``utt2depth``) and ``timing.json`` of the finished records."""
    lists: Dict[str, Dict[int, Dict[str, str]]] = {}
    audio_seconds, seconds, auto_depths = 0.0, {}, {}
    for record in records:
        audio_seconds += record["audio_seconds"]
        for depth, value in record["seconds"].items():
            seconds[depth] = seconds.get(depth, 0.0) + value
        if record["auto_depth"] is not None:
            auto_depths[record["utt"]] = str(record["auto_depth"])
        for depth, names in record["outputs"].items():
            for j, name in enumerate(names, start=1):
                lists.setdefault(depth, {}).setdefault(j, {})[record["utt"]] = str((output_dir / name).resolve())
    for depth, speakers in lists.items():
        for j, entries in speakers.items():
            write_scp(output_dir / depth_folder(parse_depth(depth)) / f"spk{j}.scp", entries)
    if auto_depths:
        write_scp(output_dir / depth_folder(AUTO) / "utt2depth", auto_depths)
    ordered = sorted(seconds.items(), key=lambda item: depth_order(parse_depth(item[0])))
    timing = {"audio_seconds": audio_seconds, "seconds": dict(ordered)}
    write_atomic(output_dir / "timing.json", json.dumps(timing, indent=1))
    return timing


def lock_file(output_dir: Path) -> Path:
    """The lock of a decode dir: ``.<name>.lock`` beside it (the dir itself may be replaced)."""
    output_dir = Path(output_dir).absolute()
    return output_dir.parent / f".{output_dir.name}.lock"


_WORKER_MODEL = None  # the model of a decoding job process (decode_in_jobs)


def _start_job(model, threads: int) -> None:
    global _WORKER_MODEL
    torch.set_num_threads(threads)
    _WORKER_MODEL = model


def _decode_in_job(*args) -> Dict:
    return decode_utterance(_WORKER_MODEL, *args)


def decode_in_jobs(model, todo: Sequence, jobs: int, *args) -> Iterator[Dict]:
    """The records of ``decode_utterance(model, utt, path, *args)`` for each (utt, path) of ``todo``,
    in order, from ``jobs`` processes that share this process's threads (1: in this process)."""
    if jobs == 1:
        for utt, path in todo:
            yield decode_utterance(model, utt, path, *args)
        return
    threads = max(1, torch.get_num_threads() // jobs)
    context = torch.multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start_job, initargs=(model, threads))
    try:
        futures = [pool.submit(_decode_in_job, utt, path, *args) for utt, path in todo]
        for future in futures:
            yield future.result()
    finally:
        pool.shutdown(cancel_futures=True)


def decode_set(model, wavs: Dict[str, str], output_dir: Path, depths: Sequence[Depth],
               fs: Optional[int] = None, device: str = "cpu", progress=None,
               auto: AutoDepth = AutoDepth(), model_id: Optional[str] = None, jobs: int = 1) -> Dict:
    """Separate every utterance of ``wavs`` ({utt: path}); returns the timing summary.

    Args:
        model_id: what identifies the model (e.g. a hash of its config and
            weights). Given, an interrupted decode of the same model, depths and
            inputs continues where it stopped; None always decodes afresh.
        jobs: parallel decoding processes (each with its share of the threads).

    Raises:
        RunLockError: another decode is writing into ``output_dir``.
        SeparationMemoryError: an utterance ran out of memory.
        ValueError: an input that is not mono or not at ``fs``, or an
            utterance id that cannot name a file.
        OutputWriteError: the disk is full.
    """
    output_dir = Path(output_dir)
    with hold_lock(lock_file(output_dir), f"decoding into {output_dir}"):
        run_key = {"model": model_id if model_id is not None else f"unnamed-{secrets.token_hex(8)}",
                   "depths": [str(d) for d in depths], "auto": [auto.max_reps, auto.threshold],
                   "fs": fs, "device": device, "inputs": sorted(wavs.items())}
        journal = DecodeJournal(output_dir, run_key)
        done = journal.start()
        items = sorted(wavs.items())
        todo = [(utt, path) for utt, path in items if utt not in done]
        records = decode_in_jobs(model, todo, jobs, output_dir, depths, fs, device, auto)
        for record in progress(records, total=len(todo)) if progress else records:
            journal.add(record)
        timing = write_summary(output_dir, [journal.records[utt] for utt, _ in items])
        journal.finish()
    return timing
