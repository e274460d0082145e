"""Mergeable per-chunk statistics: the online summary that never needs all rows in memory.

Each finished chunk is reduced to a :class:`BatchStats` (outcome and event counts, per-metric
count/mean/sum of squared deviations, daily rung counts, daily first-event histograms); stats
merge exactly (Chan et al.'s pairwise update), always in chunk-index order so the result never
depends on which worker finished first. The integer metrics (counts, deaths, rungs) also carry
their value counts, so their quantiles are exact with no second look at the rows. The others'
quantiles need every value: while a batch is small enough (:func:`keeps_values`) the statistics
carry those values along, chunk by chunk; beyond that :func:`exact_quantiles` reads them again
from the stored parts, one batch of columns at a time. :func:`metric_quantiles` puts it together.

>>> import numpy as np
>>> a = BatchStats.empty(horizon_days=10); a.add_metric_values(0, np.array([1.0, 2.0]))
>>> b = BatchStats.empty(horizon_days=10); b.add_metric_values(0, np.array([3.0, np.nan]))
>>> merged = a.merge(b)
>>> int(merged.metric_n[0]), float(merged.metric_mean[0]), float(merged.metric_m2[0])
(3, 2.0, 2.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim.columns import strings, to_numpy
from sim.model import OUTCOME_CLASSES, RUNGS
from sim.records import FIRST_EVENTS, INTEGER_METRICS, METRIC_COLUMNS

__all__ = ["BatchStats", "ChunkCounts", "KEPT_METRICS", "exact_quantiles", "keeps_values", "kept_quantiles", "metric_quantiles",
           "linear_quantiles", "quantiles_from_counts", "SAMPLED_FROM"]

_OUTCOME_NAMES = strings(OUTCOME_CLASSES)

#: Widest range of values an integer metric's value counts may span (else: the second pass).
MAX_COUNTED_RANGE = 1 << 22

#: The metrics whose quantiles need their values (the rest have value counts).
KEPT_METRICS: tuple[str, ...] = tuple(name for name in METRIC_COLUMNS if name not in INTEGER_METRICS)

#: Columns at least this long get their quantiles from sim.selection (a sorted sample): same numbers, ~2x faster.
SAMPLED_FROM = 200_000

#: Largest batch whose KEPT_METRICS values ride along with its statistics (8 bytes a value).
KEPT_VALUES_BYTES = 256 * 2**20


def keeps_values(max_runs: int) -> bool:
    """Whether a batch of up to ``max_runs`` runs carries its values for quantiles in memory
    (up to about 1.4 million runs), sparing the second pass over the stored parts.

    >>> keeps_values(1_000_000), keeps_values(10_000_000)
    (True, False)
    """
    return max_runs * len(KEPT_METRICS) * 8 <= KEPT_VALUES_BYTES


@dataclass(frozen=True)
class ChunkCounts:
    """The integer parts of a chunk's :class:`BatchStats`, counted by an engine that has them at
    hand (the compiled engine: :mod:`sim.engines.fast_stats`); exactly what ``from_table`` would
    count from the chunk's table (same fields, same meaning)."""

    outcome_counts: np.ndarray
    event_counts: np.ndarray
    first_day_counts: np.ndarray
    value_counts: list
    rung_day_counts: np.ndarray


