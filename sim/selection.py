"""Exact quantiles of large float arrays without partitioning all of them.

``np.quantile(values, p)`` (numpy's default, linear method) interpolates between the values of
ranks ``floor((n - 1) p)`` and the one after it. For a million values numpy partitions the
whole array around those ranks (and the first and last, to look for NaN): ~18 ms a column, and
a large run's summary takes the quantiles of 24 such columns. :func:`quantiles` finds the same
ranks from a sorted sample of ~32,000 values instead: each rank's value lies, almost surely,
between two sample values a few standard deviations of the sample rank either side; one pass
counts the values below each such bracket and gathers those inside, and only those are
partitioned. The answer is exact -- the counts prove the rank lies inside the bracket, else
(a misleading sample: never seen in practice, but possible) the whole array is partitioned
as numpy would. The interpolation is numpy's own, applied to the two values found.

>>> values = np.random.default_rng(0).normal(size=300_000)
>>> quantiles(values, (0.05, 0.5, 0.95)) == [float(q) for q in np.quantile(values, (0.05, 0.5, 0.95))]
True
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from numba import njit

from sim.stats import SAMPLED_FROM, linear_quantiles, linear_ranks

__all__ = ["quantiles", "SAMPLED_FROM"]

_SAMPLE_SIZE = 32_768
_STANDARD_DEVIATIONS = 5.0  # bracket half-width, in standard deviations of a sample rank


def quantiles(values: np.ndarray, probabilities: Sequence[float]) -> list[float]:
    """``[float(q) for q in np.quantile(values, probabilities)]``, bit for bit, for a non-empty
    1-D array of floats without NaN -- faster from SAMPLED_FROM values up."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    n = values.size
    if n < SAMPLED_FROM:  # a sample would save nothing
        return [float(q) for q in np.quantile(values, probabilities)]
    ranks = np.unique([k for below, above, _ in linear_ranks(n, probabilities) for k in (below, above)])
    found = _select_ranks(values, ranks, max(1, n // _SAMPLE_SIZE), _STANDARD_DEVIATIONS)
    if found.size == 0:  # the sample misled: partition everything
        found = np.partition(values, ranks)[ranks]
    return linear_quantiles(n, probabilities, dict(zip(ranks.tolist(), found.tolist())).__getitem__)


@njit(cache=True, nogil=True)
def _select_ranks(values, ranks, step, deviations):
    """The values of the (sorted, distinct, 0-based) ``ranks`` in sorted order, or an empty array
    if a bracket read off the sample turns out not to hold its rank (or to hold too much)."""
    n, n_ranks = values.size, ranks.size
    sample = np.sort(values[::step])
    s = sample.size
    # per rank, a bracket of sample positions; overlapping brackets merged (ranks are sorted)
    first, last = np.empty(n_ranks, np.int64), np.empty(n_ranks, np.int64)
    k = 0
    for j in range(n_ranks):
        p = ranks[j] / (n - 1)
        centre = p * (s - 1)
        spread = deviations * math.sqrt(s * p * (1.0 - p)) + 8.0
        low, high = max(int(centre - spread), 0), min(int(centre + spread) + 1, s - 1)
        if k > 0 and low <= last[k - 1]:
            last[k - 1] = max(last[k - 1], high)
        else:
            first[k], last[k] = low, high
            k += 1
    starts, ends = np.empty(k), np.empty(k)
    offsets = np.zeros(k + 1, np.int64)
    for b in range(k):
        starts[b] = -np.inf if first[b] == 0 else sample[first[b]]
        ends[b] = np.inf if last[b] == s - 1 else sample[last[b]]
        # room for twice the values strictly between the ends that the sample suggests (values
        # equal to an end are only counted: a value shared by many runs cannot overflow it)
        offsets[b + 1] = offsets[b] + min(n, 2 * (last[b] - first[b] + 1) * step + 1024)
    inside = np.empty(offsets[k] + 1)  # (+1: the slot every value that finds no room goes to)
    between = np.zeros(k, np.int64)
    at_start, at_end = np.zeros(k, np.int64), np.zeros(k, np.int64)
    before = np.zeros(k + 1, np.int64)  # values in the gap before each bracket (and after the last)
    room = offsets[1:] - offsets[:-1]
    spare = offsets[k]
    for i in range(n):
        x = values[i]
        b = 0
        for j in range(k):  # branch-free: the first bracket whose end is not below x
            b += x > ends[j]
        if b == k or x < starts[b]:
            before[b] += 1
        elif x == starts[b]:
            at_start[b] += 1
        elif x == ends[b]:
            at_end[b] += 1
        else:
            c = between[b]
            inside[offsets[b] + c if c < room[b] else spare] = x
            between[b] = c + 1
    found = np.empty(n_ranks)
    below, done = 0, 0
    for b in range(k):
        if between[b] > room[b]:
            return np.empty(0)
        below += before[b]
        size = at_start[b] + between[b] + at_end[b]
        todo = done
        while todo < n_ranks and ranks[todo] < below + size:
            if ranks[todo] < below:
                return np.empty(0)
            todo += 1
        if todo > done:
            local = ranks[done:todo] - below
            middle = np.partition(inside[offsets[b]:offsets[b] + between[b]], np.clip(local - at_start[b], 0, max(between[b] - 1, 0))) if between[b] else inside[:0]
            for t in range(todo - done):
                r = local[t]
                if r < at_start[b]:
                    found[done + t] = starts[b]
                elif r < at_start[b] + between[b]:
                    found[done + t] = middle[r - at_start[b]]
                else:
                    found[done + t] = ends[b]
            done = todo
        below += size
    if done < n_ranks:
        return np.empty(0)
    return found
