"""Tests for sim.analysis: Wilson intervals, metric summaries, Kaplan-Meier."""

import math

import numpy as np
import pytest
from scipy import stats

from sim.analysis import (
    estimate_proportions,
    kaplan_meier,
    summarize_metric,
    survival_at,
    wilson_interval,
)

Z95 = 1.959963984540054


def wilson_reference(k, n, z=Z95):
    """Independent textbook form: roots of (p - phat)^2 = z^2 p (1 - p) / n."""
    phat = k / n
    a = 1 + z * z / n
    b = -(2 * phat + z * z / n)
    c = phat * phat
    disc = math.sqrt(max(b * b - 4 * a * c, 0.0))
    return ((-b - disc) / (2 * a), (-b + disc) / (2 * a))


# ---------------------------------------------------------------- Wilson


@pytest.mark.parametrize("k, n", [(0, 10), (5, 10), (1, 100), (10, 10), (37, 250), (1, 1)])
def test_wilson_matches_independent_formula(k, n):
    lo, hi = wilson_interval(k, n)
    ref_lo, ref_hi = wilson_reference(k, n)
    assert lo == pytest.approx(ref_lo, abs=1e-12)
    assert hi == pytest.approx(ref_hi, abs=1e-12)
    assert isinstance(lo, float) and isinstance(hi, float)


def test_wilson_known_values():
    assert wilson_interval(0, 10) == (0.0, pytest.approx(0.27753279986288693, abs=1e-12))
    lo, hi = wilson_interval(5, 10)
    assert (lo, hi) == (pytest.approx(0.23659309, abs=1e-8), pytest.approx(0.76340691, abs=1e-8))
    lo, hi = wilson_interval(1, 100)
    assert (lo, hi) == (pytest.approx(0.0017674, abs=1e-7), pytest.approx(0.0544861, abs=1e-7))
    assert wilson_interval(10, 10)[1] == 1.0


def test_wilson_other_confidence_is_narrower():
    lo90, hi90 = wilson_interval(30, 100, confidence=0.90)
    lo95, hi95 = wilson_interval(30, 100)
    assert lo95 < lo90 < 0.3 < hi90 < hi95
    assert (lo90, hi90) == pytest.approx(wilson_reference(30, 100, z=1.6448536269514722), abs=1e-12)


def test_wilson_vectorised():
    k = np.array([0, 5, 1])
    n = np.array([10, 10, 100])
    lo, hi = wilson_interval(k, n)
    assert lo.shape == hi.shape == (3,)
    for i in range(3):
        assert (lo[i], hi[i]) == wilson_interval(int(k[i]), int(n[i]))


@pytest.mark.parametrize("k, n", [(1, 0), (-1, 10), (11, 10), (0, -5)])
def test_wilson_rejects_bad_counts(k, n):
    with pytest.raises(ValueError):
        wilson_interval(k, n)


def test_wilson_rejects_bad_confidence():
    with pytest.raises(ValueError, match="confidence"):
        wilson_interval(1, 10, confidence=1.0)


def test_wilson_coverage():
    p, n, reps = 0.1, 200, 4000
    k = np.random.default_rng(20240601).binomial(n, p, size=reps)
    lo, hi = wilson_interval(k, n)
    coverage = np.mean((lo <= p) & (p <= hi))
    se = math.sqrt(0.95 * 0.05 / reps)
    assert abs(coverage - 0.95) < 3 * se


# ---------------------------------------------------------------- proportions


def test_estimate_proportions():
    labels = np.array(["war", "truce", "war", "stalemate", "war"])
    est = estimate_proportions(labels, ["truce", "war", "stalemate", "collapse"])
    assert list(est) == ["truce", "war", "stalemate", "collapse"]
    assert sum(e.p for e in est.values()) == pytest.approx(1.0)
    assert est["war"].p == 0.6 and est["war"].successes == 3 and est["war"].n == 5
    assert est["war"].ci95 == wilson_interval(3, 5)
    assert est["collapse"].p == 0.0 and est["collapse"].ci95[0] == 0.0


def test_estimate_proportions_rejects_unknown_label():
    with pytest.raises(ValueError, match="ceasefire"):
        estimate_proportions(np.array(["war", "ceasefire"]), ["war", "truce"])


def test_estimate_proportions_rejects_empty_and_duplicates():
    with pytest.raises(ValueError):
        estimate_proportions(np.array([], dtype=str), ["war"])
    with pytest.raises(ValueError, match="duplicates"):
        estimate_proportions(np.array(["war"]), ["war", "war"])


# ---------------------------------------------------------------- metric summary


def test_summarize_metric_normal_sample():
    x = np.random.default_rng(1).normal(loc=3.0, scale=2.0, size=500)
    s = summarize_metric(x)
    assert s.mean == np.mean(x)
    assert s.ci95_mean[0] < 3.0 < s.ci95_mean[1]
    assert s.n == 500
    assert s.std == pytest.approx(np.std(x, ddof=1))
    assert (s.p05, s.p50, s.p95) == tuple(np.quantile(x, [0.05, 0.5, 0.95]))
    half = (s.ci95_mean[1] - s.ci95_mean[0]) / 2
    assert half == pytest.approx(1.9647 * s.std / math.sqrt(500), rel=1e-3)
    ref = stats.ttest_1samp(x, 0.0).confidence_interval(0.95)
    assert s.ci95_mean == pytest.approx((ref.low, ref.high), rel=1e-12)