@dataclass
class BatchStats:
    """Sufficient statistics of a set of runs for every figure in ``summary.json`` but quantiles."""

    n_runs: int
    outcome_counts: np.ndarray      # per OUTCOME_CLASSES
    event_counts: np.ndarray        # runs in which each FIRST_EVENTS kind happened
    metric_n: np.ndarray            # finite values per METRIC_COLUMNS
    metric_mean: np.ndarray
    metric_m2: np.ndarray           # sum of squared deviations from the mean
    rung_day_counts: np.ndarray     # days x rungs: runs on each rung at the end of each day
    first_day_counts: np.ndarray    # FIRST_EVENTS x days: runs whose first event fell in that day
    # per INTEGER_METRICS: (lowest value, counts of lowest, lowest + 1, ...), or None when the
    # values spread wider than MAX_COUNTED_RANGE (that metric's quantiles then need the rows)
    value_counts: list
    # per KEPT_METRICS: its values, one array per chunk (chunk-index order); None: not kept
    kept_values: list | None = None

    @classmethod
    def empty(cls, *, horizon_days: float) -> "BatchStats":
        days = int(math.ceil(horizon_days))
        return cls(0, np.zeros(len(OUTCOME_CLASSES), np.int64), np.zeros(len(FIRST_EVENTS), np.int64),
                   np.zeros(len(METRIC_COLUMNS), np.int64), np.zeros(len(METRIC_COLUMNS)),
                   np.zeros(len(METRIC_COLUMNS)), np.zeros((days, len(RUNGS)), np.int64),
                   np.zeros((len(FIRST_EVENTS), days), np.int64),
                   [(0, np.zeros(0, np.int64)) for _ in INTEGER_METRICS])

    def integer_quantiles(self, probabilities: Sequence[float]) -> dict[str, list[float | None]]:
        """Exact quantiles (as :func:`exact_quantiles` gives them) of the integer metrics counted."""
        return {name: quantiles_from_counts(*counted, probabilities)
                for name, counted in zip(INTEGER_METRICS, self.value_counts) if counted is not None}

    def add_metric_values(self, index: int, values: np.ndarray) -> None:
        """Fold the finite values of one metric into its running mean and M2."""
        finite = values.astype(float) if values.dtype.kind in "iub" else values[np.isfinite(values)]
        if finite.size == 0:
            return
        n_b, mean_b = finite.size, float(finite.mean())
        m2_b = float(((finite - mean_b) ** 2).sum())
        self.metric_n[index], self.metric_mean[index], self.metric_m2[index] = _combine(
            int(self.metric_n[index]), float(self.metric_mean[index]), float(self.metric_m2[index]),
            n_b, mean_b, m2_b)

    @classmethod
    def from_table(cls, table: pa.Table, *, horizon_days: float, keep_values: bool = False,
                   counted: ChunkCounts | None = None) -> "BatchStats":
        """Reduce a table of runs (one chunk) to its statistics; ``keep_values``: with the values of
        KEPT_METRICS, for exact quantiles without a second pass; ``counted``: the integer parts,
        already counted by the engine (then only the moments are computed here)."""
        stats = cls.empty(horizon_days=horizon_days)
        stats.n_runs = table.num_rows
        if keep_values:
            stats.kept_values = [[] for _ in KEPT_METRICS]
        if table.num_rows == 0:
            return stats
        columns = {name: to_numpy(table.column(name)) for name in METRIC_COLUMNS}  # first-event days included
        for index, name in enumerate(METRIC_COLUMNS):
            stats.add_metric_values(index, columns[name])
        if keep_values:  # copies: no view into the table's buffers outlives the table
            stats.kept_values = [[np.array(columns[name], dtype=float)] for name in KEPT_METRICS]
        if counted is not None:
            stats.outcome_counts[:] = counted.outcome_counts
            stats.event_counts[:] = counted.event_counts
            stats.first_day_counts[:] = counted.first_day_counts
            stats.value_counts = list(counted.value_counts)
            stats.rung_day_counts[:] = counted.rung_day_counts
            return stats
        codes = pc.index_in(table.column("outcome"), value_set=_OUTCOME_NAMES)
        if codes.null_count:
            raise ValueError(f"outcome column holds a class not in {list(OUTCOME_CLASSES)}")
        stats.outcome_counts[:] = np.bincount(to_numpy(codes), minlength=len(OUTCOME_CLASSES))
        days = stats.rung_day_counts.shape[0]
        for index, kind in enumerate(FIRST_EVENTS):
            first = columns[f"first_{kind}_day"]
            happened = np.isfinite(first)
            stats.event_counts[index] = int(happened.sum())
            day = np.minimum(first[happened].astype(np.int64), days - 1)
            stats.first_day_counts[index] = np.bincount(day, minlength=days)[:days]
        stats.value_counts = [_value_counts(columns[name]) for name in INTEGER_METRICS]
        daily = table.column("rung_daily").combine_chunks()
        rungs = to_numpy(daily.flatten()).reshape(table.num_rows, -1)[:, :days]  # int8, no copy
        stats.rung_day_counts[:] = _rung_day_counts(rungs, len(RUNGS))
        return stats

    def merge(self, other: "BatchStats") -> "BatchStats":
        """The statistics of both sets of runs (exact)."""
        merged = BatchStats.empty(horizon_days=self.rung_day_counts.shape[0])
        merged.n_runs = self.n_runs + other.n_runs
        merged.outcome_counts = self.outcome_counts + other.outcome_counts
        merged.event_counts = self.event_counts + other.event_counts
        merged.rung_day_counts = self.rung_day_counts + other.rung_day_counts
        merged.first_day_counts = self.first_day_counts + other.first_day_counts
        for index in range(len(METRIC_COLUMNS)):
            merged.metric_n[index], merged.metric_mean[index], merged.metric_m2[index] = _combine(
                int(self.metric_n[index]), float(self.metric_mean[index]), float(self.metric_m2[index]),
                int(other.metric_n[index]), float(other.metric_mean[index]), float(other.metric_m2[index]))
        merged.value_counts = [_merge_counts(a, b) for a, b in zip(self.value_counts, other.value_counts)]
        merged.kept_values = _merge_kept(self, other)
        return merged

    @classmethod
    def merge_all(cls, parts: Iterable["BatchStats"], *, horizon_days: float) -> "BatchStats":
        total = cls.empty(horizon_days=horizon_days)
        for part in parts:
            total = total.merge(part)
        return total


