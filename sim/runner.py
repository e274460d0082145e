"""Runs in fixed-size chunks, spread over worker processes; results independent of both.

A chunk is a contiguous block of run indices; each run draws from its own stream keyed by
(seed, run index) and its sampled parameters are keyed likewise, so any chunking and any
number of workers give identical rows. Chunks are gathered back in index order.

>>> from sim.config import compose_run_config
>>> config = compose_run_config(["experiment=smoke", "n_runs=4", "chunk_size=2", "horizon_days=20"])
>>> chunk_bounds(config, 1)
(2, 4)
>>> run_batch(config, workers=1, progress=False).table.num_rows
4
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import pyarrow as pa

from sim.config import RunConfig
from sim.engines.simpy_engine import simulate_run
from sim.records import rows_to_table
from sim.sampling import run_stream, sample_parameters

__all__ = ["RunFailed", "BatchResult", "chunk_bounds", "n_chunks", "run_chunk", "run_batch"]

log = logging.getLogger(__name__)


class RunFailed(RuntimeError):
    """A run raised: the message names run index and seed so it can be reproduced alone."""


@dataclass(frozen=True)
class BatchResult:
    table: pa.Table
    wall_seconds: float
    workers: int
    n_chunks: int


def n_chunks(config: RunConfig) -> int:
    return -(-config.n_runs // config.chunk_size)


def chunk_bounds(config: RunConfig, chunk_index: int) -> tuple[int, int]:
    start = chunk_index * config.chunk_size
    return start, min(start + config.chunk_size, config.n_runs)


def run_chunk(config: RunConfig, chunk_index: int) -> pa.Table:
    """Simulate one chunk of runs and return its rows (with sampled parameters) as a table."""
    start, stop = chunk_bounds(config, chunk_index)
    scenario = config.scenario
    sampled = sample_parameters(scenario, seed=config.seed, n_runs=config.n_runs, start=start, stop=stop,
                                uncertainty=config.uncertainty, method=config.sampling)
    if config.engine == "fast":
        from sim.engines.fast_engine import simulate_chunk

        return simulate_chunk(config, start, stop, sampled)
    point = scenario.point_values()
    rows = []
    for offset, run_index in enumerate(range(start, stop)):
        values = dict(point)
        values.update({name: float(column[offset]) for name, column in sampled.items()})
        try:
            result = simulate_run(scenario, values, run_stream(config.seed, run_index),
                                  horizon_days=config.horizon_days, run_index=run_index,
                                  max_events=config.max_events_per_run)
        except Exception as error:
            raise RunFailed(f"run {run_index} (chunk {chunk_index}, seed {config.seed}) failed: "
                            f"{type(error).__name__}: {error}") from error
        rows.append(result.row)
    return rows_to_table(rows, sampled)


def _progress(total: int, enabled: bool):
    try:
        from tqdm.auto import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return None
    return tqdm(total=total, unit="run", disable=None if enabled else True, desc="runs")


def run_batch(config: RunConfig, *, workers: int | None = None, progress: bool = True) -> BatchResult:
    """Run all chunks (in worker processes when more than one) and stack them in order."""
    started = time.perf_counter()
    total_chunks = n_chunks(config)
    workers = workers or config.effective_workers
    bar = _progress(config.n_runs, progress)
    tables: dict[int, pa.Table] = {}
    try:
        if workers == 1:
            for index in range(total_chunks):
                tables[index] = run_chunk(config, index)
                _advance(bar, tables[index].num_rows, index, total_chunks)
        else:
            context = multiprocessing.get_context("spawn")  # safe inside launchers and threads
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(run_chunk, config, index): index for index in range(total_chunks)}
                try:
                    for future in as_completed(futures):
                        index = futures[future]
                        tables[index] = future.result()
                        _advance(bar, tables[index].num_rows, len(tables) - 1, total_chunks)
                except BaseException:
                    for future in futures:
                        future.cancel()
                    raise
    finally:
        if bar is not None:
            bar.close()
    table = pa.concat_tables([tables[index] for index in range(total_chunks)])
    return BatchResult(table=table, wall_seconds=time.perf_counter() - started, workers=workers,
                       n_chunks=total_chunks)


def _advance(bar, runs: int, done_index: int, total_chunks: int) -> None:
    if bar is not None:
        bar.update(runs)
    step = max(1, total_chunks // 10)
    if (done_index + 1) % step == 0 or done_index + 1 == total_chunks:
        log.info("finished %d of %d chunks", done_index + 1, total_chunks)
