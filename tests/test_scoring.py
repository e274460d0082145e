"""Known answers for the proper scores: hand cases, closed forms, and truths drawn from the forecast."""

import math

import numpy as np
import pytest
from scipy import stats

from sim import scoring

KS_ALPHA = 0.001          # a correct PIT fails the KS test once in 1,000 seeds


def _within_4se(values, expected):
    values = np.asarray(values, dtype=float)
    se = values.std(ddof=1) / math.sqrt(values.size)
    assert abs(values.mean() - expected) < 4 * se, (values.mean(), expected, se)


def _uniform(u):
    u = np.asarray(u)
    assert stats.kstest(u, "uniform").pvalue > KS_ALPHA
    assert abs(u.mean() - 0.5) < 4 * math.sqrt(1 / 12 / u.size)
    # variance of the sample variance of U(0,1): (1/80 − 1/144) / n
    assert abs(u.var() - 1 / 12) < 4 * math.sqrt((1 / 80 - 1 / 144) / u.size)


def test_brier_and_log_scores_of_hand_cases():
    assert scoring.brier_score([1.0, 0.0, 0.7, 0.2], [1, 1, 0, 0]).tolist() == pytest.approx([0.0, 1.0, 0.49, 0.04])
    assert scoring.log_score([0.5, 0.8, 0.25], [1, 0, 0]).tolist() == pytest.approx(
        [math.log(2), -math.log(0.2), -math.log(0.75)])


def test_log_score_clips_certain_forecasts_that_are_wrong():
    assert scoring.log_score(0.0, 1) == pytest.approx(-math.log(scoring.LOG_CLIP))
    assert scoring.log_score(1.0, 0) == pytest.approx(-math.log(scoring.LOG_CLIP))
    assert scoring.log_score(1.0, 1) == pytest.approx(-math.log1p(-scoring.LOG_CLIP))


def test_binary_scores_reject_probabilities_outside_0_1_and_outcomes_other_than_0_1():
    with pytest.raises(ValueError):
        scoring.brier_score(1.2, 1)
    with pytest.raises(ValueError):
        scoring.log_score(0.5, 2)


def test_average_brier_and_log_scores_match_their_expectations_when_truth_is_drawn_from_the_forecast():
    rng = np.random.default_rng(11)
    p = rng.uniform(0, 1, 40_000)
    outcome = (rng.random(p.size) < p).astype(int)
    _within_4se(scoring.brier_score(p, outcome), np.mean(p * (1 - p)))
    entropy = -(p * np.log(p) + (1 - p) * np.log1p(-p))
    _within_4se(scoring.log_score(p, outcome), np.mean(entropy))


def test_crps_of_a_degenerate_forecast_is_the_absolute_error():
    y = np.array([-3.0, 0.0, 2.5, 10.0])
    assert scoring.crps_ensemble([2.0], y).tolist() == pytest.approx(np.abs(2.0 - y).tolist())
    assert scoring.crps_ensemble(np.full((4, 5), 2.0), y).tolist() == pytest.approx(np.abs(2.0 - y).tolist())


def test_crps_ensemble_equals_the_brute_force_double_sum():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=37), np.array([-1.0, 0.2, 3.0])
    brute = np.abs(x[None] - y[:, None]).mean(1) - 0.5 * np.abs(x[:, None] - x[None]).mean()
    assert scoring.crps_ensemble(x, y) == pytest.approx(brute)
    assert scoring.crps_ensemble(np.tile(x, (3, 1)), y) == pytest.approx(brute)
    fair = np.abs(x[None] - y[:, None]).mean(1) - 0.5 * np.abs(x[:, None] - x[None]).sum() / (37 * 36)
    assert scoring.crps_ensemble(x, y, fair=True) == pytest.approx(fair)


def test_crps_of_a_normal_ensemble_matches_the_closed_form_within_its_standard_error():
    rng = np.random.default_rng(5)
    mu, sigma, y = 1.0, 2.0, np.array([-2.0, 0.5, 4.0])
    z = (y - mu) / sigma
    exact = sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))
    ensembles = rng.normal(mu, sigma, (200, 500))                       # 200 replicate ensembles of 500
    scores = np.stack([scoring.crps_ensemble(e, y, fair=True) for e in ensembles])
    for k in range(y.size):
        _within_4se(scores[:, k], exact[k])


def test_crps_poisson_matches_the_defining_sum():
    k = np.arange(400)
    for mu in (0.2, 3.0, 45.0):
        for y in (0, 2, 17, 60):
            brute = ((stats.poisson.cdf(k, mu) - (k >= y)) ** 2).sum()
            assert scoring.crps_poisson(mu, y) == pytest.approx(brute, rel=1e-9, abs=1e-12)


def test_average_crps_equals_half_the_mean_pair_distance_when_truth_is_drawn_from_the_forecast():
    rng = np.random.default_rng(8)
    mu = 4.0
    y = rng.poisson(mu, 40_000)
    k = np.arange(200)
    pmf = stats.poisson.pmf(k, mu)
    half_mean_pair_distance = 0.5 * (pmf[:, None] * pmf[None] * np.abs(k[:, None] - k[None])).sum()
    _within_4se(scoring.crps_poisson(mu, y), half_mean_pair_distance)


