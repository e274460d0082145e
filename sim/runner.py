"""Runs in fixed-size chunks on any executor; results independent of chunking and workers.

A chunk is a contiguous block of run indices; each run draws from streams keyed by (seed, run
index) and its sampled parameters likewise, so any chunk size, worker count or executor gives
identical rows. :func:`execute_chunk` simulates one chunk, catching failures per run, reduces it
to mergeable statistics and (in folder mode) writes its Parquet part at once. :func:`drive`
feeds chunks to an executor and judges them in chunk-index order — for the sequential stopping
rule and for the first failure to report — so the answer never depends on which worker finished
first.

>>> from sim.config import compose_run_config
>>> config = compose_run_config(["experiment=smoke", "n_runs=4", "chunk_size=2", "horizon_days=20"])
>>> chunk_bounds(config, 1)
(2, 4)
>>> run_batch(config, workers=1, progress=False).table.num_rows
4
"""

from __future__ import annotations

import dataclasses
import logging
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa

from sim.config import RunConfig
from sim.engines.simpy_engine import simulate_run
from sim.executors import imap_unordered, open_executor, reuse_freed_memory
from sim.records import rows_to_table
from sim.sampling import run_stream, sample_parameters
from sim.stats import BatchStats, ChunkCounts, keeps_values

__all__ = ["RunFailed", "ChunkResult", "BatchResult", "chunk_bounds", "n_chunks", "simulate_chunk_rows",
           "execute_chunk", "drive", "run_batch", "halfwidth_reached"]

log = logging.getLogger(__name__)


class RunFailed(RuntimeError):
    """A run raised: the message names run index, chunk and seed so it can be reproduced alone."""

    def __init__(self, message: str, failures: tuple[dict, ...] = ()):
        super().__init__(message)
        self.failures = failures


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk produced: its statistics, failures, and its rows (in memory) or part file."""

    index: int
    rows: int
    stats: BatchStats | None  # None once merged into the batch's statistics
    failures: tuple[dict, ...] = ()
    table: pa.Table | None = None
    file: str | None = None
    sha256: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True)
class BatchResult:
    table: pa.Table
    wall_seconds: float
    workers: int
    n_chunks: int
    stats: BatchStats | None = None
    failures: tuple[dict, ...] = field(default_factory=tuple)


def n_chunks(config: RunConfig) -> int:
    return -(-config.max_runs // config.chunk_size)


def chunk_bounds(config: RunConfig, chunk_index: int) -> tuple[int, int]:
    start = chunk_index * config.chunk_size
    return start, min(start + config.chunk_size, config.max_runs)


def _failure(config: RunConfig, chunk_index: int, run_index: int, error: BaseException) -> dict:
    return {"chunk": chunk_index, "run_index": run_index, "seed": config.seed,
            "error": f"{type(error).__name__}: {error}",
            "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__))}


def simulate_chunk_rows(config: RunConfig, chunk_index: int) -> tuple[pa.Table, list[dict]]:
    """Simulate one chunk; each failing run is recorded (and stops the chunk under on_error=raise)."""
    table, failures, _ = _chunk_rows(config, chunk_index)
    return table, failures


def _chunk_rows(config: RunConfig, chunk_index: int) -> tuple[pa.Table, list[dict], ChunkCounts | None]:
    """simulate_chunk_rows, and the integer parts of the chunk's statistics if the engine counted them."""
    start, stop = chunk_bounds(config, chunk_index)
    sampled = sample_parameters(config.scenario, seed=config.seed, n_runs=config.max_runs, start=start,
                                stop=stop, uncertainty=config.uncertainty, method=config.sampling)
    if config.engine == "fast":
        return _fast_chunk(config, chunk_index, start, stop, sampled)
    point = config.scenario.point_values()
    rows, kept, failures = [], [], []
    for offset, run_index in enumerate(range(start, stop)):
        values = dict(point)
        values.update({name: float(column[offset]) for name, column in sampled.items()})
        try:
            result = simulate_run(config.scenario, values, run_stream(config.seed, run_index),
                                  horizon_days=config.horizon_days, run_index=run_index, start=config.start,
                                  max_events=config.max_events_per_run)
        except Exception as error:  # recorded, never raised across the process boundary
            failures.append(_failure(config, chunk_index, run_index, error))
            if config.on_error == "raise":
                break
            continue
        rows.append(result.row)
        kept.append(offset)
    return rows_to_table(rows, {name: column[kept] for name, column in sampled.items()}), failures, None