def _merge_kept(a: BatchStats, b: BatchStats) -> list | None:
    """Kept values of both (a's chunks first); None unless both kept theirs (empty stats never count)."""
    if b.n_runs == 0 and b.kept_values is None:
        return a.kept_values
    if a.n_runs == 0 and a.kept_values is None:
        return b.kept_values
    if a.kept_values is None or b.kept_values is None:
        return None
    return [first + second for first, second in zip(a.kept_values, b.kept_values)]


def _rung_day_counts(rungs: np.ndarray, n_rungs: int) -> np.ndarray:
    """Runs on each rung at the end of each day, from a runs x days array of rungs.

    Counts day 0, then adds each run's day-to-day changes (rare) and accumulates: one pass over
    the array instead of one per rung.

    >>> _rung_day_counts(np.array([[0, 0, 2], [1, 0, 0]], np.int8), 3).tolist()
    [[1, 1, 0], [2, 0, 0], [1, 0, 1]]
    """
    n_runs, days = rungs.shape
    change = np.zeros((days, n_rungs), np.int64)
    if n_runs == 0 or days == 0:
        return change
    change[0] = np.bincount(rungs[:, 0], minlength=n_rungs)
    flat = np.ascontiguousarray(rungs).reshape(-1)
    at = np.flatnonzero(flat[1:] != flat[:-1]) + 1  # 1-d: far faster than a 2-d nonzero
    at = at[at % days != 0]                          # not across two runs
    if at.size:
        to, came_from = flat[at].astype(np.int64), flat[at - 1].astype(np.int64)
        day = at % days
        moves = np.bincount(day * n_rungs + to, minlength=days * n_rungs)
        moves -= np.bincount(day * n_rungs + came_from, minlength=days * n_rungs)
        change += moves.reshape(days, n_rungs)
    return np.cumsum(change, axis=0)


