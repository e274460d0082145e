"""The compiled engine (engine=fast): known answers, the record's schema, reproducibility,
switches, injected events, the run limit, and the model functions it shares with SimPy.

Statistical equivalence with the SimPy engine over whole scenarios is in
tests/test_engine_equivalence.py; here each check is either exact or a known answer.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import numpy as np
import pyarrow as pa
import pytest
from scipy.linalg import expm
from scipy.stats import chi2, chisquare, kstest, poisson

from sim.config import compose_run_config
from sim.engines import fast_engine, fast_random, fast_stats
from sim.engines.fast_engine import simulate_chunk
from sim.engines.simpy_engine import MaxEventsExceeded, simulate_run
from sim.model import (CATALOGUE, MECHANISMS, OUTCOME_CLASSES, RUNG_INDEX, RUNGS, classify_outcome,
                       classify_outcome_codes, prepare_inputs)
from sim.records import COUNT_COLUMNS, FATALITY_CATEGORIES, FIRST_EVENTS, daily_rungs, rows_to_table
from sim.sampling import run_stream, sample_parameters
from sim.stats import BatchStats
from tests.test_known_answers import ctmc_generator, within_standard_errors
from tests.test_known_answers import ctmc_scenario  # noqa: F401 - the same hidden CTMC, as a fixture


@pytest.fixture(scope="module")
def fast_config():
    return compose_run_config(["engine=fast", "uncertainty=fixed", "n_runs=100"])


def run_fast(config, scenario, n_runs: int, horizon_days: float, seed: int) -> pa.Table:
    """n_runs of a fixed scenario through the fast engine, in one chunk."""
    config = dataclasses.replace(config, scenario=scenario, horizon_days=horizon_days, seed=seed, n_runs=n_runs)
    return simulate_chunk(config, 0, n_runs, {})


def values(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=float)


def same_table(a: pa.Table, b: pa.Table) -> bool:
    """Equal schemas and values, NaN equal to NaN."""
    if not a.schema.equals(b.schema):
        return False
    for name in a.column_names:
        left, right = a.column(name), b.column(name)
        if pa.types.is_floating(left.type):
            if not np.array_equal(left.to_numpy(), right.to_numpy(), equal_nan=True):
                return False
        elif left.to_pylist() != right.to_pylist():
            return False
    return True


# ---------------------------------------------------------------- the samplers

ALPHA = 1e-4  # each sampler test; a false alarm once in 10,000 runs of the suite


def test_uniform_and_exponential_samplers_follow_their_laws():
    assert kstest(fast_random._sample(0, 1, 0.0, 200_000), "uniform").pvalue > ALPHA
    assert kstest(fast_random._sample(1, 2, 0.0, 200_000), "expon").pvalue > ALPHA


@pytest.mark.parametrize("kind, mean", [(2, 0.3), (2, 3.7), (2, 9.99), (2, 10.0), (2, 37.5), (2, 2500.0),
                                        (3, 0.4), (3, 2.5)])
def test_poisson_samplers_follow_the_poisson_law(kind, mean):
    # inversion below 10, Hoermann's PTRS from 10 on, the offspring table; chi-square on the counts
    draws = fast_random._sample(kind, 3, mean, 200_000).astype(np.int64)
    low, high = poisson.ppf([1e-4, 1 - 1e-4], mean).astype(np.int64)
    values = np.arange(low, high + 1)
    observed = np.array([(draws < low).sum()] + [(draws == v).sum() for v in values] + [(draws > high).sum()])
    expected = np.array([poisson.cdf(low - 1, mean)] + list(poisson.pmf(values, mean))
                        + [poisson.sf(high, mean)]) * len(draws)
    keep = expected > 5
    observed = np.append(observed[keep], observed[~keep].sum())
    expected = np.append(expected[keep], expected[~keep].sum())
    if expected[-1] == 0:
        assert observed[-1] == 0
        observed, expected = observed[:-1], expected[:-1]
    assert chisquare(observed, expected * observed.sum() / expected.sum()).pvalue > ALPHA


# ---------------------------------------------------------------- known answers (as for SimPy)


def test_attack_count_without_excitation_is_poisson_rate_times_horizon(make_scenario, fast_config):
    scenario = make_scenario(values={"ttp_attacks_per_year": 365.0, "ttp_fatalities_per_year": 365.0},
                             on=["ttp_attacks"], transitions=[])
    counts = values(run_fast(fast_config, scenario, 2000, 200.0, seed=11), "attacks")
    within_standard_errors(counts, 200.0, se=np.sqrt(200.0 / len(counts)))
    low, high = chi2.ppf([0.0005, 0.9995], len(counts) - 1) / (len(counts) - 1)
    assert low <= counts.var(ddof=1) / 200.0 <= high


def test_self_exciting_attack_count_matches_background_over_one_minus_branching(make_scenario, fast_config):
    scenario = make_scenario(values={"ttp_attacks_per_year": 365.0, "ttp_fatalities_per_year": 365.0,
                                     "ttp_branching_ratio": 0.5, "ttp_excitation_decay_days": 10.0},
                             on=["ttp_attacks", "self_excitation"], transitions=[])
    counts = values(run_fast(fast_config, scenario, 3000, 200.0, seed=12), "attacks")
    within_standard_errors(counts, 0.5 / (1 - 0.5) * 200.0)
    assert counts.var(ddof=1) > 2.0 * counts.mean()


def test_attacks_without_the_hot_loop_follow_the_same_law(make_scenario, fast_config):
    # A ladder move on "attack" (never taken: probability 0) sends every attack through the
    # general path instead of _attack_burst; the known answers must hold there too.
    never = [("low_intensity", "attack", "border_clashes", 0.0)]
    poisson_scenario = make_scenario(values={"ttp_attacks_per_year": 365.0, "ttp_fatalities_per_year": 365.0},
                                     on=["ttp_attacks"], transitions=never)
    counts = values(run_fast(fast_config, poisson_scenario, 2000, 200.0, seed=14), "attacks")
    within_standard_errors(counts, 200.0, se=np.sqrt(200.0 / len(counts)))
    hawkes = make_scenario(values={"ttp_attacks_per_year": 365.0, "ttp_fatalities_per_year": 365.0,
                                   "ttp_branching_ratio": 0.5, "ttp_excitation_decay_days": 10.0},
                           on=["ttp_attacks", "self_excitation", "cross_border_strikes"], transitions=never)
    general = run_fast(fast_config, hawkes, 3000, 200.0, seed=15)
    within_standard_errors(values(general, "attacks"), 200.0)
    hot = run_fast(fast_config, dataclasses.replace(hawkes, transitions=()), 3000, 200.0, seed=16)
    for name in ("attacks", "strikes"):
        a, b = values(general, name), values(hot, name)
        se = np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b))
        assert abs(a.mean() - b.mean()) <= 5 * se, name


def test_ordinary_attack_deaths_drawn_in_aggregate_keep_the_mean_and_poisson_variance(make_scenario, fast_config):
    # 365 attacks a year without excitation and 4 deaths each: deaths ~ Poisson(4 x Poisson(200)),
    # mean 800 and variance 200 (4 + 16) = 4000 (compound Poisson).
    scenario = make_scenario(values={"ttp_attacks_per_year": 365.0, "ttp_fatalities_per_year": 4 * 365.0,
                                     "p_mass_casualty_attack": 0.0}, on=["ttp_attacks"], transitions=[])
    deaths = values(run_fast(fast_config, scenario, 4000, 200.0, seed=13), "fatalities_ttp_violence")
    within_standard_errors(deaths, 800.0, se=np.sqrt(4000.0 / len(deaths)))
    low, high = chi2.ppf([0.0005, 0.9995], len(deaths) - 1) / (len(deaths) - 1)
    assert low <= deaths.var(ddof=1) / 4000.0 <= high


def test_ctmc_absorption_probabilities_and_mean_time_match_linear_algebra(ctmc_scenario, fast_config):
    q = ctmc_generator()
    fundamental = np.linalg.inv(-q[:2, :2])
    absorb = fundamental @ q[:2, 2:]
    mean_time = (fundamental @ np.ones(2))[0]
    table = run_fast(fast_config, ctmc_scenario, 10_000, 1500.0, seed=21)
    max_rung = values(table, "max_rung")
    assert set(np.unique(max_rung)) <= {RUNG_INDEX["limited_ground_operation"], RUNG_INDEX["conventional_incursion"]}
    for column, rung in enumerate(("limited_ground_operation", "conventional_incursion")):
        p_exact = absorb[0, column]
        hits = (max_rung == RUNG_INDEX[rung]).astype(float)
        within_standard_errors(hits, p_exact, se=np.sqrt(p_exact * (1 - p_exact) / len(hits)))
    times = values(table, "days_at_low_intensity") + values(table, "days_at_border_clashes")
    within_standard_errors(times, mean_time)


def test_ctmc_state_and_mean_sojourn_at_a_finite_horizon_match_the_matrix_exponential(ctmc_scenario, fast_config):
    horizon = 120.0
    q = ctmc_generator()
    exact = expm(q * horizon)[0]
    transient = q[:2, :2]
    expected_time = (np.linalg.solve(transient, expm(transient * horizon) - np.eye(2)) @ np.ones(2))[0]
    table = run_fast(fast_config, ctmc_scenario, 10_000, horizon, seed=22)
    times = values(table, "days_at_low_intensity") + values(table, "days_at_border_clashes")
    within_standard_errors(times, expected_time)
    final = values(table, "final_rung")
    for state, rung in enumerate(("low_intensity", "border_clashes", "limited_ground_operation",
                                  "conventional_incursion")):
        hits = (final == RUNG_INDEX[rung]).astype(float)
        within_standard_errors(hits, exact[state], se=np.sqrt(exact[state] * (1 - exact[state]) / len(hits)))


def test_baseline_reproduces_the_seeds_annual_volumes(make_scenario, fast_config):
    scenario = make_scenario(values={"ceasefire_attack_factor": 1.0})
    table = run_fast(fast_config, scenario, 3000, 365.0, seed=31)
    within_standard_errors(values(table, "attacks"), 800.0)
    within_standard_errors(values(table, "fatalities_ttp_violence"), 3200.0)


# ---------------------------------------------------------------- the record


def test_table_has_exactly_the_simpy_runners_schema_with_sampled_parameters():
    config = compose_run_config(["engine=fast", "n_runs=6", "horizon_days=40"])
    sampled = sample_parameters(config.scenario, seed=config.seed, n_runs=6, start=0, stop=6)
    fast = simulate_chunk(config, 0, 6, sampled)
    rows = []
    for offset in range(6):
        run_values = dict(config.scenario.point_values())
        run_values.update({name: float(column[offset]) for name, column in sampled.items()})
        rows.append(simulate_run(config.scenario, run_values, run_stream(config.seed, offset),
                                 horizon_days=40.0, run_index=offset).row)
    reference = rows_to_table(rows, sampled)
    assert fast.schema.equals(reference.schema)
    assert fast.column_names == reference.column_names
    assert fast.num_rows == 6
    for name in sampled:  # the parameters the runs used, unchanged
        assert fast.column(f"param.{name}").to_pylist() == list(sampled[name])


def test_an_empty_chunk_is_an_empty_table_with_the_schema(fast_config):
    table = simulate_chunk(fast_config, 5, 5, {})
    assert table.num_rows == 0
    assert table.schema.equals(rows_to_table([]).schema)


def test_rows_are_consistent_with_themselves(fast_config):
    table = simulate_chunk(dataclasses.replace(fast_config, horizon_days=200.5), 0, 300, {})
    rows = table.to_pylist()
    for row in rows:
        assert row["fatalities_total"] == sum(row[f"fatalities_{c}"] for c in FATALITY_CATEGORIES)
        assert row["max_rung"] == max(row["rung_path"]) and row["final_rung"] == row["rung_path"][-1]
        assert row["rung_path"][0] == 0 and row["rung_path_days"][0] == 0.0
        assert sum(row[f"days_at_{rung}"] for rung in RUNGS) == pytest.approx(200.5)
        assert len(row["rung_daily"]) == 201
        expected_daily = daily_rungs(row["rung_path_days"], row["rung_path"], horizon_days=200.5)
        # path days are float32 in the record; compare away from day boundaries only
        assert row["rung_daily"][-1] == row["final_rung"]
        assert np.mean(np.asarray(row["rung_daily"]) == expected_daily) > 0.99
        assert row["outcome"] == classify_outcome(max_rung=row["max_rung"],
                                                  ceasefire_holding=row["ceasefire_at_horizon"],
                                                  crossings_open=row["crossings_open_at_horizon"])
        assert row["attacks"] >= row["mass_casualty_attacks"] and row["strikes"] >= row["decapitation_strikes"]
        assert row["clashes"] >= row["retaliations"]
        for kind in FIRST_EVENTS:
            day = row[f"first_{kind}_day"]
            assert math.isnan(day) or 0.0 <= day < 200.5
    assert any(row["strikes"] for row in rows) and any(row["ceasefires"] for row in rows)


def test_daily_rungs_are_exactly_records_daily_rungs_of_the_path(fast_config):
    for horizon in (365.0, 200.5, 0.75):
        config = dataclasses.replace(fast_config, horizon_days=horizon)
        out = fast_engine._simulate_arrays(config, 0, 300, {})
        offsets = out["path_offsets"]
        for run in range(300):
            path = slice(offsets[run], offsets[run + 1])
            expected = daily_rungs(out["path_days"][path], out["path_rungs"][path], horizon_days=horizon)
            assert out["daily"][run].tolist() == expected.tolist()


# ---------------------------------------------------------------- reproducibility


def test_same_seed_gives_identical_rows_whatever_the_chunk_boundaries():
    config = compose_run_config(["engine=fast", "n_runs=100", "horizon_days=120"])

    def chunk(start, stop):
        sampled = sample_parameters(config.scenario, seed=config.seed, n_runs=100, start=start, stop=stop)
        return simulate_chunk(config, start, stop, sampled)

    whole = chunk(0, 100)
    assert same_table(pa.concat_tables([chunk(0, 37), chunk(37, 100)]), whole)
    assert same_table(chunk(0, 100), whole)  # and again
    other_seed = simulate_chunk(dataclasses.replace(config, seed=config.seed + 1), 0, 100,
                                sample_parameters(config.scenario, seed=config.seed, n_runs=100, start=0, stop=100))
    assert not same_table(other_seed, whole)


def test_growing_the_pending_table_and_path_buffer_mid_chunk_changes_nothing(make_scenario, fast_config, monkeypatch):
    # Every attack schedules a strike a year later: hundreds pending at once; every strike is a rung move.
    scenario = make_scenario(
        on=["ttp_attacks", "cross_border_strikes"], values={"p_strike_after_attack": 1.0, "strike_delay_days": 20.0},
        transitions=[("low_intensity", "strike", "border_clashes", 1.0),
                     ("border_clashes", "strike", "low_intensity", 1.0)])
    config = dataclasses.replace(fast_config, scenario=scenario, horizon_days=60.0)
    roomy = simulate_chunk(config, 0, 20, {})
    monkeypatch.setattr(fast_engine, "INITIAL_PENDING_CAPACITY", 1)
    monkeypatch.setattr(fast_engine, "INITIAL_PATH_ROWS_PER_RUN", 1)
    cramped, counted = fast_engine.simulate_chunk_counted(config, 0, 20, {})
    assert same_table(cramped, roomy)
    assert max(len(path) for path in roomy.column("rung_path").to_pylist()) > 50
    # runs re-run after a buffer grew are counted once in the kernel's daily rung counts
    assert_same_stats(BatchStats.from_table(cramped, horizon_days=60.0, counted=counted),
                      BatchStats.from_table(cramped, horizon_days=60.0))


def assert_same_stats(a: BatchStats, b: BatchStats) -> None:
    """Every field equal to the last bit (NaN equal to NaN)."""
    assert a.n_runs == b.n_runs
    for name in ("outcome_counts", "event_counts", "metric_n", "rung_day_counts", "first_day_counts"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    for name in ("metric_mean", "metric_m2"):
        assert np.array_equal(getattr(a, name), getattr(b, name), equal_nan=True), name
    assert len(a.value_counts) == len(b.value_counts)
    for mine, theirs in zip(a.value_counts, b.value_counts):
        assert (mine is None) == (theirs is None)
        if mine is not None:
            assert mine[0] == theirs[0] and np.array_equal(mine[1], theirs[1])
    assert (a.kept_values is None) == (b.kept_values is None)
    for mine, theirs in zip(a.kept_values or [], b.kept_values or []):
        assert all(np.array_equal(x, y, equal_nan=True) for x, y in zip(mine, theirs))


@pytest.mark.parametrize("overrides", [
    ["uncertainty=fixed"],
    ["scenario=major_attack_shock", "horizon_days=200.5"],
    ["scenario=kandahar_ascendant", "uncertainty=fixed"],
])
def test_the_counts_the_engine_makes_are_what_from_table_counts(overrides):
    # The runner takes the compiled engine's own counts (first-event days, integer metrics' value
    # counts, daily rung counts from the kernel) instead of counting them from the table again:
    # they must be the same numbers, and the statistics built on them the same to the last bit.
    config = compose_run_config(["engine=fast", "n_runs=3000"] + overrides)
    sampled = sample_parameters(config.scenario, seed=config.seed, n_runs=3000, start=1000, stop=3000,
                                uncertainty=config.uncertainty, method=config.sampling)
    table, counted = fast_engine.simulate_chunk_counted(config, 1000, 3000, sampled)
    for keep in (False, True):
        assert_same_stats(BatchStats.from_table(table, horizon_days=config.horizon_days, keep_values=keep, counted=counted),
                          BatchStats.from_table(table, horizon_days=config.horizon_days, keep_values=keep))
    assert counted.rung_day_counts.sum(axis=1).tolist() == [2000] * math.ceil(config.horizon_days)
    assert all(pair is not None for pair in counted.value_counts)
    empty, nothing = fast_engine.simulate_chunk_counted(config, 5, 5, {k: v[:0] for k, v in sampled.items()})
    assert_same_stats(BatchStats.from_table(empty, horizon_days=config.horizon_days, counted=nothing),
                      BatchStats.from_table(empty, horizon_days=config.horizon_days))


def test_value_counts_too_wide_to_keep_are_dropped_as_from_table_drops_them():
    values = np.array([[0, 5, 2], [7, 7, 7], [-3, 0, 1]], np.int64)
    lows, widths = np.zeros(3, np.int64), np.zeros(3, np.int64)
    flat = fast_stats._count_values(values, 5, lows, widths)
    assert lows.tolist() == [0, 7, -3] and widths.tolist() == [-1, 1, 5]
    assert flat.tolist() == [3, 1, 0, 0, 1, 1]


def test_a_scenario_differing_only_in_crossings_keeps_the_attack_history():
    # common random numbers: crossings draw from their own sub-stream
    base = compose_run_config(["engine=fast", "n_runs=50", "horizon_days=200"])
    other = compose_run_config(["engine=fast", "n_runs=50", "horizon_days=200", "scenario=border_reopened"])
    a = simulate_chunk(base, 0, 50, sample_parameters(base.scenario, seed=base.seed, n_runs=50, start=0, stop=50))
    b = simulate_chunk(other, 0, 50, sample_parameters(other.scenario, seed=base.seed, n_runs=50, start=0, stop=50))
    assert a.column("attacks").equals(b.column("attacks"))
    assert not a.column("days_closed_torkham").equals(b.column("days_closed_torkham"))


# ---------------------------------------------------------------- switches and injected events


def test_every_mechanism_off_gives_all_zero_counts_and_protracted_low_intensity(make_scenario, fast_config):
    table = run_fast(fast_config, make_scenario(on=[]), 50, 365.0, seed=1)
    for name in COUNT_COLUMNS + tuple(f"fatalities_{c}" for c in FATALITY_CATEGORIES) + ("fatalities_total",):
        assert values(table, name).sum() == 0, name
    assert set(table.column("outcome").to_pylist()) == {"protracted_low_intensity"}
    assert set(values(table, "max_rung")) == {0.0}
    assert np.all(values(table, "days_at_low_intensity") == 365.0)
    for kind in FIRST_EVENTS:
        assert np.all(np.isnan(values(table, f"first_{kind}_day"))), kind


def test_each_mechanism_switched_off_alone_silences_what_it_drives(make_scenario, fast_config):
    silenced = {"ttp_attacks": "attacks", "mass_casualty_attacks": "mass_casualty_attacks",
                "cross_border_strikes": "strikes", "retaliation": "retaliations", "seizures": "seizures",
                "crossings": "closures", "mediation": "mediation_offers",
                "ceasefire_collapse": "ceasefire_collapses",
                "chinese_nationals_attacks": "attacks_on_chinese_nationals",
                "combat_fatalities": None, "regional_involvement": None}
    for mechanism, column in silenced.items():
        table = run_fast(fast_config, make_scenario(on=set(MECHANISMS) - {mechanism}), 200, 365.0, seed=2)
        if column is not None:
            assert values(table, column).sum() == 0, mechanism
    no_regional = run_fast(fast_config, make_scenario(on=set(MECHANISMS) - {"regional_involvement"}), 2000, 365.0, 3)
    assert values(no_regional, "max_rung").max() < RUNG_INDEX["regional_war"]


def test_injected_mass_casualty_attack_with_certain_incursion_sets_first_incursion_day(make_scenario, fast_config):
    scenario = make_scenario(on=[], initial_events=[("mass_casualty_attack", 7.25, 150)],
                             transitions=[("low_intensity", "mass_casualty_attack", "conventional_incursion", 1.0)])
    table = run_fast(fast_config, scenario, 20, 100.0, seed=4)
    assert np.all(values(table, "first_incursion_day") == 7.25)
    assert np.all(values(table, "first_mass_casualty_attack_day") == 7.25)
    assert np.all(values(table, "fatalities_ttp_violence") == 150)
    assert table.column("rung_path").to_pylist()[0] == [0, RUNG_INDEX["conventional_incursion"]]
    assert np.all(values(table, "days_at_conventional_incursion") == 100.0 - 7.25)
    assert set(table.column("outcome").to_pylist()) == {"conventional_incursion"}


def test_injected_events_of_every_kind_happen_on_their_day(make_scenario, fast_config):
    scenario = make_scenario(on=["crossings"], transitions=[],
                             values={"closure_days_to_partial_reopening": 1e9},
                             initial_events=[("attack", 1.0, 3), ("strike", 2.0), ("clash", 3.0), ("closure", 4.0),
                                             ("ceasefire", 5.0), ("attack_on_chinese_nationals", 6.0)])
    row = run_fast(fast_config, scenario, 1, 50.0, seed=5).to_pylist()[0]
    assert (row["attacks"], row["strikes"], row["clashes"], row["ceasefires"]) == (1, 1, 1, 1)
    assert row["attacks_on_chinese_nationals"] == 1 and row["fatalities_ttp_violence"] == 3
    assert (row["first_strike_day"], row["first_clash_day"], row["first_ceasefire_day"]) == (2.0, 3.0, 5.0)
    assert row["first_attack_on_chinese_nationals_day"] == 6.0
    assert row["days_under_ceasefire"] == 45.0 and row["ceasefire_at_horizon"]
    assert row["first_closure_day"] <= 4.0 and not row["crossings_open_at_horizon"]


# ---------------------------------------------------------------- the run limit


def test_max_events_raises_max_events_exceeded_naming_the_run(make_scenario, fast_config):
    scenario = make_scenario(on=["ttp_attacks"], transitions=[])
    config = dataclasses.replace(fast_config, scenario=scenario, max_events_per_run=600, horizon_days=365.0)
    with pytest.raises(MaxEventsExceeded, match=r"run 40 \(seed \d+\): more than 600 events"):
        simulate_chunk(config, 40, 45, {})
    ok = dataclasses.replace(config, max_events_per_run=5000)
    assert simulate_chunk(ok, 40, 45, {}).num_rows == 5


# ---------------------------------------------------------------- the shared model functions


def test_prepare_inputs_on_arrays_agrees_with_prepare_inputs_on_each_run(baseline):
    sampled = sample_parameters(baseline, seed=8, n_runs=50, start=0, stop=50)
    point = baseline.point_values()
    arrays = {name: np.full(50, value) for name, value in point.items()} | sampled
    for switches in (baseline.switches, {m: m not in {"self_excitation", "mass_casualty_attacks",
                                                      "factional_split"} for m in MECHANISMS}):
        together = prepare_inputs(arrays, switches)
        for index in range(50):
            alone = prepare_inputs({name: float(column[index]) for name, column in arrays.items()}, switches)
            for field in ("attack_background_per_day", "excitation_jump", "excitation_decay_per_day",
                          "initial_excitation", "ordinary_attack_fatalities_mean", "mass_casualty_fatalities_mean",
                          "retaliation_factional_multiplier"):
                assert isinstance(getattr(alone, field), float)
                assert getattr(together, field)[index] == pytest.approx(getattr(alone, field), rel=1e-13), field
            assert np.allclose([w[index] for w in together.mediator_weights], alone.mediator_weights)


def test_prepare_inputs_rejects_arrays_with_any_bad_element():
    good = {name: np.ones(3) for name in CATALOGUE}
    good.update(ttp_branching_ratio=np.array([0.2, 0.3, 0.4]), p_mass_casualty_attack=np.zeros(3),
                ttp_attacks_per_year=np.full(3, 800.0), ttp_fatalities_per_year=np.full(3, 3200.0))
    on = {m: True for m in MECHANISMS}
    prepare_inputs(good, on)
    with pytest.raises(ValueError, match="branching"):
        prepare_inputs(dict(good, ttp_branching_ratio=np.array([0.2, 1.0, 0.4])), on)
    with pytest.raises(ValueError, match="more fatalities"):
        prepare_inputs(dict(good, ttp_fatalities_per_year=np.array([3200.0, 1.0, 3200.0]),
                            p_mass_casualty_attack=np.full(3, 0.5), mass_casualty_min_fatalities=np.full(3, 12.0),
                            mass_casualty_max_fatalities=np.full(3, 150.0)), on)


def test_classify_outcome_codes_agrees_with_classify_outcome_on_every_combination():
    combinations = list(itertools.product(range(len(RUNGS)), (False, True), (False, True)))
    max_rung, holding, open_ = (np.array(column) for column in zip(*combinations))
    codes = classify_outcome_codes(max_rung, holding, open_)
    assert codes.dtype == np.int8
    for (rung, cf, crossings), code in zip(combinations, codes):
        assert OUTCOME_CLASSES[code] == classify_outcome(max_rung=rung, ceasefire_holding=cf, crossings_open=crossings)
    assert {OUTCOME_CLASSES[code] for code in codes} == set(OUTCOME_CLASSES)


# ---------------------------------------------------------------- crossings shut to trade, by day


def _shut_days(row, crossing: int) -> np.ndarray:
    return (np.asarray(row["crossings_closed_daily"]) >> crossing) & 1


@pytest.mark.parametrize("to_partial, to_trade, expected_days", [
    (1e9, 1e9, list(range(1, 10))),   # shut on day 2.0 and never reopened: end of day 2 onwards
    (1e-9, 1e-9, [1]),                # reopened an instant after 2.0: only the end of day 2 saw it shut
])
def test_crossings_closed_daily_marks_the_days_whose_end_found_the_crossing_shut_in_both_engines(
        make_scenario, fast_config, to_partial, to_trade, expected_days):
    scenario = make_scenario(on=["crossings"], transitions=[], initial_events=[("clash", 2.0)],
                             values={"p_closure_after_clash": 1.0, "closure_days_to_partial_reopening": to_partial,
                                     "partial_days_to_trade_reopening": to_trade})
    fast_row = run_fast(fast_config, scenario, 1, 9.5, seed=3).to_pylist()[0]
    simpy_row = simulate_run(scenario, scenario.point_values(), run_stream(3, 0), horizon_days=9.5).row
    for row in (fast_row, simpy_row):
        assert len(row["crossings_closed_daily"]) == 10
        for crossing in range(2):
            assert np.flatnonzero(_shut_days(row, crossing)).tolist() == expected_days


def test_crossings_closed_daily_agrees_with_days_closed_and_the_state_at_the_horizon(fast_config):
    config = dataclasses.replace(fast_config, scenario=compose_run_config(["scenario=major_attack_shock"]).scenario)
    rows = simulate_chunk(config, 0, 400, {}).to_pylist()
    shut_anywhere = 0
    for row in rows:
        daily = np.asarray(row["crossings_closed_daily"])
        assert (daily[-1] == 0) == row["crossings_open_at_horizon"]
        for c, crossing in enumerate(("torkham", "chaman")):
            # each shut spell [a, b) covers ceil(b) - ceil(a) day ends: within a day of b - a
            marked = int(_shut_days(row, c).sum())
            assert abs(marked - row[f"days_closed_{crossing}"]) <= max(row["closures"], 1)
            shut_anywhere += marked > 0
    assert shut_anywhere > 100  # the check saw closures


def test_the_floors_variate_tallies_count_what_each_run_drew():
    """The benchmark's floor draws what these tallies say: each attack one offspring count, each
    mass-casualty attack one power-law variate (its deaths), and these not also as uniforms."""
    config = compose_run_config(["engine=fast", "n_runs=300", "horizon_days=200", "seed=4"])
    sampled = sample_parameters(config.scenario, seed=4, n_runs=300, start=0, stop=300)
    out = fast_engine._simulate_arrays(config, 0, 300, sampled)
    tally = dict(zip(fast_engine.DRAW_STATS, out["draws"].T))
    counts = dict(zip(COUNT_COLUMNS, out["counts"].T))
    assert counts["mass_casualty_attacks"].sum() > 100  # the comparison is not of zeros
    np.testing.assert_array_equal(tally["power_law"], counts["mass_casualty_attacks"])
    np.testing.assert_array_equal(tally["poisson_offspring"], counts["attacks"])
    exponents = tally["power_law_exponent_sum"] / np.maximum(tally["power_law"], 1)
    name = "mass_casualty_tail_exponent"
    alpha = sampled.get(name, np.full(300, config.scenario.point_values()[name]))
    drew = tally["power_law"] > 0  # (lo ** e + u (hi ** e - lo ** e)) ** (1 / e), e = 1 - alpha
    np.testing.assert_allclose(exponents[drew], 1.0 / (1.0 - alpha[drew]), rtol=1e-12)
    # uniforms: at least the per-attack ones, but no longer the power-law variates' uniforms
    without_them = fast_engine._simulate_arrays(
        compose_run_config(["engine=fast", "n_runs=300", "horizon_days=200", "seed=4",
                            "scenario.mechanisms.mass_casualty_attacks=false"]), 0, 300, sampled)
    assert np.all(out["draws"][:, 0] >= 2 * counts["attacks"])
    assert dict(zip(fast_engine.DRAW_STATS, without_them["draws"].T))["power_law"].sum() == 0


def test_the_compiled_entry_points_let_other_threads_run():
    """While this process simulates a chunk of its own, the executor's threads (handing the worker
    processes their next chunk, taking their results) must not wait for it: each compiled function
    that Python calls releases the GIL (without it the worker sat idle 2.3 s of a 17.6 s run)."""
    from sim.engines import fast_kernel

    entry_points = [fast_kernel._simulate_runs, fast_stats._count_first_days, fast_stats._integer_columns,
                    fast_stats._count_values]
    assert [function.targetoptions.get("nogil") for function in entry_points] == [True] * len(entry_points)
