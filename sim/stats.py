"""Mergeable per-chunk statistics: the online summary that never needs all rows in memory.

Each finished chunk is reduced to a :class:`BatchStats` (outcome and event counts, per-metric
count/mean/sum of squared deviations, daily rung counts, daily first-event histograms); stats
merge exactly (Chan et al.'s pairwise update), always in chunk-index order so the result never
depends on which worker finished first. Quantiles are the only figures that need the rows again:
:func:`exact_quantiles` reads the stored parts one batch of columns at a time.

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
import pyarrow.parquet as pq

from sim.model import OUTCOME_CLASSES, RUNGS
from sim.records import FIRST_EVENTS, METRIC_COLUMNS

__all__ = ["BatchStats", "exact_quantiles"]


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

    @classmethod
    def empty(cls, *, horizon_days: float) -> "BatchStats":
        days = int(math.ceil(horizon_days))
        return cls(0, np.zeros(len(OUTCOME_CLASSES), np.int64), np.zeros(len(FIRST_EVENTS), np.int64),
                   np.zeros(len(METRIC_COLUMNS), np.int64), np.zeros(len(METRIC_COLUMNS)),
                   np.zeros(len(METRIC_COLUMNS)), np.zeros((days, len(RUNGS)), np.int64),
                   np.zeros((len(FIRST_EVENTS), days), np.int64))

    def add_metric_values(self, index: int, values: np.ndarray) -> None:
        """Fold the finite values of one metric into its running mean and M2."""
        finite = values[np.isfinite(values)]
        if finite.size == 0:
            return
        n_b, mean_b = finite.size, float(finite.mean())
        m2_b = float(((finite - mean_b) ** 2).sum())
        self.metric_n[index], self.metric_mean[index], self.metric_m2[index] = _combine(
            int(self.metric_n[index]), float(self.metric_mean[index]), float(self.metric_m2[index]),
            n_b, mean_b, m2_b)

    @classmethod
    def from_table(cls, table: pa.Table, *, horizon_days: float) -> "BatchStats":
        """Reduce a table of runs (one chunk) to its statistics."""
        stats = cls.empty(horizon_days=horizon_days)
        stats.n_runs = table.num_rows
        if table.num_rows == 0:
            return stats
        outcomes = np.asarray(table.column("outcome").to_numpy(zero_copy_only=False))
        stats.outcome_counts[:] = [(outcomes == name).sum() for name in OUTCOME_CLASSES]
        days = stats.rung_day_counts.shape[0]
        for index, kind in enumerate(FIRST_EVENTS):
            first = table.column(f"first_{kind}_day").to_numpy()
            happened = np.isfinite(first)
            stats.event_counts[index] = int(happened.sum())
            day = np.minimum(first[happened].astype(np.int64), days - 1)
            stats.first_day_counts[index] = np.bincount(day, minlength=days)[:days]
        for index, name in enumerate(METRIC_COLUMNS):
            stats.add_metric_values(index, table.column(name).to_numpy().astype(float))
        daily = table.column("rung_daily").combine_chunks()
        rungs = daily.flatten().to_numpy().reshape(table.num_rows, -1)[:, :days]  # int8, no copy
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
        return merged

    @classmethod
    def merge_all(cls, parts: Iterable["BatchStats"], *, horizon_days: float) -> "BatchStats":
        total = cls.empty(horizon_days=horizon_days)
        for part in parts:
            total = total.merge(part)
        return total

    def to_dict(self) -> dict:
        return {"n_runs": self.n_runs, **{name: getattr(self, name).tolist() for name in (
            "outcome_counts", "event_counts", "metric_n", "metric_mean", "metric_m2",
            "rung_day_counts", "first_day_counts")}}


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


def _combine(n_a: int, mean_a: float, m2_a: float, n_b: int, mean_b: float, m2_b: float):
    if n_b == 0:
        return n_a, mean_a, m2_a
    if n_a == 0:
        return n_b, mean_b, m2_b
    n = n_a + n_b
    delta = mean_b - mean_a
    return n, mean_a + delta * n_b / n, m2_a + m2_b + delta * delta * n_a * n_b / n


def exact_quantiles(sources: Sequence[Path] | pa.Table, columns: Sequence[str], probabilities: Sequence[float],
                    *, max_bytes: int = 192 * 2**20) -> dict[str, list[float | None]]:
    """Exact quantiles (numpy's default method, NaN ignored) of each column over all runs.

    ``sources`` is a table or the list of Parquet part files; columns are read a few at a time
    into preallocated arrays, so memory stays below about ``max_bytes`` whatever the number of runs.
    """
    if isinstance(sources, pa.Table):
        n_rows = sources.num_rows

        def read(names):
            return {name: sources.column(name).to_numpy().astype(float) for name in names}
    else:
        n_rows = sum(pq.ParquetFile(path).metadata.num_rows for path in sources)

        def read(names):
            arrays = {name: np.empty(n_rows) for name in names}
            offset = 0
            for path in sources:
                part = pq.ParquetFile(path).read(columns=list(names))  # (read_table: 3 ms more a call)
                for name in names:
                    arrays[name][offset:offset + part.num_rows] = part.column(name).to_numpy()
                offset += part.num_rows
            return arrays

    def quantiles_of(values: np.ndarray) -> list[float | None]:
        finite = values[np.isfinite(values)] if np.isnan(values).any() else values
        return [float(q) for q in np.quantile(finite, probabilities)] if finite.size else [None] * len(probabilities)

    per_batch = max(1, int(max_bytes // max(1, 8 * n_rows)))
    result: dict[str, list[float | None]] = {}
    # numpy's partition releases the GIL: columns of a batch on every core (memory: one copy each)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for start in range(0, len(columns), per_batch):
            names = list(columns[start:start + per_batch])
            arrays = read(names)
            for name, values in zip(names, pool.map(quantiles_of, [arrays[name] for name in names])):
                result[name] = values
            del arrays
    return result
