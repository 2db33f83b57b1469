"""The decode stage's journal: which utterances are finished, so that a rerun continues.

``<output_dir>/.decode_progress.jsonl`` holds one JSON object a line:

- line 1, ``{"run": {...}}``: what this decode is (model, depths, options and
  the list of inputs, as the caller's ``run_key``). A rerun whose key differs
  (another model, other depths, other inputs) starts afresh.
- then one record per finished utterance, appended (and fsynced) only after
  every output wav of that utterance was written atomically:
  ``{"utt", "input": {"path", "size", "mtime_ns"}, "audio_seconds",
  "seconds": {"<depth>": s}, "auto_depth", "outputs": {"<depth>": [paths]}}``
  (output paths relative to ``output_dir``).

An utterance is complete when it has a record, its input file is unchanged
(same path, size and modification time) and every output it lists exists.
A kill while appending leaves at most a torn last line, which is dropped when
the journal is reopened (the utterance is then decoded again). The per
utterance compute seconds are kept, so the timing summary of a resumed run
covers every utterance exactly once, as an uninterrupted run's does.
A resumed decode also deletes the temporary files of the wavs that the kill
interrupted (``atomic_io.remove_leftovers``). The decode stage removes the
journal once its lists and ``timing.json`` are written: a finished decode dir
has none, and decoding it again starts afresh.
"""

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Dict, Optional

from espnet2_tisdiss.fileio.atomic_io import WRITE_ERRNOS, remove_leftovers, write_atomic, write_error

JOURNAL_NAME = ".decode_progress.jsonl"


def input_identity(path: str) -> Dict:
    """``{"path", "size", "mtime_ns"}`` of an input file, to notice one that changed."""
    info = os.stat(path)
    return {"path": str(path), "size": info.st_size, "mtime_ns": info.st_mtime_ns}


def _parse(line: str) -> Optional[Dict]:
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


class DecodeJournal:
    """Finished utterances of one decode dir (see the module docstring).

    Args:
        output_dir: the decode dir; its journal is ``output_dir/.decode_progress.jsonl``.
        run_key: JSON-serialisable description of the decode; records are reused
            only under the same key.
    """

    def __init__(self, output_dir: Path, run_key: Dict):
        self.output_dir = Path(output_dir)
        self.path = self.output_dir / JOURNAL_NAME
        self.run_key = json.loads(json.dumps(run_key))  # as it reads back
        self.records: Dict[str, Dict] = {}

    def start(self) -> Dict[str, Dict]:
        """Open the journal: keep the complete records of an interrupted run of the same key.

        Anything else in ``output_dir`` (a finished or different decode) is
        removed first, and so are the temporary files of writes that a kill
        interrupted. Returns ``{utt: record}`` of the utterances to skip.
        """
        lines = self.path.read_text(encoding="utf-8").splitlines() if self.path.is_file() else []
        header = _parse(lines[0]) if lines else None
        if header != {"run": self.run_key}:
            if self.output_dir.exists():
                if lines:
                    logging.info("%s was decoded with other settings; decoding it afresh", self.output_dir)
                shutil.rmtree(self.output_dir)  # a decode dir always reflects one decoding run
            lines = []
        elif remove_leftovers(self.output_dir):
            logging.info("%s: removed the partial files of an interrupted decode", self.output_dir)
        for line in lines[1:]:
            record = _parse(line)
            if record is not None and self._complete(record):
                self.records[record["utt"]] = record
        text = "".join(json.dumps(item, ensure_ascii=False) + "\n"
                       for item in [{"run": self.run_key}, *self.records.values()])
        write_atomic(self.path, text)  # without a torn last line, so appends start clean
        if self.records:
            logging.info("%s: continuing an interrupted decode, %d utterance(s) already done",
                         self.output_dir, len(self.records))
        return dict(self.records)

    def _complete(self, record: Dict) -> bool:
        try:
            source = record["input"]
            if input_identity(source["path"]) != source:
                return False
            return all((self.output_dir / name).is_file()
                       for names in record["outputs"].values() for name in names)
        except (KeyError, TypeError, AttributeError, OSError):
            return False

    def add(self, record: Dict) -> None:
        """Append ``record`` (its outputs already written) and flush it to disk."""
        line = json.dumps(record, ensure_ascii=False) + "\n"
        try:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as err:  # a torn line is dropped when the journal is reopened
            if err.errno in WRITE_ERRNOS:
                raise write_error(self.path, err) from err
            raise
        self.records[record["utt"]] = record

    def finish(self) -> None:
        """The decode is complete (lists and timing written): drop the journal."""
        self.path.unlink(missing_ok=True)
