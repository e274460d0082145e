"""Starting state (sim.start, ``start=<name>``): validation, peace bit for bit, each element in
both engines on the same scenario with the same assertions, and the engines' equality in law
under a non-trivial start state.

Element tests switch off every mechanism they do not exercise and use probabilities of 0 or 1 or
delays that cannot happen (NEVER), so rows are deterministic; the few statistical checks derive
their tolerance from the standard error (K_SE of them) against a closed form.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scipy.stats import chi2_contingency, ks_2samp

import sim
from sim.config import CONFIG_DIR, compose_run_config
from sim.engines.fast_engine import simulate_chunk
from sim.engines.simpy_engine import simulate_run
from sim.errors import ConfigError
from sim.model import OUTCOME_CLASSES
from sim.runner import run_batch, simulate_chunk_rows
from sim.sampling import run_stream
from sim.start import StartState

DATA = CONFIG_DIR.parent / "tests" / "data"
K_SE = 4.0
NEVER = 1e9
ENGINES = ("simpy", "fast")


@pytest.fixture(scope="module")
def base_config():
    return compose_run_config(["n_runs=1", "uncertainty=fixed", "engine=fast"])


def run_rows(config, scenario, state: StartState, *, engine: str, n_runs: int = 1, horizon: float = 30.0,
             seed: int = 0) -> list[dict]:
    """Rows of ``n_runs`` runs of ``scenario`` from ``state`` in one engine."""
    if engine == "simpy":
        return [simulate_run(scenario, scenario.point_values(), run_stream(seed, i), horizon_days=horizon,
                             run_index=i, start=state).row for i in range(n_runs)]
    config = dataclasses.replace(config, scenario=scenario, horizon_days=horizon, seed=seed, n_runs=n_runs,
                                 start=state)
    return simulate_chunk(config, 0, n_runs, {}).to_pylist()


def simpy_log(scenario, state: StartState, horizon: float = 30.0):
    return simulate_run(scenario, scenario.point_values(), np.random.default_rng(0), horizon_days=horizon,
                        keep_log=True, start=state).events


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("overrides, message", [
    (["start.rung=open_war"], "start.rung: unknown rung 'open_war'"),
    (["start=after_october_clashes", "start.date=2025-10-01"],
     "start.crossings.torkham.since: 2025-10-12 is after start.date 2025-10-01"),
    (["start.recent_attacks={count:-2,within_days:7}"], "start.recent_attacks.count: expected a whole number >= 0"),
    (["start.recent_attacks=[3,-1]"], "start.recent_attacks[1]: expected a number >= 0"),
    (["start.ceasefire={since:'2025-10-01'}"], "start.ceasefire.since: a date needs start.date"),
    (["start.date=2025-10-20", "start.ceasefire={since:'2025-10-21'}"],
     "start.ceasefire.since: 2025-10-21 is after start.date 2025-10-20"),
    (["start.date=20-10-2025"], "start.date: expected a date YYYY-MM-DD"),
    (["start.crossings={kabul:{state:closed}}"], "start.crossings.kabul: unknown crossing"),
    (["start.crossings={torkham:{state:ajar}}"], "start.crossings.torkham.state: unknown state 'ajar'"),
    (["start.mediation={mediator:norway}"], "start.mediation.mediator: unknown mediator 'norway'"),
    (["horizon_days=30", "start.mediation={mediator:qatar,offer_day:30}"],
     "start.mediation.offer_day: 30 is not before horizon_days 30"),
    (["start.excitation_per_day=-0.5"], "start.excitation_per_day: expected a number >= 0"),
    (["start.ceasefire={since:1,until:2}"], "start.ceasefire.until: unknown setting"),
])
def test_bad_start_states_raise_one_line_naming_the_key(overrides, message):
    with pytest.raises(ConfigError) as error:
        compose_run_config(overrides)
    text = str(error.value)
    assert text.startswith(message), text
    assert "\n" not in text


def test_shipped_start_states_validate_and_peace_is_the_default():
    peace = compose_run_config([]).start
    assert peace.is_peace and peace.name == "peace" and peace.date is None
    after = compose_run_config(["start=after_october_clashes"]).start
    assert (after.rung, after.crossings, after.crossings_since) == (1, ("closed", "closed"), (1.0, 1.0))
    assert after.date.isoformat() == "2025-10-13" and after.mediator == "qatar" and len(after.recent_attack_ages) == 10


# ---------------------------------------------------------------- peace: the rows of before (floats to 1e-9)


def same_value(u, v) -> bool:
    """Equal values: floats to 1e-9 relative (NaN equal to NaN), lists element by element, the
    rest exactly. On an AVX-512 host the sampled parameters differed from the saved rows in their
    last bit (numpy's vectorised math is the likely source), and the runs' times inherit it."""
    if isinstance(u, list) and isinstance(v, list):
        return len(u) == len(v) and all(same_value(a, b) for a, b in zip(u, v))
    if isinstance(u, float) and isinstance(v, float):
        return (math.isnan(u) and math.isnan(v)) or math.isclose(u, v, rel_tol=1e-9, abs_tol=1e-12)
    return u == v


def same_rows(a: pa.Table, b: pa.Table) -> bool:
    """Equal tables: same schema and rows, each value as :func:`same_value` compares them."""
    if a.schema != b.schema or a.num_rows != b.num_rows:
        return False
    return all(same_value(a.column(name).to_pylist(), b.column(name).to_pylist()) for name in a.column_names)


@pytest.mark.parametrize("engine, n_runs", [("simpy", 20), ("fast", 300)])
def test_start_peace_gives_the_rows_saved_before_start_states_existed(engine, n_runs):
    # tests/data/start_peace_<engine>.parquet: these runs saved from the commit before start states
    config = compose_run_config(["scenario=baseline", f"engine={engine}", f"n_runs={n_runs}", "seed=606",
                                 "horizon_days=200", f"chunk_size={n_runs}", "start=peace"])
    table, failures = simulate_chunk_rows(config, 0)
    assert not failures
    assert same_rows(table, pq.read_table(DATA / f"start_peace_{engine}.parquet"))


# ---------------------------------------------------------------- each element, both engines


@pytest.mark.parametrize("engine", ENGINES)
def test_start_rung_begins_the_path_counts_its_days_and_sets_the_outcome(make_scenario, base_config, engine):
    scenario = make_scenario(on=[], transitions=[])
    state = StartState(rung=3)  # limited_ground_operation, nothing moves
    (row,) = run_rows(base_config, scenario, state, engine=engine, horizon=10.5)
    assert row["rung_path"] == [3] and row["rung_path_days"] == [0.0]
    assert row["max_rung"] == row["final_rung"] == 3 and row["outcome"] == "limited_war"
    assert row["days_at_limited_ground_operation"] == 10.5 and row["days_at_low_intensity"] == 0.0
    assert row["rung_daily"] == [3] * 11


@pytest.mark.parametrize("engine", ENGINES)
def test_calm_steps_down_from_the_start_rung_after_calm_days(make_scenario, base_config, engine):
    scenario = make_scenario(on=["calm_steps_down"], values={"calm_days": 5.0},
                             transitions=[("border_clashes", "calm", "low_intensity", 1.0)])
    (row,) = run_rows(base_config, scenario, StartState(rung=1), engine=engine, horizon=12.0)
    assert row["rung_path"] == [1, 0] and row["rung_path_days"] == [0.0, 5.0]
    assert row["days_at_border_clashes"] == 5.0 and row["max_rung"] == 1
    assert row["rung_daily"] == [1] * 4 + [0] * 8  # the entry at day 5 counts from day 5's end


def test_simpy_log_shows_the_calm_move_down_from_the_start_rung(make_scenario):
    scenario = make_scenario(on=["calm_steps_down"], values={"calm_days": 5.0},
                             transitions=[("border_clashes", "calm", "low_intensity", 1.0)])
    events = simpy_log(scenario, StartState(rung=1), horizon=12.0)
    assert [(day, kind) for day, kind, _ in events] == [(5.0, "calm"), (5.0, "rung")]
    assert events[1][2] == {"from": "border_clashes", "to": "low_intensity", "cause": "calm"}


@pytest.mark.parametrize("engine", ENGINES)
def test_shut_crossings_count_days_and_trade_loss_from_day_zero_and_not_as_closures(make_scenario, base_config,
                                                                                    engine):
    scenario = make_scenario(on=[], values={"closure_days_to_partial_reopening": NEVER,
                                            "partial_days_to_trade_reopening": NEVER})
    state = StartState(crossings=("closed", "partial"), crossings_since=(10.0, 3.0))
    (row,) = run_rows(base_config, scenario, state, engine=engine, horizon=20.0)
    v = scenario.point_values()
    assert row["days_closed_torkham"] == row["days_closed_chaman"] == 20.0
    assert row["trade_loss_usd"] == pytest.approx(20.0 * (v["trade_loss_usd_per_day_torkham"]
                                                          + v["trade_loss_usd_per_day_chaman"]))
    assert row["closures"] == 0 and math.isnan(row["first_closure_day"])
    assert row["crossings_closed_daily"] == [3] * 20 and not row["crossings_open_at_horizon"]
    assert row["outcome"] == "protracted_low_intensity"


def test_simpy_log_reopens_a_partial_crossing_straight_to_trade(make_scenario):
    scenario = make_scenario(on=[], values={"closure_days_to_partial_reopening": NEVER,
                                            "partial_days_to_trade_reopening": 1e-6})
    events = simpy_log(scenario, StartState(crossings=("closed", "partial"), crossings_since=(1.0, 1.0)))
    assert [(kind, detail) for _, kind, detail in events] == [("trade_reopening", {"crossing": "chaman"})]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_closed_crossing_reopens_by_the_memoryless_stages(make_scenario, base_config, engine):
    # closed -> partial at once, partial -> trade after Exp(mean 5): E[days closed] = 5 (1 - exp(-H/5))
    mean, horizon, n = 5.0, 20.0, 2000
    scenario = make_scenario(on=[], values={"closure_days_to_partial_reopening": 1e-6,
                                            "partial_days_to_trade_reopening": mean})
    state = StartState(crossings=("closed", "open"), crossings_since=(30.0, None))
    rows = run_rows(base_config, scenario, state, engine=engine, n_runs=n, horizon=horizon, seed=3)
    days = np.array([row["days_closed_torkham"] for row in rows])
    expected = mean * (1.0 - math.exp(-horizon / mean))
    assert abs(days.mean() - expected) < K_SE * days.std(ddof=1) / math.sqrt(n)
    first = rows[0]  # its daily bits: shut up to the day it reopened
    reopened = math.ceil(first["days_closed_torkham"]) - 1
    assert first["crossings_closed_daily"][:reopened] == [1] * reopened
    assert set(first["crossings_closed_daily"][reopened:]) <= {0}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_ceasefire_in_force_holds_from_day_zero_without_counting_as_new(make_scenario, base_config, engine):
    scenario = make_scenario(on=["ceasefire_collapse"], values={"ceasefire_mean_duration_days": NEVER})
    (row,) = run_rows(base_config, scenario, StartState(ceasefire_since=4.0), engine=engine, horizon=30.0)
    assert row["days_under_ceasefire"] == 30.0 and row["ceasefires"] == 0 and row["ceasefire_at_horizon"]
    assert row["outcome"] == "de_escalation"


@pytest.mark.parametrize("engine", ENGINES)
def test_a_ceasefire_in_force_collapses_by_the_same_hazard(make_scenario, base_config, engine):
    mean, horizon, n = 20.0, 60.0, 2000
    scenario = make_scenario(on=["ceasefire_collapse"], values={"ceasefire_mean_duration_days": mean})
    rows = run_rows(base_config, scenario, StartState(ceasefire_since=4.0), engine=engine, n_runs=n,
                    horizon=horizon, seed=5)
    days = np.array([row["days_under_ceasefire"] for row in rows])
    expected = mean * (1.0 - math.exp(-horizon / mean))
    assert abs(days.mean() - expected) < K_SE * days.std(ddof=1) / math.sqrt(n)
    collapsed = np.array([row["ceasefire_collapses"] for row in rows])
    p = 1.0 - math.exp(-horizon / mean)
    assert abs(collapsed.mean() - p) < K_SE * math.sqrt(p * (1 - p) / n)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("state, per_attack_excitation", [
    (StartState(excitation_per_day=0.0, recent_attack_ages=(0.0,) * 20), 20.0),  # x jump
    (StartState(excitation_per_day=0.0, recent_attack_ages=(2.0,) * 20), 20.0 * math.exp(-1.0)),
])
def test_recent_attacks_set_the_initial_excitation_of_the_hawkes_process(make_scenario, base_config, engine, state,
                                                                         per_attack_excitation):
    # background ~ 0: the attacks are the clusters of the pending offspring only. Each recent attack
    # of age a leaves Poisson(b exp(-a / decay days)) pending offspring, each a cluster of mean
    # size 1 / (1 - b): E[attacks] = b / (1 - b) x sum of exp(-a / decay days) (clusters end long before H).
    b, decay_days, n = 0.5, 2.0, 3000
    scenario = make_scenario(on=["ttp_attacks", "self_excitation"], transitions=[],
                             values={"ttp_attacks_per_year": 1e-9, "ttp_branching_ratio": b,
                                     "ttp_excitation_decay_days": decay_days})
    rows = run_rows(base_config, scenario, state, engine=engine, n_runs=n, horizon=200.0, seed=7)
    attacks = np.array([row["attacks"] for row in rows])
    expected = per_attack_excitation * b / (1.0 - b)
    assert abs(attacks.mean() - expected) < K_SE * attacks.std(ddof=1) / math.sqrt(n)


@pytest.mark.parametrize("engine", ENGINES)
def test_an_offer_under_way_is_made_on_its_day_by_its_mediator(make_scenario, base_config, engine):
    scenario = make_scenario(on=[], values={"p_mediation_success": 1.0})
    state = StartState(mediator="china", offer_day=3.0)
    (row,) = run_rows(base_config, scenario, state, engine=engine, horizon=30.0)
    assert row["mediation_offers"] == 1 and row["first_mediation_offer_day"] == 3.0
    assert row["first_china_mediation_offer_day"] == 3.0
    assert row["ceasefires"] == 1 and row["first_ceasefire_day"] == 3.0 and row["days_under_ceasefire"] == 27.0
    assert row["outcome"] == "de_escalation"


def test_simpy_log_shows_the_offer_then_the_ceasefire(make_scenario):
    scenario = make_scenario(on=[], values={"p_mediation_success": 1.0})
    events = simpy_log(scenario, StartState(mediator="qatar", offer_day=3.0))
    assert [(day, kind, detail.get("mediator")) for day, kind, detail in events] == [
        (3.0, "mediation_offer", "qatar"), (3.0, "ceasefire", "qatar")]


def test_summary_and_manifest_record_the_start_date_and_state(tmp_path):
    folder = tmp_path / "runs"
    sim.run("baseline", overrides=["engine=fast", "n_runs=40", "seed=3", "horizon_days=30", "plots=false",
                                   "start=after_october_clashes"], output_dir=folder)
    summary = json.loads((folder / "summary.json").read_text())
    manifest = json.loads((folder / "manifest.json").read_text())
    assert summary["start_date"] == "2025-10-13"
    assert summary["start"]["rung"] == "border_clashes" and summary["start"]["mediation"]["mediator"] == "qatar"
    assert manifest["start"] == summary["start"]
    # outputs carry calendar dates: the horizon's end, and the day each first-event quantile falls on
    assert summary["horizon_end_date"] == "2025-11-12"
    clash = summary["metrics"]["first_clash_day"]
    for q in ("p05", "p50", "p95"):
        day = dt.date(2025, 10, 13) + dt.timedelta(days=math.floor(clash[q]))
        assert clash[f"{q}_date"] == day.isoformat()
    assert "p50_date" not in summary["metrics"]["attacks"]


def test_an_undated_run_has_no_calendar_dates(tmp_path):
    folder = tmp_path / "runs"
    sim.run("baseline", overrides=["engine=fast", "n_runs=20", "horizon_days=30", "plots=false"], output_dir=folder)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["start_date"] is None and "horizon_end_date" not in summary
    assert "p50_date" not in summary["metrics"]["first_clash_day"]


def test_time_axes_name_calendar_months_when_the_run_has_a_start_date():
    from matplotlib.figure import Figure

    from sim.plotting import calendar_axis

    ax = Figure().add_subplot()
    ax.set_xlim(0, 365)
    calendar_axis(ax, "2025-10-13", 365)
    top = ax.child_axes[0] if ax.child_axes else None
    assert top is not None
    ticks = list(top.get_xticks())
    labels = [label.get_text() for label in top.get_xticklabels()]
    assert ticks[:3] == [19, 49, 80]                      # 1 Nov, 1 Dec, 1 Jan: days after 13 Oct
    assert labels[:4] == ["Nov 2025", "Dec", "Jan 2026", "Feb"] and len(labels) == 12
    assert "day 0 = 2025-10-13" in top.get_xlabel()
    long = Figure().add_subplot()
    calendar_axis(long, "2025-01-01", 3 * 365)            # 37 month starts: every 4th shown
    assert len(long.child_axes[0].get_xticks()) == 10
    undated = Figure().add_subplot()
    calendar_axis(undated, None, 365)
    assert not undated.child_axes


# ---------------------------------------------------------------- the engines agree in law


@pytest.mark.slow
def test_engines_agree_in_law_from_a_non_trivial_start_state():
    from sim.engines import fast_engine

    fast_engine.warm_up()
    common = ["scenario=baseline", "n_runs=3000", "horizon_days=120", "start=after_october_clashes",
              "start.ceasefire={since:1}"]
    simpy = run_batch(compose_run_config([*common, "engine=simpy", "seed=101", "chunk_size=250"]), workers=2,
                      progress=False).table
    fast = run_batch(compose_run_config([*common, "engine=fast", "seed=202", "chunk_size=3000"]), workers=1,
                     progress=False).table
    p = {}
    a, b = simpy.column("outcome").to_pylist(), fast.column("outcome").to_pylist()
    counts = np.array([[a.count(name) for name in OUTCOME_CLASSES], [b.count(name) for name in OUTCOME_CLASSES]])
    p["outcome"] = float(chi2_contingency(counts[:, counts.sum(axis=0) > 0]).pvalue)
    for name in ("days_closed_torkham", "days_under_ceasefire", "trade_loss_usd", "attacks", "fatalities_total",
                 "days_at_border_clashes"):
        x = np.asarray(simpy.column(name).to_numpy(zero_copy_only=False), float)
        y = np.asarray(fast.column(name).to_numpy(zero_copy_only=False), float)
        p[name] = float(ks_2samp(x, y).pvalue)
    threshold = 0.001 / len(p)  # Bonferroni
    assert min(p.values()) > threshold, sorted(p.items(), key=lambda item: item[1])[:3]
