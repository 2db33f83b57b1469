"""Chunked separation: full-length chunks, streams re-ordered across chunks, exact output length."""

import numpy as np
import pytest

from espnet2_tisdiss.inference.chunking import chunk_bounds, crossfade_ramp, match_streams, separate_in_chunks


@pytest.mark.parametrize("length", [1000, 1001, 2500, 9999])
def test_chunks_cover_the_signal_and_overlap(length):
    bounds = chunk_bounds(length, chunk=1000, overlap=150)
    assert bounds[0][0] == 0 and bounds[-1][1] == length
    assert all(end - start == min(1000, length) for start, end in bounds)
    assert all(prev_end - start >= 150 for (_, prev_end), (start, _) in zip(bounds, bounds[1:]))


def test_one_chunk_when_it_fits():
    assert chunk_bounds(700, chunk=1000, overlap=100) == [(0, 700)]


@pytest.mark.parametrize("overlap", [0, 1000, 1200])
def test_bad_overlap(overlap):
    with pytest.raises(ValueError, match="overlap .* must be > 0 and shorter than the chunk"):
        chunk_bounds(5000, chunk=1000, overlap=overlap)


def test_crossfade_weights_sum_to_one():
    ramp = crossfade_ramp(64)
    assert ramp[0] < 0.01 and ramp[-1] > 0.99
    np.testing.assert_allclose(ramp + ramp[::-1], 1.0, atol=1e-6)


def test_match_streams_finds_the_permutation():
    rng = np.random.default_rng(0)
    previous = rng.standard_normal((3, 200))
    current = previous[[2, 0, 1]] + 0.1 * rng.standard_normal((3, 200))
    order = match_streams(previous, current)
    np.testing.assert_array_equal(current[order], current[[1, 2, 0]])


def test_chunks_with_swapped_streams_are_joined_back():
    rng = np.random.default_rng(1)
    sources = rng.standard_normal((2, 5003)).astype(np.float32)  # [J, S]
    mixture = sources.sum(0)
    bounds = list(enumerate(chunk_bounds(len(mixture), chunk=1200, overlap=200)))
    pending = iter(bounds)

    def separate(chunk):
        # a fake separator: the true sources of the chunk, in an order that flips every chunk
        index, (start, end) = next(pending)
        assert np.array_equal(chunk, mixture[start:end])
        streams = sources[:, start:end]
        return (streams[::-1] if index % 2 else streams), index + 1

    joined, depths = separate_in_chunks(separate, mixture, chunk=1200, overlap=200)
    assert joined.shape == sources.shape
    assert depths == [index + 1 for index, _ in bounds] and len(bounds) == 5
    np.testing.assert_allclose(joined, sources, atol=1e-5)
