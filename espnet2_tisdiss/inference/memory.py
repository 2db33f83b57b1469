"""Recognise an allocation failure during separation and say how to avoid it.

PyTorch reports a failed allocation as ``torch.OutOfMemoryError`` (CUDA) or
as a plain ``RuntimeError`` whose message says so (the CPU allocator:
"DefaultCPUAllocator: can't allocate memory: you tried to allocate ...");
numpy raises ``MemoryError``. The separator's attention grows with the
square of the input length, so a long input separated at once is the usual
cause, and chunking (``chunk_seconds``) the remedy.
"""

from typing import Optional

import torch

ALLOCATION_FAILURE_TEXTS = (
    "out of memory",             # CUDA, HIP and MPS allocators
    "can't allocate memory",     # DefaultCPUAllocator
    "cannot allocate memory",    # ENOMEM passed through
    "failed to allocate",
)


def is_out_of_memory(err: BaseException) -> bool:
    """True when ``err`` is an allocation failure (as opposed to any other runtime error)."""
    if isinstance(err, (MemoryError, torch.OutOfMemoryError)):
        return True
    text = str(err).lower()
    return isinstance(err, RuntimeError) and any(part in text for part in ALLOCATION_FAILURE_TEXTS)


def release_cached_memory(device: str) -> None:
    """Give the failed allocation's cached blocks back, so that the next input can run."""
    if str(device).startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()


def smaller_chunk(chunk_seconds: Optional[float]) -> float:
    """A chunk length to suggest after running out of memory with ``chunk_seconds`` (None: whole)."""
    if chunk_seconds is None:
        return 10.0
    return max(round(chunk_seconds / 2, 1), 1.0)


def first_line(err: BaseException) -> str:
    """The first line of PyTorch's message (CUDA's runs on with allocator advice)."""
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
