"""The compiled engine is the SimPy engine in law: same outcome classes, same distributions of
every recorded metric, scenario by scenario -- and the procedure does reject an engine that is
slightly wrong.

For each shipped scenario both engines run a batch through the runner (parameters sampled per
run, as by default) with different seeds, so the two samples are independent. The family of
tests for one scenario:

* each outcome class: its share, 2 x 2 contingency (chi-square; Fisher's exact test when an
  expected count is below 5) -- 5 tests;
* each metric in sim.records.METRIC_COLUMNS except first-event days: two-sample Kolmogorov-
  Smirnov when it takes more than DISCRETE_MAX_VALUES distinct values, else chi-square on its
  values (adjacent values pooled until each bin holds at least MIN_BIN runs) -- 30 tests;
* each first_<event>_day: the share of runs where the event happened (as for classes) and the
  KS test of the days on which it happened -- 2 x 14 = 28 tests.

That is FAMILY_PER_SCENARIO = 63 tests per scenario. The equivalence family is every scenario's
tests together (5 shipped scenarios: 315 tests) and holds at family-wise alpha = 0.001 by
Bonferroni: each test must have p >= 0.001 / 315. The perturbed engine (TTP attacks x 1.1 on the
fast side only, baseline, same run counts) is a family of its own (63 tests): it must be rejected,
i.e. some p < 0.001 / 63.

Cost: the SimPy reference batches (20,000 baseline runs and 5,000 for each other scenario, 40,000
runs of 8-16 ms) are computed once per module with two workers and dominate: about six minutes on
an idle 2-core machine. The compiled engine's batches take seconds.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pytest
from scipy.stats import chi2_contingency, fisher_exact, ks_2samp

from sim.config import CONFIG_DIR, compose_run_config
from sim.model import OUTCOME_CLASSES
from sim.records import FIRST_EVENTS, METRIC_COLUMNS
from sim.runner import run_batch

ALPHA = 0.001
SCENARIOS = sorted(path.stem for path in (CONFIG_DIR / "scenario").glob("*.yaml") if path.stem != "base_scenario")
RUNS = {"baseline": 20_000}
DEFAULT_RUNS = 5_000
SIMPY_SEED, FAST_SEED = 101, 202
DISCRETE_MAX_VALUES = 40
MIN_BIN = 20
FIRST_DAY_COLUMNS = tuple(f"first_{kind}_day" for kind in FIRST_EVENTS)
OTHER_METRICS = tuple(name for name in METRIC_COLUMNS if name not in FIRST_DAY_COLUMNS)
FAMILY_PER_SCENARIO = len(OUTCOME_CLASSES) + len(OTHER_METRICS) + 2 * len(FIRST_DAY_COLUMNS)
FAMILY_SIZE = FAMILY_PER_SCENARIO * len(SCENARIOS)

pytestmark = pytest.mark.slow


def batch(scenario: str, engine: str, seed: int, *extra: str):
    if engine == "fast":
        warm_up()
    n_runs = RUNS.get(scenario, DEFAULT_RUNS)
    chunk = 250 if engine == "simpy" else 2_500
    config = compose_run_config([f"scenario={scenario}", f"n_runs={n_runs}", f"seed={seed}", f"engine={engine}",
                                 f"chunk_size={chunk}", *extra])
    return run_batch(config, workers=2, progress=False).table


@lru_cache(maxsize=None)
def warm_up() -> None:
    """Compile (or load) the compiled engine here, once, so the two workers load numba's cache
    instead of both compiling it."""
    from sim.engines import fast_engine

    fast_engine.warm_up()


@lru_cache(maxsize=None)
def simpy_reference(scenario: str):
    """The SimPy engine's batch for a scenario, computed once per test session."""
    return batch(scenario, "simpy", SIMPY_SEED)


@pytest.fixture(scope="module")
def reference():
    yield simpy_reference
    simpy_reference.cache_clear()


# ---------------------------------------------------------------- the tests of one family


def share_test(a: np.ndarray, b: np.ndarray) -> float:
    """p-value for equal shares of True in two boolean samples."""
    table = np.array([[a.sum(), len(a) - a.sum()], [b.sum(), len(b) - b.sum()]])
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        return 1.0  # all or none in both: nothing differs
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if expected.min() < 5:
        return float(fisher_exact(table).pvalue)
    return float(chi2_contingency(table).pvalue)