def test_summarize_metric_nan_policy():
    values = [1.0, np.nan, 3.0]
    with pytest.raises(ValueError, match="NaN"):
        summarize_metric(values)
    s = summarize_metric(values, nan_policy="omit")
    assert s.n == 2 and s.mean == 2.0
    with pytest.raises(ValueError):
        summarize_metric([np.nan], nan_policy="omit")
    with pytest.raises(ValueError, match="nan_policy"):
        summarize_metric(values, nan_policy="drop")


def test_summarize_metric_edge_cases():
    with pytest.raises(ValueError, match="infinit"):
        summarize_metric([1.0, np.inf])
    one = summarize_metric([4.0])
    assert one.mean == 4.0 and one.n == 1 and math.isnan(one.std) and math.isnan(one.ci95_mean[0])
    const = summarize_metric([2.0, 2.0, 2.0])
    assert const.ci95_mean == (2.0, 2.0) and const.std == 0.0


# ---------------------------------------------------------------- Kaplan-Meier


def test_kaplan_meier_hand_example():
    km = kaplan_meier([1, 2, 2, 3, 4, 5], [1, 1, 0, 1, 0, 1])
    assert km.time.tolist() == [1, 2, 3, 5]
    assert km.n_at_risk.tolist() == [6, 5, 3, 1]
    assert km.n_events.tolist() == [1, 1, 1, 1]
    expected = [5 / 6, 5 / 6 * 4 / 5, 5 / 6 * 4 / 5 * 2 / 3, 0.0]
    np.testing.assert_allclose(km.survival, expected, rtol=1e-12)
    # Greenwood + log(-log) interval at t = 2, by hand.
    s = 2 / 3
    v = 1 / (6 * 5) + 1 / (5 * 4)
    se = math.sqrt(v) / abs(math.log(s))
    assert km.ci_low[1] == pytest.approx(s ** math.exp(Z95 * se), rel=1e-10)
    assert km.ci_high[1] == pytest.approx(s ** math.exp(-Z95 * se), rel=1e-10)
    assert np.all(km.ci_low[:3] < km.survival[:3]) and np.all(km.survival[:3] < km.ci_high[:3])
    assert np.isnan(km.ci_low[3]) and np.isnan(km.ci_high[3])


def test_survival_at_step_function():
    km = kaplan_meier([1, 2, 2, 3, 4, 5], [1, 1, 0, 1, 0, 1])
    assert survival_at(km, 0.0) == 1.0
    assert survival_at(km, 1.0) == pytest.approx(5 / 6)
    assert survival_at(km, 4.5) == pytest.approx(4 / 9)
    assert survival_at(km, 99) == 0.0
    np.testing.assert_allclose(km.survival_at(np.array([0.5, 2.5])), [1.0, 2 / 3])


def test_kaplan_meier_without_censoring_is_empirical_survival():
    t = np.random.default_rng(3).integers(1, 30, size=200).astype(float)
    km = kaplan_meier(t, np.ones(t.size, dtype=bool))
    grid = np.linspace(0, 32, 129)
    empirical = np.array([np.mean(t > g) for g in grid])
    np.testing.assert_allclose(survival_at(km, grid), empirical, atol=1e-12)


def test_kaplan_meier_recovers_exponential_with_horizon_censoring():
    rate, horizon = 0.05, 20.0
    t = np.random.default_rng(11).exponential(1 / rate, size=3000)
    observed = t <= horizon
    km = kaplan_meier(np.minimum(t, horizon), observed)
    d, r = km.n_events, km.n_at_risk.astype(float)
    greenwood_se = km.survival * np.sqrt(np.cumsum(d / (r * (r - d))))
    for x in (2.0, 5.0, 10.0, 15.0, 19.9):
        i = np.searchsorted(km.time, x, side="right") - 1
        assert abs(km.survival[i] - math.exp(-rate * x)) < 4 * greenwood_se[i]
    assert survival_at(km, 1e9) == km.survival[-1] > 0


def test_kaplan_meier_arrays_are_read_only():
    km = kaplan_meier([1, 2], [1, 1])
    with pytest.raises(ValueError):
        km.survival[0] = 0.5


@pytest.mark.parametrize(
    "durations, observed",
    [([], []), ([1, 2], [1]), ([1, -2], [1, 1]), ([1, np.nan], [1, 1]), ([1, 2], [1, 2])],
)
def test_kaplan_meier_rejects_bad_input(durations, observed):
    with pytest.raises(ValueError):
        kaplan_meier(durations, observed)


def test_kaplan_meier_all_censored_has_no_steps():
    km = kaplan_meier([3, 4], [0, 0])
    assert km.time.size == 0 and survival_at(km, 10) == 1.0
