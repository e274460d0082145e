"""Mergeable chunk statistics equal the statistics of all rows at once; quantiles are exact."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from sim.config import compose_run_config
from sim.io import write_parquet
from sim.records import INTEGER_METRICS, METRIC_COLUMNS
from sim.runner import run_batch
from sim.stats import (KEPT_METRICS, BatchStats, exact_quantiles, keeps_values, kept_quantiles, metric_quantiles,
                       quantiles_from_counts)


@pytest.fixture(scope="module")
def table():
    config = compose_run_config(["experiment=smoke", "n_runs=90", "horizon_days=120", "chunk_size=30"])
    return run_batch(config, workers=1, progress=False).table


def test_merged_chunk_stats_equal_the_whole_tables(table):
    whole = BatchStats.from_table(table, horizon_days=120)
    parts = [BatchStats.from_table(table.slice(start, 30), horizon_days=120) for start in (0, 30, 60)]
    merged = BatchStats.merge_all(parts, horizon_days=120)
    assert merged.n_runs == whole.n_runs == 90
    for name in ("outcome_counts", "event_counts", "metric_n", "rung_day_counts", "first_day_counts"):
        assert np.array_equal(getattr(merged, name), getattr(whole, name)), name
    for name, (low, counts), (whole_low, whole_counts) in zip(INTEGER_METRICS, merged.value_counts, whole.value_counts):
        assert low == whole_low and np.array_equal(counts, whole_counts), name
    np.testing.assert_allclose(merged.metric_mean, whole.metric_mean, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(merged.metric_m2, whole.metric_m2, rtol=1e-9, atol=1e-6)


def test_metric_moments_match_numpy(table):
    stats = BatchStats.from_table(table, horizon_days=120)
    for index, name in enumerate(METRIC_COLUMNS):
        values = table.column(name).to_numpy().astype(float)
        finite = values[np.isfinite(values)]
        assert stats.metric_n[index] == finite.size
        if finite.size:
            assert stats.metric_mean[index] == pytest.approx(finite.mean(), rel=1e-12, abs=1e-12)
            assert stats.metric_m2[index] == pytest.approx(((finite - finite.mean()) ** 2).sum(), rel=1e-9, abs=1e-9)


def test_quantiles_from_parts_equal_quantiles_from_the_table(table, tmp_path):
    paths = []
    for index, start in enumerate((0, 30, 60)):
        paths.append(tmp_path / f"part-{index}.parquet")
        write_parquet(paths[-1], table.slice(start, 30))
    columns = list(METRIC_COLUMNS)
    from_parts = exact_quantiles(paths, columns, (0.05, 0.5, 0.95), max_bytes=8 * 90 * 2)  # 2 columns a pass
    from_table = exact_quantiles(table, columns, (0.05, 0.5, 0.95))
    assert from_parts == from_table
    days = table.column("fatalities_total").to_numpy().astype(float)
    assert from_table["fatalities_total"] == pytest.approx(list(np.quantile(days, [0.05, 0.5, 0.95])))


def test_kept_values_give_the_quantiles_of_the_second_pass(table, tmp_path, monkeypatch):
    paths = []
    for index, start in enumerate((0, 30, 60)):
        paths.append(tmp_path / f"part-{index}.parquet")
        write_parquet(paths[-1], table.slice(start, 30))
    chunks = [BatchStats.from_table(table.slice(start, 30), horizon_days=120, keep_values=True) for start in (0, 30, 60)]
    merged = BatchStats.merge_all(reversed(chunks[1:]), horizon_days=120).merge(chunks[0])  # any order
    assert [sum(len(a) for a in merged.kept_values[i]) for i in range(len(KEPT_METRICS))] == [90] * len(KEPT_METRICS)
    from_parts = exact_quantiles(paths, KEPT_METRICS, (0.05, 0.5, 0.95))
    assert kept_quantiles(merged, KEPT_METRICS, (0.05, 0.5, 0.95)) == from_parts
    assert any(q != [None] * 3 for q in from_parts.values())  # not a comparison of empty columns

    def no_second_pass(*args, **kwargs):
        raise AssertionError("read the parts although the values were kept")

    monkeypatch.setattr("sim.stats.exact_quantiles", no_second_pass)
    assert metric_quantiles(merged, paths, (0.05, 0.5, 0.95)) == {
        **merged.integer_quantiles((0.05, 0.5, 0.95)), **from_parts}


def test_kept_values_are_dropped_unless_every_chunk_kept_them(table):
    kept = BatchStats.from_table(table.slice(0, 30), horizon_days=120, keep_values=True)
    plain = BatchStats.from_table(table.slice(30, 30), horizon_days=120)
    empty = BatchStats.empty(horizon_days=120)
    assert empty.merge(kept).kept_values is not None and kept.merge(empty).kept_values is not None
    assert kept.merge(plain).kept_values is None and plain.merge(kept).kept_values is None
    with pytest.raises(ValueError, match="kept no values"):
        kept_quantiles(plain, KEPT_METRICS, (0.5,))
    assert keeps_values(1_000_000) and not keeps_values(10_000_000)


def test_daily_rung_counts_add_up_to_the_runs(table):
    stats = BatchStats.from_table(table, horizon_days=120)
    assert np.all(stats.rung_day_counts.sum(axis=1) == 90)
    assert stats.rung_day_counts.shape == (120, 6)


def test_rung_day_counts_equal_a_count_per_rung_and_day():
    from sim.stats import _rung_day_counts

    rng = np.random.default_rng(11)
    # sticky random paths: mostly the previous day's rung, sometimes a jump anywhere
    rungs = np.zeros((500, 60), np.int8)
    for day in range(1, 60):
        jump = rng.random(500) < 0.1
        rungs[:, day] = np.where(jump, rng.integers(0, 6, 500), rungs[:, day - 1])
    expected = np.stack([(rungs == rung).sum(axis=0) for rung in range(6)], axis=1)
    assert np.array_equal(_rung_day_counts(rungs, 6), expected)
    assert np.array_equal(_rung_day_counts(rungs[:, :7], 6), expected[:7])


PROBABILITIES = [0.0, 0.001, 0.05, 0.1, 0.25, 0.333, 0.5, 0.6180339887, 0.9, 0.95, 0.999, 1.0]


@pytest.mark.parametrize("n", [1, 2, 3, 7, 20, 101, 1000, 4097])
def test_quantiles_from_value_counts_are_numpys_to_the_last_bit(n):
    rng = np.random.default_rng(n)
    for values in (rng.poisson(3.0, n), rng.integers(-50, 50, n), rng.geometric(0.01, n) * 7, np.full(n, 9)):
        low = int(values.min())
        counts = np.bincount(values - low)
        assert quantiles_from_counts(low, counts, PROBABILITIES) == \
            [float(q) for q in np.quantile(values.astype(float), PROBABILITIES)]


def test_quantiles_of_no_values_are_none():
    assert quantiles_from_counts(0, np.zeros(0, np.int64), [0.5]) == [None]


def test_integer_quantiles_from_merged_chunks_need_no_rows(table):
    parts = [BatchStats.from_table(table.slice(start, 30), horizon_days=120) for start in (0, 30, 60)]
    merged = BatchStats.merge_all(parts, horizon_days=120)
    counted = merged.integer_quantiles((0.05, 0.5, 0.95))
    assert set(counted) == set(INTEGER_METRICS)
    assert counted == exact_quantiles(table, list(INTEGER_METRICS), (0.05, 0.5, 0.95))
    assert metric_quantiles(merged, table, (0.05, 0.5, 0.95)) == exact_quantiles(table, METRIC_COLUMNS,
                                                                                  (0.05, 0.5, 0.95))


def test_a_metric_spread_too_wide_to_count_falls_back_to_the_rows(table, monkeypatch):
    import sim.stats

    monkeypatch.setattr(sim.stats, "MAX_COUNTED_RANGE", 4)  # fatalities spread wider than 4
    parts = [BatchStats.from_table(table.slice(start, 30), horizon_days=120) for start in (0, 30, 60)]
    merged = BatchStats.merge_all(parts, horizon_days=120)
    index = INTEGER_METRICS.index("fatalities_total")
    assert merged.value_counts[index] is None
    assert "fatalities_total" not in merged.integer_quantiles((0.5,))
    assert metric_quantiles(merged, table, (0.05, 0.5, 0.95)) == exact_quantiles(table, METRIC_COLUMNS,
                                                                                  (0.05, 0.5, 0.95))