def discrete_test(a: np.ndarray, b: np.ndarray) -> float:
    """Chi-square on the counts of each value, adjacent values pooled until a bin has MIN_BIN runs."""
    edges, running = [], 0
    pooled = np.concatenate([a, b])
    values, counts = np.unique(pooled, return_counts=True)
    for value, count in zip(values, counts):
        running += count
        if running >= MIN_BIN:
            edges.append(value)
            running = 0
    if running and edges:
        edges.pop()  # the short last bin joins the one before
    bins = np.searchsorted(np.asarray(edges), pooled, side="left")
    k = int(bins.max()) + 1 if len(bins) else 1
    if k < 2:
        return 1.0
    table = np.array([np.bincount(bins[:len(a)], minlength=k), np.bincount(bins[len(a):], minlength=k)])
    return float(chi2_contingency(table).pvalue)


def distribution_test(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) == 0 or len(b) == 0:
        return 1.0
    if len(np.unique(np.concatenate([a, b]))) <= DISCRETE_MAX_VALUES:
        return discrete_test(a, b)
    method = "exact" if len(a) * len(b) <= 10_000 else "asymp"
    return float(ks_2samp(a, b, method=method).pvalue)


def column(table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=float)


def family(simpy_table, fast_table) -> dict[str, float]:
    """Every test of one scenario's family: name -> p-value."""
    p = {}
    outcome_a = np.asarray(simpy_table.column("outcome").to_pylist())
    outcome_b = np.asarray(fast_table.column("outcome").to_pylist())
    for name in OUTCOME_CLASSES:
        p[f"outcome {name}"] = share_test(outcome_a == name, outcome_b == name)
    for name in OTHER_METRICS:
        p[name] = distribution_test(column(simpy_table, name), column(fast_table, name))
    for name in FIRST_DAY_COLUMNS:
        a, b = column(simpy_table, name), column(fast_table, name)
        p[f"{name} happened"] = share_test(~np.isnan(a), ~np.isnan(b))
        p[f"{name} when"] = distribution_test(a[~np.isnan(a)], b[~np.isnan(b)])
    assert len(p) == FAMILY_PER_SCENARIO
    return p


def report(p: dict[str, float], threshold: float) -> str:
    worst = sorted(p.items(), key=lambda item: item[1])[:5]
    return f"threshold {threshold:.2e}; smallest p: " + ", ".join(f"{name} {value:.2e}" for name, value in worst)


# ---------------------------------------------------------------- equivalence and its power


def test_the_family_is_every_shipped_scenario():
    # 5 shipped scenarios today (baseline, border_reopened, kandahar_ascendant, major_attack_shock,
    # mediation_push): 315 tests; a new scenario joins the family and tightens the threshold
    assert "baseline" in SCENARIOS and len(SCENARIOS) >= 5
    assert FAMILY_PER_SCENARIO == 63 and FAMILY_SIZE == 63 * len(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_fast_engine_matches_simpy_engine_in_law(scenario, reference):
    p = family(reference(scenario), batch(scenario, "fast", FAST_SEED))
    threshold = ALPHA / FAMILY_SIZE
    print(f"\n{scenario}: {len(p)} tests, smallest p {min(p.values()):.3g}; {report(p, threshold)}")
    assert min(p.values()) >= threshold, report(p, threshold)


def test_the_same_procedure_rejects_a_slightly_wrong_fast_engine(reference):
    # ten per cent more TTP attacks, on the fast side only
    perturbed = batch("baseline", "fast", FAST_SEED, "scenario.parameters.ttp_attacks_per_year.value=880",
                      "scenario.parameters.ttp_attacks_per_year.range=[770,990]")
    p = family(reference("baseline"), perturbed)
    threshold = ALPHA / FAMILY_PER_SCENARIO
    print(f"\nperturbed baseline: smallest p {min(p.values()):.3g} ({min(p, key=p.get)}); {report(p, threshold)}")
    assert min(p.values()) < threshold, report(p, threshold)
