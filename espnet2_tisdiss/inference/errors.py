"""Errors of the inference API; each message names the file or model it is about."""


class ModelLoadError(ValueError):
    """A model cannot be found, read, or is not a TISDiSS model."""


class AudioError(ValueError):
    """An input file cannot be separated (unreadable, not audio, empty, NaN, too short, ...)."""
