"""The runner: identical rows for any worker count and executor, sequential stopping judged in
chunk order, failures inside worker processes reported (raise) or counted (skip), never hung."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import compose_run_config
from sim.runner import RunFailed, run_batch
from sim.results import run_and_save

BASE = ["experiment=smoke", "n_runs=40", "chunk_size=10", "horizon_days=90"]


def same_values(a, b) -> bool:
    if a.column_names != b.column_names or a.num_rows != b.num_rows:
        return False
    for name in a.column_names:
        left, right = a.column(name), b.column(name)
        if str(left.type).startswith("double"):
            if not np.array_equal(left.to_numpy(), right.to_numpy(), equal_nan=True):
                return False
        elif left.to_pylist() != right.to_pylist():
            return False
    return True


@pytest.fixture(scope="module")
def serial_table():
    return run_batch(compose_run_config(BASE), workers=1, progress=False).table


@pytest.mark.parametrize("workers", [2, 4])
def test_local_worker_count_does_not_change_any_row(serial_table, workers):
    table = run_batch(compose_run_config(BASE), workers=workers, progress=False).table
    assert same_values(table, serial_table)


@pytest.mark.slow
def test_dask_local_cluster_gives_the_serial_rows(serial_table):
    table = run_batch(compose_run_config([*BASE, "executor=dask"]), workers=2, progress=False).table
    assert same_values(table, serial_table)


def _failing(extra=()):
    # max_events_per_run=700 trips in the runs with the most attacks: a real failure inside a run
    return compose_run_config(["experiment=smoke", "n_runs=30", "chunk_size=10", "horizon_days=365",
                               "max_events_per_run=820", "uncertainty=fixed", "seed=5", *extra])


@pytest.mark.parametrize("executor", ["local", pytest.param("dask", marks=pytest.mark.slow)])
def test_a_failing_run_inside_a_worker_stops_the_batch_naming_its_seed(executor):
    config = _failing([f"executor={executor}"])
    with pytest.raises(RunFailed, match=r"run \d+ \(chunk \d, seed 5\) failed: MaxEventsExceeded"):
        run_batch(config, workers=2, progress=False)


@pytest.mark.parametrize("executor", ["local", pytest.param("dask", marks=pytest.mark.slow)])
def test_on_error_skip_goes_on_and_counts_the_skipped_runs(executor):
    config = _failing(["on_error=skip", f"executor={executor}"])
    batch = run_batch(config, workers=2, progress=False)
    skipped = {failure["run_index"] for failure in batch.failures}
    assert 0 < len(skipped) < 30
    assert batch.table.num_rows == 30 - len(skipped)
    assert skipped.isdisjoint(batch.table.column("run_index").to_pylist())
    assert all("MaxEventsExceeded" in failure["traceback"] for failure in batch.failures)
    # the same failures whichever way the chunks ran
    serial = run_batch(config, workers=1, progress=False)
    assert skipped == {failure["run_index"] for failure in serial.failures}


def test_skipped_runs_are_reported_in_the_summary_and_failures_file(tmp_path):
    results = run_and_save(_failing(["on_error=skip", "plots=false"]), tmp_path / "r", progress=False, workers=2)
    assert results.summary["runs_skipped"] > 0
    assert results.summary["n_runs"] + results.summary["runs_skipped"] == 30
    assert (tmp_path / "r" / "failures.json").is_file()


def test_sequential_stopping_stops_at_the_first_chunk_meeting_the_half_width():
    config = compose_run_config(["experiment=smoke", "n_runs=10", "chunk_size=20", "horizon_days=30",
                                 "stop.halfwidth=0.06", "stop.max_runs=2000"])
    one = run_batch(config, workers=1, progress=False)
    two = run_batch(config, workers=2, progress=False)
    assert same_values(one.table, two.table)  # judged in chunk order: workers do not matter
    n = one.table.num_rows
    assert n % 20 == 0 and 20 <= n < 2000
    from sim.runner import halfwidth_reached
    from sim.stats import BatchStats

    stats = BatchStats.from_table(one.table, horizon_days=30)
    assert halfwidth_reached(stats, 0.06)
    shorter = BatchStats.from_table(one.table.slice(0, n - 20), horizon_days=30)
    assert not halfwidth_reached(shorter, 0.06)


def test_sequential_stopping_respects_max_runs():
    config = compose_run_config(["experiment=smoke", "n_runs=10", "chunk_size=20", "horizon_days=30",
                                 "stop.halfwidth=0.001", "stop.max_runs=60"])
    results = run_and_save(config, None, progress=False, workers=2)
    assert results.summary["n_runs"] == 60
    assert results.summary["stopping"]["reason"] == "max_runs reached"
