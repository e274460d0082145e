"""Known answers: the engine against exact results (Poisson counts, Hawkes means, a CTMC)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.linalg import expm

from sim.engines.simpy_engine import simulate_run
from sim.model import RUNG_INDEX
from sim.sampling import run_stream


def simulate_many(scenario, n_runs: int, horizon_days: float, seed: int) -> list[dict]:
    values = scenario.point_values()
    return [simulate_run(scenario, values, run_stream(seed, index), horizon_days=horizon_days).row
            for index in range(n_runs)]


def within_standard_errors(sample: np.ndarray, expected: float, k: float = 4.0, *, se: float | None = None) -> None:
    se = sample.std(ddof=1) / np.sqrt(len(sample)) if se is None else se
    assert abs(sample.mean() - expected) <= k * se, (sample.mean(), expected, se)


def test_attack_count_without_excitation_is_poisson_rate_times_horizon(make_scenario):
    # Arrange: 365 attacks a year = 1 a day, nothing else running.
    scenario = make_scenario(values={"ttp_attacks_per_year": 365.0, "ttp_fatalities_per_year": 365.0},
                             on=["ttp_attacks"], transitions=[])
    # Act
    counts = np.array([row["attacks"] for row in simulate_many(scenario, 400, 200.0, seed=11)], dtype=float)
    # Assert: mean within 4 exact Poisson standard errors; variance/mean within chi-square bounds.
    within_standard_errors(counts, 200.0, se=np.sqrt(200.0 / len(counts)))
    dispersion = counts.var(ddof=1) / 200.0
    from scipy.stats import chi2

    low, high = chi2.ppf([0.0005, 0.9995], len(counts) - 1) / (len(counts) - 1)
    assert low <= dispersion <= high


def test_self_exciting_attack_count_matches_background_over_one_minus_branching(make_scenario):
    # Background rate 0.5 a day with branching ratio 0.5: long-run rate 0.5 / (1 - 0.5) = 1 a day.
    scenario = make_scenario(values={"ttp_attacks_per_year": 365.0, "ttp_fatalities_per_year": 365.0,
                                     "ttp_branching_ratio": 0.5, "ttp_excitation_decay_days": 10.0},
                             on=["ttp_attacks", "self_excitation"], transitions=[])
    rows = simulate_many(scenario, 500, 200.0, seed=12)
    counts = np.array([row["attacks"] for row in rows], dtype=float)
    from sim.model import prepare_inputs

    background = prepare_inputs(scenario.point_values(), scenario.switches).attack_background_per_day
    assert background == pytest.approx(0.5)
    within_standard_errors(counts, background / (1 - 0.5) * 200.0)
    # Clustering shows as over-dispersion: variance well above the Poisson mean.
    assert counts.var(ddof=1) > 2.0 * counts.mean()


# A small continuous-time Markov chain hidden in the model: attacks (Poisson), spontaneous
# clashes (Poisson) and mediation (Poisson offers, fixed success) move the ladder between two
# transient rungs and two absorbing ones. Ceasefires have no other effect (factors 1, no collapse).
ATTACKS_PER_DAY, P_MASS, CLASHES_PER_DAY, OFFERS_PER_DAY, P_SUCCESS = 0.02, 1.0, 0.02, 0.05, 0.4
A1, Q0, A2, Q1 = 0.5, 0.25, 0.3, 0.5


@pytest.fixture(scope="module")
def ctmc_scenario(make_scenario):
    values = {
        "ttp_attacks_per_year": ATTACKS_PER_DAY * 365, "ttp_fatalities_per_year": ATTACKS_PER_DAY * 365 * 40,
        "p_mass_casualty_attack": P_MASS, "spontaneous_clashes_per_year": CLASHES_PER_DAY * 365,
        "mediation_offers_per_year": OFFERS_PER_DAY * 365, "p_mediation_success": P_SUCCESS,
        "mediation_fatality_scale": 1e15, "ceasefire_attack_factor": 1.0, "ceasefire_clash_factor": 1.0,
        "ceasefire_strike_factor": 1.0, "mediation_multiplier_per_rung": 1.0,
    }
    transitions = [
        ("low_intensity", "clash", "border_clashes", A1),
        ("low_intensity", "mass_casualty_attack", "conventional_incursion", Q0),
        ("border_clashes", "clash", "limited_ground_operation", A2),
        ("border_clashes", "mass_casualty_attack", "conventional_incursion", Q1),
        ("border_clashes", "ceasefire", "low_intensity", 1.0),
    ]
    return make_scenario(values=values, transitions=transitions,
                         on=["ttp_attacks", "mass_casualty_attacks", "spontaneous_clashes", "mediation"])


def ctmc_generator() -> np.ndarray:
    """Generator over (low, clashes, limited operation, incursion); the last two absorb."""
    mass = ATTACKS_PER_DAY * P_MASS
    q = np.zeros((4, 4))
    q[0, 1], q[0, 3] = CLASHES_PER_DAY * A1, mass * Q0
    q[1, 2], q[1, 3], q[1, 0] = CLASHES_PER_DAY * A2, mass * Q1, OFFERS_PER_DAY * P_SUCCESS
    np.fill_diagonal(q, -q.sum(axis=1))
    return q


def test_ctmc_absorption_probabilities_and_mean_time_match_linear_algebra(ctmc_scenario):
    q = ctmc_generator()
    fundamental = np.linalg.inv(-q[:2, :2])
    absorb = fundamental @ q[:2, 2:]          # P(absorbed in limited op / incursion | start)
    mean_time = (fundamental @ np.ones(2))[0]  # E[time to absorption | start at low intensity]
    horizon = 1500.0  # P(not absorbed by then) = 8e-6: censoring negligible
    assert 1 - expm(q * horizon)[0, 2:].sum() < 1e-4
    rows = simulate_many(ctmc_scenario, 2000, horizon, seed=21)
    max_rung = np.array([row["max_rung"] for row in rows])
    assert set(np.unique(max_rung)) <= {RUNG_INDEX["limited_ground_operation"], RUNG_INDEX["conventional_incursion"]}
    for column, rung in enumerate(("limited_ground_operation", "conventional_incursion")):
        p_exact = absorb[0, column]
        hits = (max_rung == RUNG_INDEX[rung]).astype(float)
        within_standard_errors(hits, p_exact, se=np.sqrt(p_exact * (1 - p_exact) / len(hits)))
    times = np.array([row["days_at_low_intensity"] + row["days_at_border_clashes"] for row in rows])
    within_standard_errors(times, mean_time)


def test_ctmc_state_and_mean_sojourn_at_a_finite_horizon_match_the_matrix_exponential(ctmc_scenario):
    horizon = 120.0
    q = ctmc_generator()
    exact = expm(q * horizon)[0]
    transient = q[:2, :2]
    # E[min(absorption time, horizon)] = e0' Q_TT^-1 (exp(Q_TT T) - I) 1
    expected_time = (np.linalg.solve(transient, expm(transient * horizon) - np.eye(2)) @ np.ones(2))[0]
    rows = simulate_many(ctmc_scenario, 3000, horizon, seed=22)
    times = np.array([row["days_at_low_intensity"] + row["days_at_border_clashes"] for row in rows])
    within_standard_errors(times, expected_time)
    final = np.array([row["final_rung"] for row in rows])
    for state, rung in enumerate(("low_intensity", "border_clashes", "limited_ground_operation",
                                  "conventional_incursion")):
        hits = (final == RUNG_INDEX[rung]).astype(float)
        within_standard_errors(hits, exact[state], se=np.sqrt(exact[state] * (1 - exact[state]) / len(hits)))


@pytest.mark.slow
def test_baseline_reproduces_the_seeds_annual_volumes(make_scenario):
    # The seeds: 600+ attacks and 2,414 deaths in three quarters -> 800 attacks, 3,200 deaths a year.
    # Outside ceasefires (factor 1 here) the long-run means are exactly those, excitation included.
    scenario = make_scenario(values={"ceasefire_attack_factor": 1.0})
    rows = simulate_many(scenario, 600, 365.0, seed=31)
    within_standard_errors(np.array([row["attacks"] for row in rows], dtype=float), 800.0)
    within_standard_errors(np.array([row["fatalities_ttp_violence"] for row in rows], dtype=float), 3200.0)