def test_smoothed_pmf_sums_to_one_and_keeps_unseen_counts_finite():
    ensemble = np.array([2, 3, 3, 5, 8])
    total = scoring.smoothed_count_pmf(ensemble, np.arange(2000)).sum()
    assert total == pytest.approx(1.0)
    assert np.isfinite(scoring.ignorance_score(ensemble, 40))
    # hand case: mean 4.2 → θ = 4.2 / 5.2; y = 3 seen twice: (2 + (1 − θ) θ³) / 6
    theta = 4.2 / 5.2
    assert scoring.smoothed_count_pmf(ensemble, 3) == pytest.approx((2 + (1 - theta) * theta**3) / 6)
    assert scoring.ignorance_score(np.tile(ensemble, (2, 1)), [3, 3]) == pytest.approx(
        -np.log2((2 + (1 - theta) * theta**3) / 6))


def test_poisson_ignorance_averages_to_the_entropy_in_bits():
    rng = np.random.default_rng(9)
    mu = 3.0
    y = rng.poisson(mu, 40_000)
    pmf = stats.poisson.pmf(np.arange(100), mu)
    entropy_bits = -(pmf[pmf > 0] * np.log2(pmf[pmf > 0])).sum()
    _within_4se(scoring.poisson_ignorance(mu, y), entropy_bits)


def test_pit_of_continuous_truth_drawn_from_the_forecast_is_uniform():
    rng = np.random.default_rng(12)
    ensemble = rng.gamma(2.0, 30.0, 50_000)
    truth = rng.gamma(2.0, 30.0, 4_000)
    _uniform(scoring.pit(ensemble, truth))


def test_randomised_pit_of_poisson_counts_is_uniform():
    rng = np.random.default_rng(13)
    mu = rng.uniform(0.3, 6.0, 5_000)                          # small means: a plain PIT would be lumpy
    y = rng.poisson(mu)
    _uniform(scoring.poisson_pit(mu, y, rng=rng))
    assert stats.kstest(stats.poisson.cdf(y, mu), "uniform").pvalue < KS_ALPHA     # unrandomised: not uniform


def test_randomised_pit_against_the_models_own_ensemble_is_uniform():
    rng = np.random.default_rng(14)
    ensemble = rng.negative_binomial(2, 0.4, 20_000)            # an overdispersed count ensemble
    truth = rng.choice(ensemble, 5_000)                         # the truth drawn from the ensemble itself
    _uniform(scoring.count_pit(ensemble, truth, rng=rng))


def test_censored_pit_is_uniform_when_times_are_censored_independently():
    rng = np.random.default_rng(15)
    ensemble = np.where(rng.random(20_000) < 0.3, np.nan, rng.exponential(50.0, 20_000))   # NaN: never
    truth = rng.choice(ensemble, 5_000)
    censor = rng.uniform(0, 120, truth.size)
    seen = np.nan_to_num(truth, nan=np.inf) <= censor
    u = np.empty(truth.size)
    u[seen] = scoring.pit(np.nan_to_num(ensemble, nan=np.inf), truth[seen])
    u[~seen] = scoring.censored_pit(ensemble, censor[~seen], rng=rng)
    _uniform(u)


def test_reliability_table_bins_forecasts_and_gives_wilson_intervals():
    table = scoring.reliability_table([0.05, 0.08, 0.5, 0.55, 1.0], [0, 1, 1, 1, 1], bins=10)
    assert table.n.tolist() == [2, 0, 0, 0, 0, 2, 0, 0, 0, 1]
    assert table.observed[0] == 0.5 and table.mean_forecast[0] == pytest.approx(0.065)
    assert table.observed_ci95[0][0] == pytest.approx(stats.binomtest(1, 2).proportion_ci(method="wilson").low)
    assert [row["n"] for row in table.as_rows()] == [2, 2, 1]


def test_reliability_of_calibrated_forecasts_lies_on_the_diagonal():
    rng = np.random.default_rng(16)
    p = rng.uniform(0, 1, 20_000)
    table = scoring.reliability_table(p, rng.random(p.size) < p)
    inside = (table.observed_ci95[0] <= table.mean_forecast) & (table.mean_forecast <= table.observed_ci95[1])
    assert inside.sum() >= 8                                    # 10 bins at 95 %: P(<= 7 inside) ≈ 1 %


def test_figures_draw(tmp_path):
    from sim.plotting import save_figure

    rng = np.random.default_rng(17)
    p = rng.uniform(size=50)
    tables = {"model": scoring.reliability_table(p, rng.random(50) < p)}
    assert save_figure(scoring.reliability_figure(tables), tmp_path, "reliability")[0].stat().st_size > 0
    figure = scoring.pit_histogram_figure({"model": rng.uniform(size=30), "baseline": rng.uniform(size=10)})
    assert save_figure(figure, tmp_path, "pit")[0].stat().st_size > 0
