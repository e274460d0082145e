"""sim.selection.quantiles gives np.quantile's numbers bit for bit, whatever the data."""

from __future__ import annotations

import numpy as np
import pytest

from sim import selection
from sim.selection import SAMPLED_FROM, quantiles

PROBABILITIES = [0.05, 0.5, 0.95, 0.0, 1.0, 0.25, 0.999, 1e-6]


def _numpy(values, probabilities=PROBABILITIES):
    return [float(q) for q in np.quantile(values, probabilities)]


def _bits(numbers):  # NaN (from infinities) compares equal to itself this way
    return np.asarray(numbers, dtype=np.float64).tobytes()


def _datasets(n):
    rng = np.random.default_rng(7)
    mostly_zero = np.where(rng.random(n) < 0.97, 0.0, rng.exponential(30.0, n))
    few_values = rng.integers(0, 4, n).astype(float)  # heavy ties at every bracket end
    constant = np.full(n, 2.5)
    constant[:3] = [-1.0, 9.0, 2.5]
    return {
        "normal": rng.normal(size=n),
        "rounded days": np.round(rng.exponential(40.0, n)),
        "mostly zero": mostly_zero,
        "four values": few_values,
        "almost constant": constant,
        "sorted": np.sort(rng.random(n)),
        "reversed": np.sort(rng.random(n))[::-1].copy(),
        "heavy tail": rng.pareto(0.7, n),
        "with infinities": np.concatenate([rng.random(n - 2), [np.inf, -np.inf]]),
    }


@pytest.mark.parametrize("n", [SAMPLED_FROM, 333_331, 1_000_003])
def test_quantiles_equal_numpys_bit_for_bit(n):
    for name, values in _datasets(n).items():
        with np.errstate(invalid="ignore"):  # inf - inf, in numpy's interpolation as in ours
            assert _bits(quantiles(values, PROBABILITIES)) == _bits(_numpy(values)), name


def test_small_arrays_go_straight_to_numpy():
    values = np.random.default_rng(1).random(1000)
    assert quantiles(values, PROBABILITIES) == _numpy(values)
    assert quantiles(np.array([4.0]), [0.0, 0.5, 1.0]) == [4.0, 4.0, 4.0]


def test_a_misleading_sample_falls_back_to_the_whole_array():
    # every sampled position holds 0, every other one 1: the sample sees only zeros, so its
    # brackets miss the ranks; the counts prove it and the answer is still numpy's
    n = 400_000
    step = max(1, n // selection._SAMPLE_SIZE)
    values = np.ones(n)
    values[::step] = 0.0
    ranks = np.array([n // 2, n // 2 + 1])
    assert selection._select_ranks(values, ranks, step, selection._STANDARD_DEVIATIONS).size == 0
    assert quantiles(values, PROBABILITIES) == _numpy(values)


def test_summary_quantiles_of_a_large_column_use_it_and_agree_with_numpy(monkeypatch):
    from sim import stats

    calls = []
    real = selection.quantiles
    monkeypatch.setattr(selection, "quantiles", lambda *args: calls.append(1) or real(*args))
    values = np.random.default_rng(3).exponential(5.0, 250_000)
    values[::7] = np.nan  # never happened: left out, as before
    assert stats._finite_quantiles(values, [0.05, 0.5, 0.95]) == _numpy(values[np.isfinite(values)], [0.05, 0.5, 0.95])
    assert calls == [1]
