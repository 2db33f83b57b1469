"""Errors of the inference API; each message names the file or model it is about."""


class ModelLoadError(ValueError):
    """A model cannot be found, read, or is not a TISDiSS model."""


class AudioError(ValueError):
    """An input file cannot be separated (unreadable, not audio, empty, NaN, too short, ...)."""


class SeparationMemoryError(RuntimeError):
    """Separating one input ran out of memory; the message says which chunk length to try.

    Attributes:
        seconds: the input's duration.
        chunk_seconds: the chunk length that failed (None: the input was separated whole).
        suggested_chunk_seconds: a smaller chunk length to rerun with.
    """

    def __init__(self, message: str, seconds: float, chunk_seconds, suggested_chunk_seconds: float):
        super().__init__(message)
        self.seconds = seconds
        self.chunk_seconds = chunk_seconds
        self.suggested_chunk_seconds = suggested_chunk_seconds