def _fast_chunk(config: RunConfig, chunk_index: int, start: int, stop: int, sampled: dict):
    """The compiled engine's chunk; its counts come along when every run succeeded."""
    from sim.engines.fast_engine import simulate_chunk, simulate_chunk_counted

    try:
        table, counted = simulate_chunk_counted(config, start, stop, sampled)
        return table, [], counted
    except Exception:  # isolate the failing runs one by one
        pass
    tables, failures = [], []
    for offset, run_index in enumerate(range(start, stop)):
        one = {name: column[offset:offset + 1] for name, column in sampled.items()}
        try:
            tables.append(simulate_chunk(config, run_index, run_index + 1, one))
        except Exception as error:
            failures.append(_failure(config, chunk_index, run_index, error))
            if config.on_error == "raise":
                break
    table = pa.concat_tables(tables) if tables else simulate_chunk(config, start, start, {k: v[:0] for k, v in sampled.items()})
    return table, failures, None


def execute_chunk(config: RunConfig, chunk_index: int, parts_dir: str | None = None) -> ChunkResult:
    """Simulate a chunk, reduce it to statistics, and write its part file when ``parts_dir`` is set.

    Runs in worker processes: it never raises for a failing run (failures come back as data).
    """
    started = time.perf_counter()
    reuse_freed_memory()
    table, failures, counted = _chunk_rows(config, chunk_index)
    stats = BatchStats.from_table(table, horizon_days=config.horizon_days, keep_values=keeps_values(config.max_runs),
                                  counted=counted)
    if parts_dir is None:
        return ChunkResult(chunk_index, table.num_rows, stats, tuple(failures), table=table,
                           seconds=time.perf_counter() - started)
    from sim import io

    name = part_name(chunk_index)
    path = Path(parts_dir) / name
    if not (failures and config.on_error == "raise"):
        # no fsync here: the manifest makes parts durable before it lists them (results._Manifest)
        digest = io.write_parquet(path, table, metadata=part_metadata(config, chunk_index), durable=False)
    else:
        name = digest = None
    return ChunkResult(chunk_index, table.num_rows, stats, tuple(failures), file=name, sha256=digest,
                       seconds=time.perf_counter() - started)


def part_name(chunk_index: int) -> str:
    return f"part-{chunk_index:06d}.parquet"


def part_metadata(config: RunConfig, chunk_index: int) -> dict[str, str]:
    """Key-value metadata stamped on each part, so a foreign part is recognised."""
    start, stop = chunk_bounds(config, chunk_index)
    return {"sim.seed": str(config.seed), "sim.chunk": str(chunk_index), "sim.runs": f"{start}-{stop}",
            "sim.scenario": config.scenario.name, "sim.engine": config.engine}


def halfwidth_reached(stats: BatchStats, target: float) -> bool:
    """Every outcome class's 95 % Wilson half-width is at most ``target``."""
    from sim.analysis import wilson_interval

    if stats.n_runs == 0:
        return False
    lo, hi = wilson_interval(stats.outcome_counts, np.full(stats.outcome_counts.shape, stats.n_runs))
    return bool(np.all((np.asarray(hi) - np.asarray(lo)) / 2.0 <= target))