def _value_counts(values: np.ndarray):
    """(lowest value, counts from it up) of an integer column; None when the range is too wide."""
    if values.size == 0:
        return 0, np.zeros(0, np.int64)
    low, high = int(values.min()), int(values.max())
    if high - low >= MAX_COUNTED_RANGE:
        return None
    return low, np.bincount((values - low).astype(np.intp, copy=False), minlength=high - low + 1).astype(np.int64)


def _merge_counts(a, b):
    if a is None or b is None:
        return None
    (low_a, counts_a), (low_b, counts_b) = a, b
    if counts_b.size == 0:
        return a
    if counts_a.size == 0:
        return b
    low, high = min(low_a, low_b), max(low_a + counts_a.size, low_b + counts_b.size)
    if high - low > MAX_COUNTED_RANGE:
        return None
    merged = np.zeros(high - low, np.int64)
    merged[low_a - low:low_a - low + counts_a.size] += counts_a
    merged[low_b - low:low_b - low + counts_b.size] += counts_b
    return low, merged


def quantiles_from_counts(low: int, counts: np.ndarray, probabilities: Sequence[float]) -> list[float | None]:
    """Quantiles of the integers ``low, low + 1, ...`` seen ``counts`` times: numpy's default
    (linear) method, the same floating-point result as ``np.quantile`` of all the values.

    >>> quantiles_from_counts(2, np.array([1, 0, 3]), [0.0, 0.5, 0.9])  # the values 2, 4, 4, 4
    [2.0, 4.0, 4.0]
    >>> [float(q) for q in np.quantile([2.0, 4.0, 4.0, 4.0], [0.0, 0.5, 0.9])]
    [2.0, 4.0, 4.0]
    """
    n = int(counts.sum())
    if n == 0:
        return [None] * len(probabilities)
    cumulative = np.cumsum(counts)
    return linear_quantiles(n, probabilities,
                            lambda k: float(low + int(np.searchsorted(cumulative, k, side="right"))))


def linear_ranks(n: int, probabilities: Sequence[float]) -> list[tuple[int, int, float]]:
    """Per probability, the two order statistics (from 0) that numpy's default (linear) method
    interpolates between for ``n`` values, and the weight of the second.

    >>> linear_ranks(5, [0.0, 0.625, 1.0])
    [(0, 1, 0.0), (2, 3, 0.5), (4, 4, 0.0)]
    """
    ranks = []
    for p in probabilities:
        position = (n - 1) * float(p)  # numpy's virtual index for the linear method
        below = math.floor(position)
        ranks.append((below, min(below + 1, n - 1), position - below))
    return ranks


def linear_quantiles(n: int, probabilities: Sequence[float], order_statistic) -> list[float]:
    """numpy's default quantiles of ``n`` values, given ``order_statistic(k)``, the k-th smallest
    (from 0): interpolated exactly as numpy does, so the result is ``np.quantile``'s to the bit.

    >>> linear_quantiles(5, [0.3, 0.5], [10.0, 20.0, 30.0, 40.0, 50.0].__getitem__)
    [22.0, 30.0]
    """
    return [_lerp(order_statistic(a), order_statistic(b), weight) for a, b, weight in linear_ranks(n, probabilities)]


def _lerp(a: float, b: float, weight: float) -> float:
    return float(np.quantile(np.array([a, b]), weight))  # numpy's own lerp between neighbours


def metric_quantiles(stats: BatchStats, sources: Sequence[Path] | pa.Table,
                     probabilities: Sequence[float]) -> dict[str, list[float | None]]:
    """Exact quantiles of every METRIC_COLUMNS column: integer metrics from ``stats``' value counts,
    the others from the values ``stats`` kept, else by a pass over ``sources`` (a table, or the
    part files ``stats`` was built from)."""
    counted = stats.integer_quantiles(probabilities)
    rest = [name for name in METRIC_COLUMNS if name not in counted]
    if not rest:
        read = {}
    elif stats.kept_values is not None and set(rest) <= set(KEPT_METRICS):
        read = kept_quantiles(stats, rest, probabilities)
    else:
        read = exact_quantiles(sources, rest, probabilities)
    return {name: counted[name] if name in counted else read[name] for name in METRIC_COLUMNS}


