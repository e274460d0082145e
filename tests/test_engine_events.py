"""Event-log tests of the SimPy engine: given fixed parameters, the right events happen at the
right times and in the right order.

Each test switches off every mechanism it does not exercise and uses probabilities of 0 or 1,
so outcomes are deterministic where the model allows. Where a delay is random (exponential)
the tests check ordering and that the row agrees with the log, or make the mean tiny or huge.
Tolerances of the few statistical checks are 5 standard errors, derived from the model.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import simpy

from sim.engines.simpy_engine import BorderConflict, MaxEventsExceeded, simulate_run
from sim.model import CROSSINGS, MECHANISMS, RUNG_INDEX, prepare_inputs

K_SE = 5.0  # tolerance, in standard errors, of every statistical check
NEVER = 1e9  # a mean delay (days) so long the event cannot happen within a test horizon


def run(scenario, *, horizon=100.0, seed=0, **kwargs):
    return simulate_run(scenario, scenario.point_values(), np.random.default_rng(seed),
                        horizon_days=horizon, keep_log=True, **kwargs)


def of_kind(events, kind):
    return [(day, detail) for day, k, detail in events if k == kind]


def kinds(events):
    return [k for _, k, _ in events]


def rung_moves(events):
    return [(day, d["from"], d["to"], d["cause"]) for day, d in of_kind(events, "rung")]


# ---------------------------------------------------------------- TTP attacks


def test_no_attack_events_when_ttp_attacks_mechanism_is_off(make_scenario):
    on = set(MECHANISMS) - {"ttp_attacks"}
    scenario = make_scenario(on=on, values={"ttp_attacks_per_year": 5000.0})
    result = run(scenario, horizon=365.0)
    assert not of_kind(result.events, "attack")
    assert not of_kind(result.events, "mass_casualty_attack")
    assert result.row["attacks"] == 0 and result.row["mass_casualty_attacks"] == 0
    assert result.row["fatalities_ttp_violence"] == 0


def test_attacks_happen_when_only_ttp_attacks_is_on(make_scenario):
    # The positive control for the test above: 800 attacks a year give ~66 in a month.
    scenario = make_scenario(on=["ttp_attacks", "self_excitation"], transitions=[])
    result = run(scenario, horizon=30.0)
    assert len(of_kind(result.events, "attack")) == result.row["attacks"] > 0


def test_injected_mass_casualty_attack_is_logged_at_its_day_with_its_deaths(make_scenario):
    scenario = make_scenario(on=[], transitions=[], initial_events=[("mass_casualty_attack", 5.0, 150)])
    result = run(scenario, horizon=30.0)
    assert result.events == [(5.0, "mass_casualty_attack", {"deaths": 150})]
    assert result.row["mass_casualty_attacks"] == 1
    assert result.row["attacks"] == 1
    assert result.row["fatalities_ttp_violence"] == 150
    assert result.row["first_mass_casualty_attack_day"] == 5.0
    assert result.row["fatalities_total"] == 150


# ---------------------------------------------------------------- Cross-border strikes


def test_strike_follows_attack_when_strike_probability_is_one(make_scenario):
    scenario = make_scenario(on=["cross_border_strikes"], transitions=[],
                             values={"p_strike_after_attack": 1.0},
                             initial_events=[("attack", 5.0, 2)])
    result = run(scenario, horizon=200.0)
    assert kinds(result.events) == ["attack", "strike"]
    (attack_day, _), (strike_day, _) = of_kind(result.events, "attack") + of_kind(result.events, "strike")
    assert attack_day == 5.0
    assert strike_day > attack_day
    assert result.row["first_strike_day"] == strike_day
    assert result.row["strikes"] == 1


def test_strike_comes_almost_at_once_when_strike_delay_is_tiny(make_scenario):
    scenario = make_scenario(on=["cross_border_strikes"], transitions=[],
                             values={"p_strike_after_attack": 1.0, "strike_delay_days": 1e-6},
                             initial_events=[("attack", 5.0, 2)])
    (strike_day, _), = of_kind(run(scenario).events, "strike")
    assert 5.0 < strike_day < 5.0 + 1e-3


def test_no_strike_after_attack_when_strike_probability_is_zero(make_scenario):
    scenario = make_scenario(on=["cross_border_strikes", "mass_casualty_attacks"], transitions=[],
                             values={"p_strike_after_attack": 0.0},
                             initial_events=[("mass_casualty_attack", 5.0, 150)])
    result = run(scenario, horizon=200.0)
    assert kinds(result.events) == ["mass_casualty_attack"]
    assert result.row["strikes"] == 0


def test_no_strike_after_attack_when_strikes_mechanism_is_off(make_scenario):
    scenario = make_scenario(on=[], transitions=[], values={"p_strike_after_attack": 1.0},
                             initial_events=[("attack", 5.0, 2)])
    assert kinds(run(scenario, horizon=200.0).events) == ["attack"]


def test_decapitation_strike_without_civilian_harm_kills_no_civilians(make_scenario):
    scenario = make_scenario(on=[], transitions=[],
                             values={"p_decapitation_strike": 1.0, "p_strike_civilian_harm": 0.0,
                                     "strike_militant_deaths_mean": 40.0},
                             initial_events=[("strike", 3.0)])
    result = run(scenario)
    assert result.events == [(3.0, "strike", {"decapitation": True, "civilian_harm": False})]
    row = result.row
    assert row["decapitation_strikes"] == 1 and row["civilian_harm_strikes"] == 0
    assert row["first_decapitation_strike_day"] == 3.0
    assert row["fatalities_civilians"] == 0
    assert row["fatalities_militants_in_strikes"] > 0  # Poisson(40) is 0 with chance e^-40


def test_strike_with_civilian_harm_kills_civilians_and_is_not_decapitation(make_scenario):
    scenario = make_scenario(on=[], transitions=[],
                             values={"p_decapitation_strike": 0.0, "p_strike_civilian_harm": 1.0,
                                     "strike_civilian_deaths_mean": 40.0},
                             initial_events=[("strike", 3.0)])
    result = run(scenario)
    assert result.events == [(3.0, "strike", {"decapitation": False, "civilian_harm": True})]
    row = result.row
    assert row["decapitation_strikes"] == 0 and row["civilian_harm_strikes"] == 1
    assert math.isnan(row["first_decapitation_strike_day"])
    assert row["fatalities_civilians"] > 0  # Poisson(40) is 0 with chance e^-40


# ---------------------------------------------------------------- Taliban retaliation


def _retaliation_scenario(make_scenario, **values):
    base = {"p_retaliation_after_strike": 1.0, "p_decapitation_strike": 0.0, "p_strike_civilian_harm": 0.0}
    base.update(values)
    return make_scenario(on=["retaliation"], transitions=[], values=base, initial_events=[("strike", 5.0)])


def test_retaliation_follows_strike_when_retaliation_probability_is_one(make_scenario):
    result = run(_retaliation_scenario(make_scenario), horizon=200.0)
    assert kinds(result.events) == ["strike", "retaliation"]
    (day, detail), = of_kind(result.events, "retaliation")
    assert day > 5.0
    assert detail == {"major": False}
    assert result.row["retaliations"] == 1 and result.row["clashes"] == 1
    assert result.row["first_retaliation_day"] == day


def test_no_retaliation_when_retaliation_probability_is_zero(make_scenario):
    result = run(_retaliation_scenario(make_scenario, p_retaliation_after_strike=0.0), horizon=200.0)
    assert kinds(result.events) == ["strike"]
    assert result.row["retaliations"] == 0


def test_no_retaliation_when_retaliation_mechanism_is_off(make_scenario):
    scenario = make_scenario(on=[], transitions=[], values={"p_retaliation_after_strike": 1.0},
                             initial_events=[("strike", 5.0)])
    assert kinds(run(scenario, horizon=200.0).events) == ["strike"]


@pytest.mark.parametrize("seed", range(10))
def test_retaliation_after_decapitation_is_major_with_deaths_in_contested_range(make_scenario, seed):
    scenario = _retaliation_scenario(make_scenario, p_decapitation_strike=1.0,
                                     retaliation_multiplier_decapitation=1.0)
    result = run(scenario, horizon=200.0, seed=seed)
    (_, detail), = of_kind(result.events, "retaliation")
    assert detail == {"major": True}
    v = scenario.point_values()
    row = result.row
    assert v["major_clash_pak_military_deaths_low"] <= row["fatalities_pak_military"] \
        <= v["major_clash_pak_military_deaths_high"]
    assert v["major_clash_afghan_deaths_low"] <= row["fatalities_afghan_forces"] \
        <= v["major_clash_afghan_deaths_high"]


# ---------------------------------------------------------------- Crossings


def _closure_scenario(make_scenario, **values):
    base = {"p_closure_after_clash": 1.0}
    base.update(values)
    return make_scenario(on=["crossings"], transitions=[], values=base, initial_events=[("clash", 2.0)])


def test_clash_closes_both_crossings_when_closure_probability_is_one(make_scenario):
    result = run(_closure_scenario(make_scenario), horizon=3.0)
    closures = of_kind(result.events, "closure")
    assert closures == [(2.0, {"crossing": c}) for c in CROSSINGS]
    assert result.row["closures"] == 2
    assert kinds(result.events)[0] == "clash"


def test_no_closure_when_closure_probability_is_zero(make_scenario):
    result = run(_closure_scenario(make_scenario, p_closure_after_clash=0.0), horizon=100.0)
    assert kinds(result.events) == ["clash"]
    assert result.row["crossings_open_at_horizon"] is True


@pytest.mark.parametrize("seed", range(5))
def test_crossing_reopens_partially_then_to_trade_and_days_closed_match_log(make_scenario, seed):
    horizon = 2000.0  # means of 10 + 14 days: still shut at the horizon with chance ~e^-80
    scenario = _closure_scenario(make_scenario)
    result = run(scenario, horizon=horizon, seed=seed)
    v, row = scenario.point_values(), result.row
    expected_loss = 0.0
    for crossing in CROSSINGS:
        sequence = [(day, k) for day, k, d in result.events if d.get("crossing") == crossing]
        assert [k for _, k in sequence] == ["closure", "partial_reopening", "trade_reopening"]
        (closed, _), (partial, _), (reopened, _) = sequence
        assert closed == 2.0 < partial < reopened
        assert row[f"days_closed_{crossing}"] == pytest.approx(reopened - closed, rel=1e-12)
        expected_loss += (reopened - closed) * v[f"trade_loss_usd_per_day_{crossing}"]
    assert row["trade_loss_usd"] == pytest.approx(expected_loss, rel=1e-12)
    assert row["crossings_open_at_horizon"] is True


def test_crossing_still_shut_at_horizon_counts_days_to_horizon(make_scenario):
    scenario = _closure_scenario(make_scenario, partial_days_to_trade_reopening=NEVER)
    horizon = 500.0
    result = run(scenario, horizon=horizon)
    v, row = scenario.point_values(), result.row
    assert not of_kind(result.events, "trade_reopening")
    assert len(of_kind(result.events, "partial_reopening")) == 2
    for crossing in CROSSINGS:
        assert row[f"days_closed_{crossing}"] == pytest.approx(horizon - 2.0)
    expected = sum((horizon - 2.0) * v[f"trade_loss_usd_per_day_{c}"] for c in CROSSINGS)
    assert row["trade_loss_usd"] == pytest.approx(expected)
    assert row["crossings_open_at_horizon"] is False
    assert row["outcome"] == "protracted_low_intensity"


def test_reclosing_a_partially_reopened_crossing_counts_trade_days_from_first_closure(make_scenario):
    # Closed by a clash at day 2, partially reopened at once (tiny mean), closed again at day 3,
    # partially reopened again, never reopened to trade: shut to trade from day 2 to the horizon.
    scenario = make_scenario(on=["crossings"], transitions=[],
                             values={"p_closure_after_clash": 1.0, "closure_days_to_partial_reopening": 1e-6,
                                     "partial_days_to_trade_reopening": NEVER},
                             initial_events=[("clash", 2.0), ("closure", 3.0)])
    result = run(scenario, horizon=50.0)
    for crossing in CROSSINGS:
        sequence = [(round(day), k) for day, k, d in result.events if d.get("crossing") == crossing]
        assert sequence == [(2, "closure"), (2, "partial_reopening"), (3, "closure"), (3, "partial_reopening")]
        assert result.row[f"days_closed_{crossing}"] == pytest.approx(48.0)
    assert result.row["closures"] == 4


# ---------------------------------------------------------------- Mediation and ceasefires


def test_mediation_offer_brings_ceasefire_when_success_probability_is_one(make_scenario):
    scenario = make_scenario(on=["mediation"], transitions=[],
                             values={"p_mediation_success": 1.0, "mediation_fatality_scale": 1e12,
                                     "mediation_offers_per_year": 365.0})
    result = run(scenario, horizon=60.0)
    offers = of_kind(result.events, "mediation_offer")
    ceasefires = of_kind(result.events, "ceasefire")
    assert len(offers) == len(ceasefires) >= 2  # 0.625 offers/day over 60 days
    # Every offer is followed at the same instant by a ceasefire from the same mediator;
    # the first starts it, later ones renew it.
    pairs = [(day, k, d) for day, k, d in result.events]
    for index in range(0, len(pairs), 2):
        (d1, k1, offer), (d2, k2, ceasefire) = pairs[index], pairs[index + 1]
        assert (k1, k2) == ("mediation_offer", "ceasefire") and d1 == d2
        assert ceasefire["mediator"] == offer["mediator"]
        assert ceasefire["renewed"] is (index > 0)
    row = result.row
    assert row["ceasefires"] == 1 and row["ceasefire_at_horizon"] is True
    assert row["first_ceasefire_day"] == offers[0][0]
    assert row["days_under_ceasefire"] == pytest.approx(60.0 - offers[0][0])
    assert row["outcome"] == "de_escalation"


def test_mediation_offer_fails_when_success_probability_is_zero(make_scenario):
    scenario = make_scenario(on=["mediation"], transitions=[],
                             values={"p_mediation_success": 0.0, "mediation_offers_per_year": 365.0})
    result = run(scenario, horizon=60.0)
    assert result.row["mediation_offers"] > 0
    assert not of_kind(result.events, "ceasefire")


def test_no_mediation_offers_when_mediation_mechanism_is_off(make_scenario):
    on = set(MECHANISMS) - {"mediation"}
    scenario = make_scenario(on=on, values={"mediation_offers_per_year": 3650.0})
    result = run(scenario, horizon=365.0)
    assert not of_kind(result.events, "mediation_offer")
    assert not of_kind(result.events, "ceasefire")
    assert result.row["mediation_offers"] == 0 and result.row["ceasefires"] == 0


def test_strike_during_ceasefire_collapses_it_at_the_strike_time(make_scenario):
    scenario = make_scenario(on=["ceasefire_collapse"], transitions=[],
                             values={"p_collapse_on_violation": 1.0, "ceasefire_mean_duration_days": NEVER},
                             initial_events=[("ceasefire", 1.0), ("strike", 10.0)])
    result = run(scenario, horizon=50.0)
    assert kinds(result.events) == ["ceasefire", "strike", "ceasefire_collapse"]
    (collapse_day, detail), = of_kind(result.events, "ceasefire_collapse")
    assert collapse_day == 10.0 and detail == {"cause": "violation"}
    row = result.row
    assert row["first_ceasefire_collapse_day"] == 10.0
    assert row["days_under_ceasefire"] == pytest.approx(9.0)
    assert row["ceasefire_at_horizon"] is False


def test_strike_during_ceasefire_does_not_collapse_it_when_collapse_probability_is_zero(make_scenario):
    scenario = make_scenario(on=["ceasefire_collapse"], transitions=[],
                             values={"p_collapse_on_violation": 0.0, "ceasefire_mean_duration_days": NEVER},
                             initial_events=[("ceasefire", 1.0), ("strike", 10.0)])
    result = run(scenario, horizon=50.0)
    assert kinds(result.events) == ["ceasefire", "strike"]
    assert result.row["days_under_ceasefire"] == pytest.approx(49.0)


def test_ceasefire_holds_to_horizon_when_collapse_mechanism_is_off(make_scenario):
    scenario = make_scenario(on=[], transitions=[],
                             values={"ceasefire_mean_duration_days": 0.01, "p_collapse_on_violation": 1.0},
                             initial_events=[("ceasefire", 5.0), ("strike", 10.0)])
    result = run(scenario, horizon=100.0)
    assert kinds(result.events) == ["ceasefire", "strike"]
    row = result.row
    assert row["ceasefire_at_horizon"] is True
    assert row["days_under_ceasefire"] == pytest.approx(95.0)
    assert row["ceasefire_collapses"] == 0
    assert row["outcome"] == "de_escalation"


def test_ceasefire_collapses_by_hazard_soon_when_mean_duration_is_tiny(make_scenario):
    scenario = make_scenario(on=["ceasefire_collapse"], transitions=[],
                             values={"ceasefire_mean_duration_days": 0.01},
                             initial_events=[("ceasefire", 5.0)])
    result = run(scenario, horizon=100.0)
    assert kinds(result.events) == ["ceasefire", "ceasefire_collapse"]
    (day, detail), = of_kind(result.events, "ceasefire_collapse")
    assert detail == {"cause": "hazard"}
    assert 5.0 < day < 6.0  # exceeds 1 day (100 means) with chance e^-100
    assert result.row["days_under_ceasefire"] == pytest.approx(day - 5.0)


# ---------------------------------------------------------------- The ladder


def test_mass_casualty_attack_moves_ladder_to_incursion_at_its_day(make_scenario):
    scenario = make_scenario(on=[], initial_events=[("mass_casualty_attack", 7.0, 50)],
                             transitions=[("low_intensity", "mass_casualty_attack", "conventional_incursion", 1.0)])
    result = run(scenario, horizon=100.0)
    assert result.events == [
        (7.0, "mass_casualty_attack", {"deaths": 50}),
        (7.0, "rung", {"from": "low_intensity", "to": "conventional_incursion", "cause": "mass_casualty_attack"}),
    ]
    row = result.row
    assert row["first_incursion_day"] == 7.0
    assert row["max_rung"] == RUNG_INDEX["conventional_incursion"] == 4
    assert row["final_rung"] == 4
    assert row["rung_path"] == [0, 4] and row["rung_path_days"] == [0.0, 7.0]
    assert row["days_at_low_intensity"] == pytest.approx(7.0)
    assert row["days_at_conventional_incursion"] == pytest.approx(93.0)
    assert row["outcome"] == "conventional_incursion"
    assert math.isnan(row["first_regional_war_day"])


def test_transition_with_probability_zero_leaves_the_rung(make_scenario):
    scenario = make_scenario(on=[], initial_events=[("mass_casualty_attack", 7.0, 50)],
                             transitions=[("low_intensity", "mass_casualty_attack", "conventional_incursion", 0.0)])
    result = run(scenario)
    assert not of_kind(result.events, "rung")
    assert result.row["max_rung"] == 0 and math.isnan(result.row["first_incursion_day"])


def test_iran_involvement_during_incursion_leads_to_regional_war(make_scenario):
    scenario = make_scenario(
        on=["regional_involvement"],
        values={"iran_involvement_per_year_in_incursion": 36500.0,  # mean 0.01 days
                "china_involvement_per_year_in_incursion": 0.0, "iran_posture_multiplier": 1.0},
        initial_events=[("mass_casualty_attack", 7.0, 50)],
        transitions=[("low_intensity", "mass_casualty_attack", "conventional_incursion", 1.0),
                     ("conventional_incursion", "iran_involvement", "regional_war", 1.0)])
    result = run(scenario, horizon=100.0)
    assert kinds(result.events) == ["mass_casualty_attack", "rung", "iran_involvement", "rung"]
    (iran_day, _), = of_kind(result.events, "iran_involvement")
    assert 7.0 <= iran_day < 8.0  # exceeds 1 day (100 means) with chance e^-100
    assert rung_moves(result.events) == [
        (7.0, "low_intensity", "conventional_incursion", "mass_casualty_attack"),
        (iran_day, "conventional_incursion", "regional_war", "iran_involvement"),
    ]
    row = result.row
    assert row["first_incursion_day"] == 7.0 and row["first_regional_war_day"] == iran_day
    assert row["max_rung"] == RUNG_INDEX["regional_war"]
    assert row["outcome"] == "regional_war"


def test_no_regional_involvement_below_incursion(make_scenario):
    scenario = make_scenario(on=["regional_involvement"], transitions=[],
                             values={"iran_involvement_per_year_in_incursion": 36500.0,
                                     "china_involvement_per_year_in_incursion": 36500.0})
    result = run(scenario, horizon=100.0)
    assert result.events == []


def test_calm_steps_ladder_down_after_calm_days_without_violence(make_scenario):
    scenario = make_scenario(on=["calm_steps_down"], values={"calm_days": 30.0},
                             initial_events=[("clash", 0.0)],
                             transitions=[("low_intensity", "clash", "border_clashes", 1.0),
                                          ("border_clashes", "calm", "low_intensity", 1.0)])
    result = run(scenario, horizon=100.0)
    assert [(day, k) for day, k, _ in result.events] == [(0.0, "clash"), (0.0, "rung"), (30.0, "calm"), (30.0, "rung")]
    assert rung_moves(result.events) == [
        (0.0, "low_intensity", "border_clashes", "clash"),
        (30.0, "border_clashes", "low_intensity", "calm"),
    ]
    row = result.row
    assert row["days_at_border_clashes"] == pytest.approx(30.0)
    assert row["days_at_low_intensity"] == pytest.approx(70.0)
    assert row["final_rung"] == 0 and row["max_rung"] == 1


def test_violence_resets_the_calm_clock(make_scenario):
    scenario = make_scenario(on=["calm_steps_down"], values={"calm_days": 30.0},
                             initial_events=[("clash", 0.0), ("strike", 20.0)],
                             transitions=[("low_intensity", "clash", "border_clashes", 1.0),
                                          ("border_clashes", "calm", "low_intensity", 1.0)])
    result = run(scenario, horizon=100.0)
    assert of_kind(result.events, "calm") == [(50.0, {})]
    assert result.row["days_at_border_clashes"] == pytest.approx(50.0)


def test_no_calm_events_when_calm_mechanism_is_off(make_scenario):
    scenario = make_scenario(on=[], values={"calm_days": 30.0}, initial_events=[("clash", 0.0)],
                             transitions=[("low_intensity", "clash", "border_clashes", 1.0),
                                          ("border_clashes", "calm", "low_intensity", 1.0)])
    result = run(scenario, horizon=100.0)
    assert kinds(result.events) == ["clash", "rung"]
    assert result.row["days_at_border_clashes"] == pytest.approx(100.0)


# ---------------------------------------------------------------- Combat at the upper rungs


def _incursion_at_day_10(make_scenario, on, rate=100.0):
    return make_scenario(on=on, values={"combat_deaths_per_day_incursion": rate},
                         initial_events=[("mass_casualty_attack", 10.0, 50)],
                         transitions=[("low_intensity", "mass_casualty_attack", "conventional_incursion", 1.0)])


def test_combat_deaths_accrue_from_incursion_day_at_the_incursion_rate(make_scenario):
    scenario = _incursion_at_day_10(make_scenario, on=["combat_fatalities"])
    row = run(scenario, horizon=110.0, seed=3).row
    v = scenario.point_values()
    combat = row["fatalities_pak_military"] + row["fatalities_afghan_forces"] + row["fatalities_civilians"]
    mean = 100.0 * (110.0 - 10.0)  # Poisson: variance = mean; 110 days would be 10 SD away
    assert abs(combat - mean) <= K_SE * math.sqrt(mean)
    # Given the total, each share is binomial.
    for column, share in (("fatalities_pak_military", v["combat_share_pak_military"]),
                          ("fatalities_civilians", v["combat_share_civilians"]),
                          ("fatalities_afghan_forces",
                           1.0 - v["combat_share_pak_military"] - v["combat_share_civilians"])):
        se = math.sqrt(combat * share * (1.0 - share))
        assert abs(row[column] - combat * share) <= K_SE * se, column
    assert row["fatalities_ttp_violence"] == 50


def test_no_combat_deaths_when_combat_mechanism_is_off(make_scenario):
    row = run(_incursion_at_day_10(make_scenario, on=[]), horizon=110.0).row
    assert row["fatalities_pak_military"] == row["fatalities_afghan_forces"] == row["fatalities_civilians"] == 0


def test_no_combat_deaths_below_limited_ground_operation(make_scenario):
    scenario = make_scenario(on=["combat_fatalities"], initial_events=[("clash", 0.0)],
                             values={"clash_pak_military_deaths_mean": 0.0, "clash_afghan_deaths_mean": 0.0,
                                     "clash_civilian_deaths_mean": 0.0,
                                     "combat_deaths_per_day_limited_operation": 1000.0,
                                     "combat_deaths_per_day_incursion": 1000.0,
                                     "combat_deaths_per_day_regional_war": 1000.0},
                             transitions=[("low_intensity", "clash", "strike_retaliation_cycle", 1.0)])
    row = run(scenario, horizon=100.0).row
    assert row["max_rung"] == RUNG_INDEX["strike_retaliation_cycle"]
    assert row["fatalities_total"] == 0


# ---------------------------------------------------------------- Context


def _world(scenario):
    return BorderConflict(simpy.Environment(), scenario, scenario.point_values(), np.random.default_rng(0),
                          keep_log=True, max_events=1000)


def test_attacks_on_chinese_nationals_raise_mediation_rate_through_chinas_weight(make_scenario):
    scenario = make_scenario(values={"china_stake_per_attack": 0.5})
    world = _world(scenario)
    v = scenario.point_values()
    weights = {name: v[f"weight_{name}"] for name in ("qatar", "turkey", "saudi_arabia", "china", "other")}
    total = sum(weights.values())
    before = world.mediation_rate()
    assert before == pytest.approx(v["mediation_offers_per_year"] / 365.0 / v["mediation_multiplier_per_rung"])
    world.chinese_attacks = 2
    assert world.mediator_weights()[3] == pytest.approx(weights["china"] * 2.0)
    assert world.mediation_rate() / before == pytest.approx((total + weights["china"]) / total)


def test_mediation_rate_rises_by_multiplier_per_rung(make_scenario):
    scenario = make_scenario()
    world = _world(scenario)
    multiplier = scenario.point_values()["mediation_multiplier_per_rung"]
    rates = []
    for rung in range(6):
        world.rung = rung
        rates.append(world.mediation_rate())
    for low, high in zip(rates, rates[1:]):
        assert high / low == pytest.approx(multiplier)


def test_attack_on_chinese_nationals_raises_chinas_share_of_offers(make_scenario):
    stake, runs, horizon = 3.0, 150, 30.0
    offers_per_year = 365.0 * 1.6 * 0.5  # 0.5 offers a day at the bottom rung

    def china_offers(initial_events):
        scenario = make_scenario(on=["mediation"], transitions=[], initial_events=initial_events,
                                 values={"china_stake_per_attack": stake, "p_mediation_success": 0.0,
                                         "mediation_multiplier_per_rung": 1.6,
                                         "mediation_offers_per_year": offers_per_year})
        china = total = 0
        for seed in range(runs):
            offers = of_kind(run(scenario, horizon=horizon, seed=seed).events, "mediation_offer")
            china += sum(d["mediator"] == "china" for _, d in offers)
            total += len(offers)
        return china, total, scenario.point_values()

    china0, total0, v = china_offers([])
    china1, total1, _ = china_offers([("attack_on_chinese_nationals", 0.0)])
    w_china = v["weight_china"]
    w_total = sum(v[f"weight_{m}"] for m in ("qatar", "turkey", "saudi_arabia", "china", "other"))
    share0 = w_china / w_total
    share1 = w_china * (1 + stake) / (w_total + w_china * stake)
    for china, total, share in ((china0, total0, share0), (china1, total1, share1)):
        assert abs(china / total - share) <= K_SE * math.sqrt(share * (1 - share) / total)
    # Offer counts are Poisson with the rate scaled by the total weight.
    rate0 = runs * horizon * 0.5
    rate1 = rate0 * (w_total + w_china * stake) / w_total
    assert abs(total0 - rate0) <= K_SE * math.sqrt(rate0)
    assert abs(total1 - rate1) <= K_SE * math.sqrt(rate1)
    assert china1 / total1 > china0 / total0


def test_attack_on_chinese_nationals_is_logged_when_injected(make_scenario):
    scenario = make_scenario(on=[], transitions=[], initial_events=[("attack_on_chinese_nationals", 4.0)])
    result = run(scenario)
    assert result.events == [(4.0, "attack_on_chinese_nationals", {})]
    assert result.row["attacks_on_chinese_nationals"] == 1
    assert result.row["first_attack_on_chinese_nationals_day"] == 4.0


# ---------------------------------------------------------------- Factional split


def test_factional_split_scales_retaliation_and_attack_background(make_scenario):
    shift, s_ret, s_ttp = 0.2, 1.0, 0.5
    scenario = make_scenario(values={"kandahar_dominance_shift": shift, "factional_retaliation_sensitivity": s_ret,
                                     "factional_ttp_sensitivity": s_ttp})
    v = scenario.point_values()
    inputs = prepare_inputs(v, scenario.switches)
    plain = v["ttp_attacks_per_year"] / 365.0 * (1.0 - v["ttp_branching_ratio"])
    assert inputs.retaliation_factional_multiplier == pytest.approx(math.exp(s_ret * shift))
    assert inputs.attack_background_per_day == pytest.approx(plain * math.exp(s_ttp * shift))
    off = prepare_inputs(v, {**scenario.switches, "factional_split": False})
    assert off.retaliation_factional_multiplier == 1.0
    assert off.attack_background_per_day == pytest.approx(plain)


@pytest.mark.parametrize("seed", range(10))
def test_kandahar_shift_makes_retaliation_certain_when_multiplier_lifts_probability_above_one(make_scenario, seed):
    # p = 0.5 x exp(1 x ln 4) = 2: every strike is answered.
    scenario = make_scenario(on=["retaliation", "factional_split"], transitions=[],
                             values={"p_retaliation_after_strike": 0.5, "kandahar_dominance_shift": math.log(4.0),
                                     "factional_retaliation_sensitivity": 1.0,
                                     "p_decapitation_strike": 0.0, "p_strike_civilian_harm": 0.0},
                             initial_events=[("strike", 5.0)])
    assert kinds(run(scenario, horizon=200.0, seed=seed).events) == ["strike", "retaliation"]


# ---------------------------------------------------------------- Whole runs


def test_same_seed_gives_identical_event_log(make_scenario):
    scenario = make_scenario()
    first = run(scenario, horizon=365.0, seed=11)
    second = run(scenario, horizon=365.0, seed=11)
    assert first.events == second.events
    assert first.row.keys() == second.row.keys()
    for key, value in first.row.items():  # NaN (censored first days) compares unequal to itself
        assert value == second.row[key] or (value != value and second.row[key] != second.row[key]), key
    assert first.events != run(scenario, horizon=365.0, seed=12).events


def test_every_mechanism_off_gives_empty_log_and_protracted_low_intensity(make_scenario):
    result = run(make_scenario(on=[]), horizon=365.0)
    assert result.events == []
    row = result.row
    assert row["outcome"] == "protracted_low_intensity"
    assert row["fatalities_total"] == 0 and row["max_rung"] == 0
    assert row["days_at_low_intensity"] == 365.0


def test_log_is_in_time_order_and_agrees_with_row_counts(make_scenario):
    result = run(make_scenario(), horizon=365.0, seed=5)
    days = [day for day, _, _ in result.events]
    assert days == sorted(days) and 0.0 <= days[0] and days[-1] <= 365.0
    row = result.row
    counted = {"attack": 0, "mass_casualty_attack": 0}
    for _, kind, _ in result.events:
        counted[kind] = counted.get(kind, 0) + 1
    assert row["attacks"] == counted["attack"] + counted["mass_casualty_attack"]
    assert row["mass_casualty_attacks"] == counted["mass_casualty_attack"]
    assert row["strikes"] == counted.get("strike", 0)
    assert row["retaliations"] == counted.get("retaliation", 0)
    assert row["clashes"] == counted.get("clash", 0) + counted.get("retaliation", 0)
    assert row["closures"] == counted.get("closure", 0)
    assert row["mediation_offers"] == counted.get("mediation_offer", 0)
    assert row["ceasefire_collapses"] == counted.get("ceasefire_collapse", 0)
    moves = rung_moves(result.events)
    assert row["rung_path"] == [0] + [RUNG_INDEX[to] for _, _, to, _ in moves]
    assert row["rung_path_days"] == pytest.approx([0.0] + [day for day, _, _, _ in moves])
    assert sum(row[f"days_at_{r}"] for r in RUNG_INDEX) == pytest.approx(365.0)


def test_tiny_max_events_raises_max_events_exceeded(make_scenario):
    with pytest.raises(MaxEventsExceeded):
        run(make_scenario(), horizon=365.0, max_events=5)


def test_max_events_counts_events_even_without_the_log(make_scenario):
    scenario = make_scenario()
    with pytest.raises(MaxEventsExceeded):
        simulate_run(scenario, scenario.point_values(), np.random.default_rng(0), horizon_days=365.0,
                     keep_log=False, max_events=5)


def test_combat_flow_into_recent_deaths_counts_from_entering_a_combat_rung(make_scenario):
    # 200 quiet days at a rung without combat, then an incursion: the remembered deaths start at
    # zero and grow as rate x memory x (1 - exp(-t / memory)) -- the quiet days add nothing.
    scenario = make_scenario(on=["combat_fatalities"], transitions=[],
                             values={"combat_deaths_per_day_incursion": 10.0, "fatality_memory_days": 30.0})
    world = _world(scenario)
    world.env.run(until=200.0)
    world.move_to(RUNG_INDEX["conventional_incursion"], cause="test")
    assert world.recent_deaths() == 0.0
    world.env.run(until=210.0)
    assert world.recent_deaths() == pytest.approx(10.0 * 30.0 * (1.0 - math.exp(-10.0 / 30.0)))


def test_crossings_closed_daily_is_the_shut_to_trade_state_of_the_event_log_at_each_day_end(make_scenario):
    scenario = make_scenario(on=["crossings", "spontaneous_clashes"], transitions=[],
                             values={"p_closure_after_clash": 0.5, "closure_days_to_partial_reopening": 3.0,
                                     "partial_days_to_trade_reopening": 4.0})
    checked = 0
    for seed in range(5):
        result = run(scenario, horizon=120.5, seed=seed)
        for c, crossing in enumerate(CROSSINGS):
            shut, changes = False, []  # (day, shut) whenever the crossing's trade state flips
            for day, kind, detail in result.events:
                if detail.get("crossing") != crossing:
                    continue
                if kind == "closure" and not shut:
                    shut = True
                    changes.append((day, True))
                elif kind == "trade_reopening":
                    shut = False
                    changes.append((day, False))
            for index, mask in enumerate(result.row["crossings_closed_daily"]):
                end = min(index + 1.0, 120.5)
                expected = bool([s for d, s in changes if d <= end][-1:] == [True])
                assert bool(mask >> c & 1) == expected
                checked += expected
    assert checked > 50
