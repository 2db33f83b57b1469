"""Separate a long signal in overlapping chunks and join them with a cross-fade.

The chunks have ``chunk`` samples and overlap by at least ``overlap`` samples:
the fewest chunks that allow it, spread evenly from the first sample to the
last, so every chunk is full length. Each chunk is separated alone (bounded memory: the model sees
``chunk`` samples at a time). Before a chunk is added, its J streams are
reordered to match the previous chunk's: the permutation maximising the summed
normalised correlation of the streams over the samples both chunks cover. The
overlap is then cross-faded with a raised-cosine ramp, and the output has
exactly the input's length.

Shapes: S samples, L chunk samples, O overlap samples, J streams.
"""

import math
from typing import Callable, List, Tuple

import numpy as np
from scipy.optimize import linear_sum_assignment

SeparateFn = Callable[[np.ndarray], Tuple[np.ndarray, int]]  # [L] -> ([J, L], depth)


def chunk_bounds(length: int, chunk: int, overlap: int) -> List[Tuple[int, int]]:
    """(start, end) of every chunk of a signal of ``length`` samples; one chunk when it fits."""
    if not 0 < overlap < chunk:
        raise ValueError(f"the overlap ({overlap} samples) must be > 0 and shorter than the chunk "
                         f"({chunk} samples).")
    if length <= chunk:
        return [(0, length)]
    count = math.ceil((length - chunk) / (chunk - overlap)) + 1  # fewest chunks that keep the overlap
    starts = [round(i * (length - chunk) / (count - 1)) for i in range(count)]  # evenly spread
    return [(start, start + chunk) for start in starts]


def match_streams(previous: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Order of ``current``'s streams [J, O] that best matches ``previous`` [J, O].

    Returns:
        indices ``order`` with ``current[order[j]]`` the stream that continues
        ``previous[j]``.
    """
    norms = np.linalg.norm(previous, axis=1)[:, None] * np.linalg.norm(current, axis=1)[None, :]
    correlation = previous @ current.T / np.maximum(norms, np.finfo(np.float32).tiny)  # [J, J]
    _, order = linear_sum_assignment(correlation, maximize=True)
    return order


def crossfade_ramp(length: int) -> np.ndarray:
    """Raised-cosine weights [length] rising from ~0 to ~1 (the incoming chunk's share)."""
    return (0.5 - 0.5 * np.cos(np.pi * (np.arange(length) + 0.5) / length)).astype(np.float32)


def separate_in_chunks(separate: SeparateFn, wave: np.ndarray, chunk: int,
                       overlap: int) -> Tuple[np.ndarray, List[int]]:
    """Separate ``wave`` [S] chunk by chunk with ``separate``.

    Args:
        separate: one chunk [L] -> (its J streams [J, L], the depth used).
        wave: the mixture [S].
        chunk: L, samples per chunk.
        overlap: O, the least overlap in samples of two consecutive chunks.

    Returns:
        the joined streams [J, S] and the depth used for each chunk.
    """
    bounds = chunk_bounds(len(wave), chunk, overlap)
    output, depths = None, []
    previous_end = 0
    for start, end in bounds:
        streams, depth = separate(wave[start:end])  # [J, end - start]
        depths.append(depth)
        if output is None:
            output = np.zeros((streams.shape[0], len(wave)), dtype=np.float32)  # [J, S]
            output[:, start:end] = streams
            previous_end = end
            continue
        shared = previous_end - start  # samples also covered by the chunks before
        streams = streams[match_streams(output[:, start:previous_end], streams[:, :shared])]
        ramp = crossfade_ramp(shared)
        output[:, start:previous_end] *= 1.0 - ramp
        output[:, start:previous_end] += ramp * streams[:, :shared]
        output[:, previous_end:end] = streams[:, shared:]
        previous_end = end
    return output, depths
