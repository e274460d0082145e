"""The integer part of a chunk's statistics, counted from the compiled engine's output arrays.

:meth:`sim.stats.BatchStats.from_table` counts first-event days and integer metrics' values from
the chunk's Arrow table, a dozen numpy calls per column; for the compiled engine that was a few
per cent of a chunk's time. :func:`chunk_counts` counts the same things in one compiled pass over
the arrays the table is built from, and takes the daily rung counts the kernel accumulated while
it filled each run's daily rungs. Counts are exact, so both ways agree to the last unit
(``tests/test_fast_engine.py`` checks every field); means and variances are still computed by
``from_table`` itself, so they too are the same whichever way a chunk's statistics came.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.model import OUTCOME_CLASSES
from sim.stats import MAX_COUNTED_RANGE, ChunkCounts

__all__ = ["chunk_counts"]


@njit(cache=True, nogil=True)
def _count_first_days(first, days, event_counts, first_day_counts):
    """Per event kind (columns of ``first``): runs in which it happened, and per day how many
    had it first on that day (days past the last in the last), as from_table counts them."""
    for i in range(first.shape[0]):
        for kind in range(first.shape[1]):
            day = first[i, kind]
            if math.isfinite(day):
                event_counts[kind] += 1
                first_day_counts[kind, min(int(day), days - 1)] += 1


@njit(cache=True, nogil=True)
def _integer_columns(fatal, counts, max_rung):
    """The integer metrics as rows, in records.INTEGER_METRICS' order: fatalities by category,
    their total, the event counts, the highest rung."""
    n, n_fatal, n_counts = fatal.shape[0], fatal.shape[1], counts.shape[1]
    values = np.empty((n_fatal + n_counts + 2, n), np.int64)
    for i in range(n):
        total = 0
        for category in range(n_fatal):
            values[category, i] = fatal[i, category]
            total += fatal[i, category]
        values[n_fatal, i] = total
        for kind in range(n_counts):
            values[n_fatal + 1 + kind, i] = counts[i, kind]
        values[n_fatal + n_counts + 1, i] = max_rung[i]
    return values


@njit(cache=True, nogil=True)
def _count_values(values, max_range, lows, widths):
    """Each row's lowest value and counts from it up, one flat array; width -1 where the values
    spread over ``max_range`` or more (from_table then keeps no counts)."""
    n_metrics, n = values.shape
    starts = np.zeros(n_metrics + 1, np.int64)
    for metric in range(n_metrics):
        low = high = values[metric, 0]
        for i in range(1, n):
            low = min(low, values[metric, i])
            high = max(high, values[metric, i])
        lows[metric] = low
        widths[metric] = high - low + 1 if high - low < max_range else -1
        starts[metric + 1] = starts[metric] + max(widths[metric], 0)
    flat = np.zeros(starts[n_metrics], np.int64)
    for metric in range(n_metrics):
        if widths[metric] > 0:
            offset = starts[metric] - lows[metric]
            for i in range(n):
                flat[offset + values[metric, i]] += 1
    return flat


def chunk_counts(out: dict, outcome_codes: np.ndarray) -> ChunkCounts:
    """The :class:`~sim.stats.ChunkCounts` of a chunk from the engine's output arrays ``out``
    (``first``, ``fatal``, ``counts``, ``max_rung`` and the kernel's ``rung_changes``) and its
    runs' outcome codes.

    >>> out = dict(first=np.array([[0.5, np.nan], [3.2, 1.0]]), fatal=np.array([[1, 2], [0, 0]]),
    ...            counts=np.array([[4], [6]]), max_rung=np.array([1, 3], np.int8),
    ...            rung_changes=np.array([[2, 0], [-1, 1], [0, 0], [-1, -1]]))
    >>> counted = chunk_counts(out, np.array([0, 1], np.int8))
    >>> counted.outcome_counts.tolist()
    [1, 1, 0, 0, 0]
    >>> counted.event_counts.tolist(), counted.first_day_counts.tolist()
    ([2, 1], [[1, 0, 1], [0, 1, 0]])
    >>> [(low, counts.tolist()) for low, counts in counted.value_counts][2:]
    [(0, [1, 0, 0, 1]), (4, [1, 0, 1]), (1, [1, 0, 1])]
    >>> counted.rung_day_counts.tolist()
    [[2, 0], [1, 1], [1, 1]]
    """
    days = out["rung_changes"].shape[0] - 1
    first = out["first"]
    event_counts = np.zeros(first.shape[1], np.int64)
    first_day_counts = np.zeros((first.shape[1], days), np.int64)
    if first.shape[0]:
        _count_first_days(first, days, event_counts, first_day_counts)
    values = _integer_columns(out["fatal"], out["counts"], out["max_rung"])
    value_counts = [(0, np.zeros(0, np.int64)) for _ in range(values.shape[0])]
    if first.shape[0]:
        lows, widths = np.zeros(values.shape[0], np.int64), np.zeros(values.shape[0], np.int64)
        flat = _count_values(values, MAX_COUNTED_RANGE, lows, widths)
        start = 0
        for metric, (low, width) in enumerate(zip(lows.tolist(), widths.tolist())):
            value_counts[metric] = None if width < 0 else (low, flat[start:start + width])
            start += max(width, 0)
    return ChunkCounts(
        outcome_counts=np.bincount(outcome_codes, minlength=len(OUTCOME_CLASSES)).astype(np.int64),
        event_counts=event_counts, first_day_counts=first_day_counts, value_counts=value_counts,
        rung_day_counts=np.cumsum(out["rung_changes"][:days], axis=0))
