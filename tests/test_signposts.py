"""Tests for sim.signposts: conditional probabilities known by construction, the lift interval's
coverage, exact answers when every run shows the indicator, the observation day respected, and the
signposts/condition commands (including one-line refusals)."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest

from sim.errors import ConfigError, ResultsError
from sim.signposts import (INDICATORS, OUTCOMES, assess_signposts, command, condition, condition_command,
                           indicator_values, lift_interval, risk_ratio_interval, watch_list)

NAN = float("nan")


def known_table(seed: int = 0, n: int = 20_000) -> tuple[pa.Table, dict]:
    """Half the runs have a mass-casualty attack on a day uniform in [0, 60]; it decides the odds of
    incursion-or-worse only if it came by day 30 (0.40), otherwise 0.10 — so P(I by day 30) = 0.25."""
    rng = np.random.default_rng(seed)
    happened = rng.uniform(size=n) < 0.5
    days = np.where(happened, rng.uniform(0, 60, n), NAN)
    early = days <= 30
    severe = rng.uniform(size=n) < np.where(early, 0.40, 0.10)
    outcome = np.where(severe, "conventional_incursion", "protracted_low_intensity")
    truth = {"prevalence": 0.25, "p_given": 0.40, "p_given_not": 0.10, "base": 0.25 * 0.40 + 0.75 * 0.10}
    truth["lift"] = truth["p_given"] / truth["base"]
    return pa.table({"outcome": outcome, "first_mass_casualty_attack_day": days}), truth


def test_conditional_probabilities_match_their_construction_within_4_se():
    table, truth = known_table()
    s = assess_signposts(table, 30, indicators=["mass_casualty_attack"]).get("mass_casualty_attack",
                                                                             "incursion_or_worse")
    n = s.n_runs
    assert abs(s.prevalence - truth["prevalence"]) <= 4 * np.sqrt(0.25 * 0.75 / n)
    assert abs(s.p_given - truth["p_given"]) <= 4 * np.sqrt(0.4 * 0.6 / s.n_with)
    assert abs(s.p_given_not - truth["p_given_not"]) <= 4 * np.sqrt(0.1 * 0.9 / (n - s.n_with))
    assert abs(s.base_rate - truth["base"]) <= 4 * np.sqrt(truth["base"] * (1 - truth["base"]) / n)
    se_lift = (s.lift_ci95[1] - s.lift_ci95[0]) / (2 * 1.96)
    assert abs(s.lift - truth["lift"]) <= 4 * se_lift
    assert s.p_given_ci95[0] < s.p_given < s.p_given_ci95[1]
    assert not s.small_n and not s.part_of_outcome


def test_only_events_by_the_observation_day_condition():
    table = pa.table({"outcome": ["limited_war"] * 4, "first_strike_day": [30.0, 30.01, NAN, 0.5]})
    values, _ = indicator_values(table, 30, ["strike"])
    assert values["strike"].tolist() == [True, False, False, True]
    # seen "ever" the odds would differ; by day 30 the later strike does not count
    table, _ = known_table(seed=1)
    later = assess_signposts(table, 60, indicators=["mass_casualty_attack"]).get("mass_casualty_attack",
                                                                                 "incursion_or_worse")
    assert abs(later.p_given - 0.25) <= 4 * np.sqrt(0.25 * 0.75 / later.n_with)   # (0.4 + 0.1) / 2


def test_lift_interval_covers_the_true_lift_95_percent_of_the_time():
    rng = np.random.default_rng(2024)
    replicates, n, p_i, p_given, p_given_not = 4000, 400, 0.2, 0.3, 0.1
    true_lift = p_given / (p_i * p_given + (1 - p_i) * p_given_not)
    shown = rng.uniform(size=(replicates, n)) < p_i
    case = rng.uniform(size=(replicates, n)) < np.where(shown, p_given, p_given_not)
    lift, low, high = lift_interval((shown & case).sum(1), shown.sum(1), case.sum(1), n)
    coverage = np.mean((low <= true_lift) & (true_lift <= high))
    assert abs(coverage - 0.95) <= 4 * np.sqrt(0.95 * 0.05 / replicates)


def test_risk_ratio_interval_covers_the_true_ratio_95_percent_of_the_time():
    rng = np.random.default_rng(7)
    hits = 0
    replicates = 2000
    for _ in range(replicates):
        shown = rng.uniform(size=400) < 0.3
        case = rng.uniform(size=400) < np.where(shown, 0.3, 0.1)
        _, low, high = risk_ratio_interval((shown & case).sum(), shown.sum(), (~shown & case).sum(), (~shown).sum())
        hits += low <= 3.0 <= high
    assert abs(hits / replicates - 0.95) <= 4 * np.sqrt(0.95 * 0.05 / replicates)


def test_an_indicator_every_run_has_returns_the_base_rate_exactly():
    table, _ = known_table(seed=3, n=2000)
    table = table.append_column("first_clash_day", pa.array(np.full(2000, 1.0)))
    s = assess_signposts(table, 30, indicators=["clash"]).get("clash", "incursion_or_worse")
    assert (s.p_given, s.p_given_ci95) == (s.base_rate, s.base_rate_ci95)
    assert s.lift == 1.0 and s.lift_ci95 == (1.0, 1.0) and s.prevalence == 1.0
    result = condition(table, {"clash": True}, day=30)
    assert result.n_matched == 2000
    for outcome in OUTCOMES:
        assert result.conditional[outcome] == result.unconditional[outcome]
        assert result.lift[outcome] == ((1.0, 1.0, 1.0) if result.unconditional[outcome].successes else
                                        pytest.approx((NAN,) * 3, nan_ok=True))


def rung_table() -> pa.Table:
    """Three runs, four days: calm; clashes from day 2; a ground operation on day 1.2-1.8 only."""
    return pa.table({
        "outcome": ["de_escalation", "protracted_low_intensity", "limited_war"],
        "rung_daily": pa.array([[0, 0, 0, 0], [0, 1, 1, 2], [0, 0, 0, 0]], pa.list_(pa.int8())),
        "rung_path": pa.array([[0], [0, 1, 2], [0, 3, 0]], pa.list_(pa.int8())),
        "rung_path_days": pa.array([[0.0], [0.0, 1.5, 3.2], [0.0, 1.2, 1.8]], pa.list_(pa.float32())),
        "crossings_closed_daily": pa.array([[0, 0, 0, 0], [1, 3, 2, 0], [0, 0, 0, 0]], pa.list_(pa.int8())),
    })


STATE_INDICATORS = ["calm_on_day", "clashes_on_day", "strike_cycle_on_day", "ground_operation", "crossings_shut",
                    "torkham_shut", "chaman_shut"]


def test_rung_and_crossing_indicators_read_the_end_of_day_state():
    values, skipped = indicator_values(rung_table(), 2, STATE_INDICATORS)
    assert not skipped
    assert values["calm_on_day"].tolist() == [True, False, True]
    assert values["clashes_on_day"].tolist() == [False, True, False]
    assert values["strike_cycle_on_day"].tolist() == [False, False, False]
    assert values["ground_operation"].tolist() == [False, False, True]    # entered and left within day 2
    assert indicator_values(rung_table().slice(1), 2, ["ground_operation"])[0]["ground_operation"].tolist() == \
        [False, True]                                                    # a sliced table reads the same
    assert values["crossings_shut"].tolist() == [False, True, False]     # bits 1 and 2 on day 2
    assert values["torkham_shut"].tolist() == [False, True, False]
    assert indicator_values(rung_table(), 3)[0]["torkham_shut"].tolist() == [False, False, False]
    assert indicator_values(rung_table(), 3)[0]["chaman_shut"].tolist() == [False, True, False]
    assert indicator_values(rung_table(), 4)[0]["crossings_shut"].tolist() == [False, False, False]


def test_crossing_indicators_are_skipped_with_a_note_when_the_column_is_absent():
    table = rung_table().drop(["crossings_closed_daily"])
    values, skipped = indicator_values(table, 2, STATE_INDICATORS)
    assert set(skipped) == {"crossings_shut", "torkham_shut", "chaman_shut"} and "crossings_closed_daily" in \
        skipped["crossings_shut"]
    assert "calm_on_day" in values
    with pytest.raises(ResultsError, match="crossings_shut: cannot be evaluated"):
        condition(table, {"crossings_shut": True}, day=2)


def test_indicators_that_define_the_outcome_are_flagged_and_ranked_last():
    rng = np.random.default_rng(5)
    n = 3000
    incursion_day = np.where(rng.uniform(size=n) < 0.05, rng.uniform(0, 20, n), NAN)
    strike_day = np.where(rng.uniform(size=n) < 0.3, 5.0, NAN)
    severe = np.isfinite(incursion_day) | (rng.uniform(size=n) < np.where(np.isfinite(strike_day), 0.2, 0.05))
    table = pa.table({"outcome": np.where(severe, "conventional_incursion", "de_escalation"),
                      "first_incursion_day": incursion_day, "first_strike_day": strike_day,
                      "first_ceasefire_day": np.where(rng.uniform(size=n) < 0.01, 3.0, NAN)})
    report = assess_signposts(table, 30, indicators=["incursion", "strike", "ceasefire"], min_runs=100)
    assert report.get("incursion", "incursion_or_worse").part_of_outcome
    assert report.get("incursion", "incursion_or_worse").p_given == 1.0
    assert not report.get("incursion", "de_escalation").part_of_outcome
    assert report.get("ceasefire", "incursion_or_worse").small_n                   # ~30 runs
    assert [s.indicator for s in watch_list(report, "incursion_or_worse")] == ["strike", "ceasefire", "incursion"]


def test_condition_keeps_runs_matching_yes_and_no():
    table = pa.table({"outcome": ["regional_war", "limited_war", "de_escalation", "limited_war"],
                      "first_strike_day": [2.0, 3.0, NAN, NAN], "first_ceasefire_day": [NAN, 4.0, 1.0, NAN]})
    result = condition(table, {"strike": True, "ceasefire": False}, day=30)
    assert result.n_matched == 1 and result.conditional["regional_war"].p == 1.0
    assert result.conditional["incursion_or_worse"].successes == 1
    assert result.unconditional["limited_war_or_worse"].p == 0.75


def test_bad_names_days_and_values_are_one_line_errors():
    table, _ = known_table(n=100)
    with pytest.raises(ConfigError, match="unknown indicator 'mca'; known: mass_casualty_attack, ") as error:
        condition(table, {"mca": True}, day=30)
    assert all(name in str(error.value) for name in INDICATORS) and "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="day=0"):
        indicator_values(table, 0)
    with pytest.raises(ConfigError, match="True or False"):
        condition(table, {"mass_casualty_attack": "yes"}, day=30)
    with pytest.raises(ConfigError, match="past the 4-day horizon"):
        indicator_values(rung_table(), 5, ["calm_on_day"])
    with pytest.raises(ResultsError, match="no run of 100 matches"):
        condition(table.append_column("first_clash_day", pa.array(np.full(100, NAN))), {"clash": True}, day=30)


def test_signposts_command_writes_the_watch_table_and_plot(sampled_results, tmp_path, capsys):
    out = tmp_path / "out"
    assert command([str(sampled_results), "--day", "30", "--out", str(out)]) == 0
    report = json.loads((out / "signposts.json").read_text())
    assert report["kind"] == "signposts" and report["day"] == 30 and report["n_runs"] == 3000
    assert set(report["skipped"]) <= {"crossings_shut", "torkham_shut", "chaman_shut"}
    assert len(report["signposts"]) == (len(INDICATORS) - len(report["skipped"])) * len(OUTCOMES)
    assert report["outcome"] == "incursion_or_worse" and 0 < report["base_rate"]["p"] < 1
    ranked = report["indicators"]
    plain = [s["lift"] for s in ranked if not (s["small_n"] or s["part_of_outcome"])]
    assert plain == sorted(plain, reverse=True) and len(plain) >= 5
    assert (out / "signposts_lift.png").stat().st_size > 20_000 and (out / "signposts_lift.svg").is_file()
    printed = capsys.readouterr().out
    assert "what to watch by day 30" in printed and "lift" in printed


def test_condition_command_prints_conditional_against_unconditional(sampled_results, tmp_path, capsys):
    out = tmp_path / "cond"
    code = condition_command([str(sampled_results), "--day", "30", "strike=yes", "ceasefire=no", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "condition.json").read_text())
    assert report["kind"] == "condition" and report["observed"] == {"strike": True, "ceasefire": False}
    assert 0 < report["n_matched"] < 3000 and (out / "condition.png").is_file()
    assert "runs match" in capsys.readouterr().out


def test_condition_command_unknown_indicator_lists_the_known_ones_and_exits_2(sampled_results, tmp_path, capsys):
    out = tmp_path / "never"
    assert condition_command([str(sampled_results), "--day", "30", "mass_casualty=yes", "--out", str(out)]) == 2
    assert command([str(sampled_results), "--day", "0", "--out", str(out)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 2 and errors[0].startswith("error: unknown indicator 'mass_casualty'; known: ")
    assert "ceasefire_collapse" in errors[0] and errors[1].startswith("error: day=0")
    assert not out.exists()
