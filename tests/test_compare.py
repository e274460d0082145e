"""Paired comparison on common random numbers: known answers on synthetic data (CI coverage and
centre, variance reduction 1 / (1 - rho)), exact zeros for a scenario against itself, and a
variance reduction above 1 between real scenarios."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

import sim
from sim import compare as C
from sim.model import OUTCOME_CLASSES

REPS = 1000
COVERAGE_TOLERANCE = 4 * math.sqrt(0.95 * 0.05 / REPS)       # 4 standard errors of a coverage fraction


def correlated_normals(rng, n, rho, size=None):
    shape = (n,) if size is None else (size, n)
    a = rng.standard_normal(shape)
    b = rho * a + math.sqrt(1 - rho * rho) * rng.standard_normal(shape)
    return a, b


def test_bonett_price_matches_the_published_example():
    # statpsych::ci.prop.ps(.05, f00=12, f01=4, f10=26, f11=6): LL 0.2548067, UL 0.6251933
    lo, hi = C.bonett_price_interval(alternative_only=26, reference_only=4, n=48)
    assert lo == pytest.approx(0.2548067, abs=1e-7) and hi == pytest.approx(0.6251933, abs=1e-7)


def test_paired_mean_interval_covers_the_true_difference_95_percent_of_the_time():
    rng = np.random.default_rng(20251)
    delta, rho, n = 0.3, 0.7, 400
    a, b = correlated_normals(rng, n, rho, size=REPS)
    results = [C.paired_mean_interval(a[i] + delta - b[i]) for i in range(REPS)]
    centres = np.array([mean for mean, _ in results])
    covered = np.mean([lo <= delta <= hi for _, (lo, hi) in results])
    assert abs(covered - 0.95) <= COVERAGE_TOLERANCE
    se_centre = math.sqrt(2 * (1 - rho) / n / REPS)
    assert abs(centres.mean() - delta) <= 4 * se_centre


def test_paired_proportion_interval_covers_the_true_difference_95_percent_of_the_time():
    rng = np.random.default_rng(20252)
    n, rho = 2000, 0.6
    p_alt, p_ref = 0.12, 0.08                                  # latent normals cut at their quantiles
    z_alt, z_ref = correlated_normals(rng, n, rho, size=REPS)
    alt, ref = z_alt < stats.norm.ppf(p_alt), z_ref < stats.norm.ppf(p_ref)
    covered = []
    for i in range(REPS):
        lo, hi = C.bonett_price_interval(alternative_only=int((alt[i] & ~ref[i]).sum()),
                                         reference_only=int((~alt[i] & ref[i]).sum()), n=n)
        covered.append(lo <= p_alt - p_ref <= hi)
    assert abs(np.mean(covered) - 0.95) <= COVERAGE_TOLERANCE


@pytest.mark.parametrize("rho", [0.5, 0.8])
def test_variance_ratio_is_one_over_one_minus_rho(rho):
    rng = np.random.default_rng(7)
    a, b = correlated_normals(rng, 20_000, rho)
    independent = rng.standard_normal(20_000)                  # the alternative with another seed
    expected = 1 / (1 - rho)
    for ratio, (lo, hi) in (C.variance_ratio(a, b), C.variance_ratio(a, b, independent_alternative=independent)):
        se_log = math.log(hi / lo) / (2 * 1.959964)
        assert abs(math.log(ratio / expected)) <= 4 * se_log


def test_variance_ratio_interval_has_the_spread_seen_over_replications():
    rng = np.random.default_rng(11)
    reps, n = 300, 2000
    a, b = correlated_normals(rng, n, 0.6, size=reps)
    results = [C.variance_ratio(a[i], b[i]) for i in range(reps)]
    spread = np.std([math.log(r) for r, _ in results], ddof=1)
    reported = np.mean([math.log(hi / lo) / (2 * 1.959964) for _, (lo, hi) in results])
    # the sample standard deviation of `reps` values has a relative standard error of 1/sqrt(2 (reps - 1))
    assert abs(reported / spread - 1) <= 4 / math.sqrt(2 * (reps - 1))


def test_identical_runs_have_zero_difference_and_unbounded_reduction():
    values = np.random.default_rng(3).normal(size=50)
    assert C.paired_mean_interval(values - values) == (0.0, (0.0, 0.0))
    assert C.variance_ratio(values, values) == (None, (None, None))


def fast_runs(scenario: str, n_runs: int, seed: int):
    return sim.run(scenario, overrides=["engine=fast", f"n_runs={n_runs}", f"seed={seed}"]).table


def test_a_scenario_compared_with_itself_gives_exactly_zero_differences():
    comparison = C.compare_tables(fast_runs("baseline", 2000, 31), fast_runs("baseline", 2000, 31), horizon_days=365.0)
    assert len(comparison.differences) > 60
    assert all(entry.difference == 0.0 and entry.within_noise for entry in comparison.differences)
    assert all(entry.ci95 == (0.0, 0.0) for entry in comparison.differences if entry.group == "metric")


def test_tables_with_different_runs_cannot_be_paired():
    table = fast_runs("baseline", 200, 31)
    with pytest.raises(sim.ResultsError, match="cannot be paired"):
        C.compare_tables(table, table.slice(1), horizon_days=365.0)


@pytest.fixture(scope="module")
def model_tables():
    return {"baseline": fast_runs("baseline", 10_000, 8080),
            "mediation_push": fast_runs("mediation_push", 10_000, 8080),
            "mediation_push_other_seed": fast_runs("mediation_push", 10_000, 8081)}


def test_baseline_vs_mediation_push_pairing_reduces_variance_for_every_outcome_class(model_tables):
    comparison = C.compare_tables(model_tables["baseline"], model_tables["mediation_push"], horizon_days=365.0,
                                  independent_alternative=model_tables["mediation_push_other_seed"])
    for name in OUTCOME_CLASSES:
        entry = comparison[f"outcome.{name}"]
        assert entry.variance_reduction_ci95[0] > 1, name
        assert entry.variance_reduction_measured_ci95[0] > 1, name
    de_escalation = comparison["outcome.de_escalation"]
    assert de_escalation.difference > 0 and not de_escalation.within_noise


def test_analytic_variance_reduction_agrees_with_an_independent_seed_rerun(model_tables):
    comparison = C.compare_tables(model_tables["baseline"], model_tables["mediation_push"], horizon_days=365.0,
                                  independent_alternative=model_tables["mediation_push_other_seed"])
    checked = 0
    for entry in comparison.differences:
        if entry.variance_reduction is None or entry.variance_reduction_measured_ci95[0] is None:
            continue
        se = [math.log(hi / lo) / (2 * 1.959964)
              for lo, hi in (entry.variance_reduction_ci95, entry.variance_reduction_measured_ci95)]
        gap = abs(math.log(entry.variance_reduction / entry.variance_reduction_measured))
        assert gap <= 4 * math.hypot(*se), entry.quantity
        checked += 1
    assert checked > 50


def test_restricted_means_treat_a_missing_first_event_as_the_horizon(model_tables):
    table = model_tables["baseline"]
    quantities = C.paired_quantities(table, 365.0)
    days = np.asarray(table.column("first_incursion_day").to_numpy(zero_copy_only=False), dtype=float)
    group, values = quantities["restricted_mean.first_incursion_day"]
    assert group == "restricted_mean" and values.max() == 365.0
    assert values.mean() == pytest.approx(np.where(np.isnan(days), 365.0, days).mean())
    assert quantities["event.incursion"][1].sum() == np.isfinite(days).sum()


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    made = {}
    for label, name, seed in (("base", "baseline", 5), ("push", "mediation_push", 5), ("other", "baseline", 6)):
        made[label] = root / label
        sim.run(name, overrides=["engine=fast", "n_runs=1000", f"seed={seed}", "plots=false"], output_dir=made[label])
    return made


def test_command_compares_folders_and_writes_json_and_figures(folders, tmp_path, capsys):
    out = tmp_path / "cmp"
    assert C.command([str(folders["base"]), str(folders["push"]), "--out", str(out)]) == 0
    report = json.loads((out / "compare.json").read_text())
    assert report["kind"] == "compare" and report["mode"] == "folders" and report["independent_seed"] is None
    assert report["reference"] == "baseline" and report["alternatives"] == ["mediation_push"]
    entry = report["comparisons"]["mediation_push"]["outcome.de_escalation"]
    assert entry["variance_reduction"] > 1 and entry["variance_reduction_measured"] is None
    assert all((out / name).is_file() for name in report["files"])
    assert "differences_mediation_push.png" in report["files"]
    assert "de-escalation" in capsys.readouterr().out


def test_command_runs_scenarios_by_name_with_an_independent_seed(tmp_path):
    out = tmp_path / "cmp"
    argv = ["baseline", "mediation_push", "--out", str(out), "--", "engine=fast", "n_runs=400", "seed=12"]
    assert C.command(argv) == 0
    report = json.loads((out / "compare.json").read_text())
    assert report["mode"] == "scenarios" and report["independent_seed"] == 13 and report["n_runs"] == 400
    assert report["comparisons"]["mediation_push"]["metric.strikes"]["variance_reduction_measured"] > 1


@pytest.mark.parametrize("argv, message", [
    (["{base}", "{other}"], "not on common random numbers: seed 5 vs 6"),
    (["{base}"], "at least two"),
    (["{base}", "baseline"], "give all folders or all scenario names"),
    (["baseline", "no_such_scenario", "--", "engine=fast"], "no_such_scenario"),
    (["baseline", "mediation_push", "--", "scenario=baseline"], "give the scenarios as names"),
])
def test_command_bad_input_exits_2_with_one_line_and_no_folder(folders, tmp_path, capsys, argv, message):
    out = tmp_path / "never"
    argv = [a.format(base=folders["base"], other=folders["other"]) for a in argv]
    split = argv.index("--") if "--" in argv else len(argv)
    assert C.command([*argv[:split], "--out", str(out), *argv[split:]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob(".never*"))