def kept_quantiles(stats: BatchStats, columns: Sequence[str],
                   probabilities: Sequence[float]) -> dict[str, list[float | None]]:
    """Exact quantiles (as :func:`exact_quantiles` gives them) of KEPT_METRICS ``columns`` from the
    values ``stats`` carries, one column at a time on every core."""
    if stats.kept_values is None:
        raise ValueError("these statistics kept no values (keep_values=False, or too many runs)")

    def one(name: str) -> list[float | None]:
        chunks = stats.kept_values[KEPT_METRICS.index(name)]
        return _finite_quantiles(np.concatenate(chunks) if chunks else np.zeros(0), probabilities)

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return dict(zip(columns, pool.map(one, columns)))


def _finite_quantiles(values: np.ndarray, probabilities: Sequence[float]) -> list[float | None]:
    """numpy's default quantiles of the finite values (None for each when there are none)."""
    finite = values[np.isfinite(values)] if np.isnan(values).any() else values
    if finite.size == 0:
        return [None] * len(probabilities)
    if finite.size < SAMPLED_FROM:
        return [float(q) for q in np.quantile(finite, probabilities)]
    from sim.selection import quantiles  # (imported here: numba only when a column is this large)

    return quantiles(finite, probabilities)


def _combine(n_a: int, mean_a: float, m2_a: float, n_b: int, mean_b: float, m2_b: float):
    if n_b == 0:
        return n_a, mean_a, m2_a
    if n_a == 0:
        return n_b, mean_b, m2_b
    n = n_a + n_b
    delta = mean_b - mean_a
    return n, mean_a + delta * n_b / n, m2_a + m2_b + delta * delta * n_a * n_b / n


def exact_quantiles(sources: Sequence[Path] | pa.Table, columns: Sequence[str], probabilities: Sequence[float],
                    *, max_bytes: int = 224 * 2**20) -> dict[str, list[float | None]]:
    """Exact quantiles (numpy's default method, NaN ignored) of each column over all runs.

    ``sources`` is a table or the list of Parquet part files; columns are read a few at a time
    into preallocated arrays, so memory stays below about ``max_bytes`` whatever the number of runs
    (a million runs' 24 float columns fit in one batch: each part file is opened once).
    """
    threads = os.cpu_count() or 1
    if isinstance(sources, pa.Table):
        n_rows = sources.num_rows

        def read(names, pool):
            return {name: sources.column(name).to_numpy().astype(float) for name in names}
    else:
        sizes = [pq.ParquetFile(path).metadata.num_rows for path in sources]
        offsets = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        n_rows = int(offsets[-1])

        def read(names, pool):
            arrays = {name: np.empty(n_rows) for name in names}

            def load(k: int) -> None:  # parts on every core: decoding releases the GIL
                part = pq.ParquetFile(sources[k]).read(columns=list(names), use_threads=False)
                for name in names:
                    arrays[name][offsets[k]:offsets[k + 1]] = part.column(name).to_numpy()

            list(pool.map(load, range(len(sources))))
            return arrays

    per_batch = max(1, int(max_bytes // max(1, 8 * n_rows)))
    result: dict[str, list[float | None]] = {}
    # numpy's partition releases the GIL: columns of a batch on every core (memory: one copy each)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for start in range(0, len(columns), per_batch):
            names = list(columns[start:start + per_batch])
            arrays = read(names, pool)
            for name, values in zip(names, pool.map(lambda values: _finite_quantiles(values, probabilities),
                                                  [arrays[name] for name in names])):
                result[name] = values
            del arrays
    return result