def drive(config: RunConfig, *, skip: dict[int, BatchStats] | None = None, parts_dir: str | None = None,
          workers: int | None = None, on_chunk: Callable[[ChunkResult], None] | None = None,
          on_idle: Callable[[], None] | None = None, progress: bool = True
          ) -> tuple[list[ChunkResult], BatchStats, int]:
    """Run every chunk not in ``skip`` (already done: index -> stats); judge them in index order.

    ``on_chunk`` sees each result as it comes; ``on_idle`` is called once when only the worker
    processes' last chunks are left (see :func:`sim.executors.imap_unordered`).

    Returns the kept chunk results (index order), the merged statistics of every kept chunk
    (skipped ones included) and the number of chunks kept. Raises RunFailed on the first failure
    in index order under ``on_error=raise``.
    """
    skip = dict(skip or {})
    total = n_chunks(config)
    workers = workers or config.effective_workers
    judged = BatchStats.empty(horizon_days=config.horizon_days)
    done: dict[int, ChunkResult] = {}
    kept: list[ChunkResult] = []
    next_to_judge, stop_at = 0, total
    bar = _progress(config, progress, already=sum(s.n_runs for s in skip.values()))

    def judge_prefix() -> None:
        nonlocal next_to_judge, judged, stop_at
        while next_to_judge < stop_at and (next_to_judge in done or next_to_judge in skip):
            result = done.pop(next_to_judge, None)
            stats = skip[next_to_judge] if result is None else result.stats
            if result is not None:
                if result.failures and config.on_error == "raise":
                    first = result.failures[0]
                    raise RunFailed(f"run {first['run_index']} (chunk {first['chunk']}, seed {first['seed']}) "
                                    f"failed: {first['error']}", result.failures)
                kept.append(dataclasses.replace(result, stats=None))  # merged: ~0.75 MB a chunk less to hold
            judged = judged.merge(stats)
            next_to_judge += 1
            if config.sequential and halfwidth_reached(judged, config.stop_halfwidth) \
                    and judged.n_runs >= min(config.n_runs, config.max_runs):
                stop_at = next_to_judge

    todo = (index for index in range(total) if index not in skip)
    with open_executor(config.executor, workers=workers, address=config.executor_address) as executor:
        slots = workers
        if config.executor == "dask" and config.executor_address:  # an existing cluster: its size counts
            slots = max(workers, len(executor.scheduler_info().get("workers", {})))
        results = imap_unordered(executor, execute_chunk, ((config, index, parts_dir) for index in todo),
                                 window=max(2, 2 * slots), on_idle=on_idle)
        try:
            judge_prefix()
            for result in results:
                if result.index >= stop_at:
                    _discard(result, parts_dir)
                    continue
                done[result.index] = result
                if on_chunk is not None:
                    on_chunk(result)
                if bar is not None:
                    bar.update(result.rows + len(result.failures))
                _log_progress(result, next_to_judge, stop_at)
                judge_prefix()
                if next_to_judge >= stop_at:
                    break
        finally:
            results.close()
            if bar is not None:
                bar.close()
    for index in list(done):  # finished beyond the stopping point: not part of the answer
        _discard(done.pop(index), parts_dir)
    return kept, judged, next_to_judge


def _discard(result: ChunkResult, parts_dir: str | None) -> None:
    if parts_dir and result.file:
        (Path(parts_dir) / result.file).unlink(missing_ok=True)


def _progress(config: RunConfig, enabled: bool, *, already: int):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    total = None if config.sequential else config.n_runs
    bar = tqdm(total=total, unit="run", unit_scale=True, disable=None if enabled else True, desc="runs",
               smoothing=0.1)
    if already:
        bar.update(already)
    return bar


_last_log = [0.0]


def _log_progress(result: ChunkResult, judged: int, total: int) -> None:
    now = time.monotonic()
    if now - _last_log[0] >= 5.0 or judged + 1 >= total:
        _last_log[0] = now
        log.info("chunk %d done (%d runs, %.1f s); %d of %s chunks judged", result.index, result.rows,
                 result.seconds, judged, total if total < 10**9 else "?")


def run_batch(config: RunConfig, *, workers: int | None = None, progress: bool = True) -> BatchResult:
    """Run all chunks in memory (no files) and stack them in index order."""
    started = time.perf_counter()
    kept, stats, judged = drive(config, workers=workers, progress=progress)
    tables = [result.table for result in kept]
    table = pa.concat_tables(tables) if tables else rows_to_table([])
    failures = tuple(failure for result in kept for failure in result.failures)
    return BatchResult(table=table, wall_seconds=time.perf_counter() - started,
                       workers=workers or config.effective_workers, n_chunks=judged, stats=stats,
                       failures=failures)
