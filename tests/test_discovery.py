"""Tests for sim.discovery: PRIM and CART recover a known box from synthetic runs; rules read in
words with drop-one checks; the discover command writes its folder, or fails in one line."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

import sim
from sim.discovery import (DEFAULT_CASE, PeelingTrajectory, cart, case_labels, command, describe_box,
                           parameter_info, parameter_matrix, parse_case, peel, prim, select_step)
from sim.errors import ConfigError, ResultsError

NAMES = ("x0", "x1", "x2", "x3", "x4")
X0_LOW, X2_HIGH = 0.6, 0.3                 # the known box: x0 > 0.6 and x2 < 0.3
FLIP = 0.05                                # label noise: each label flipped with this chance
D_IN, D_OUT = 1 - FLIP, FLIP               # true density inside and outside the box
N = 4000
ALPHA = 0.05


def synthetic(seed: int, n: int = N):
    """Inputs uniform on [0, 1]^5; case = inside the known box, labels flipped with chance FLIP."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=(n, len(NAMES)))
    inside = (x[:, 0] > X0_LOW) & (x[:, 2] < X2_HIGH)
    return x, inside ^ (rng.uniform(size=n) < FLIP), rng


def expected_rates(x0_low: float, x2_high: float) -> tuple[float, float]:
    """Known density and coverage of the box x0 >= x0_low, x2 <= x2_high (uniform inputs, exact)."""
    volume = (1 - x0_low) * x2_high
    overlap = (1 - max(x0_low, X0_LOW)) * min(x2_high, X2_HIGH)
    cases_in_box = overlap * D_IN + (volume - overlap) * D_OUT
    all_cases = (1 - X0_LOW) * X2_HIGH * D_IN + (1 - (1 - X0_LOW) * X2_HIGH) * D_OUT
    return cases_in_box / volume, cases_in_box / all_cases


def bound_tolerance(side: float, n_box: int) -> float:
    """One peel step (alpha of the side) plus the width over which the density drops by 4 SE
    (how far the plateau rule may overshoot: the density falls by (D_IN - D_OUT) per unit share)."""
    se = np.sqrt(D_IN * D_OUT / n_box)
    return ALPHA * side + side * 4 * se / (D_IN - D_OUT)


def bounds(box) -> dict:
    return {r.name: (r.low, r.high) for r in box.restrictions}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_prim_recovers_the_known_box_with_its_density_and_coverage(seed):
    x, y, rng = synthetic(seed)
    result = prim(x, y, NAMES, alpha=ALPHA, rng=rng)
    found = bounds(result.box)
    assert set(found) == {"x0", "x2"}                                       # irrelevant inputs pruned
    (x0_low, x0_high), (x2_low, x2_high) = found["x0"], found["x2"]
    assert x0_high is None and x2_low is None
    n_box = result.box.n_runs
    assert abs(x0_low - X0_LOW) <= bound_tolerance(1 - X0_LOW, n_box)
    assert abs(x2_high - X2_HIGH) <= bound_tolerance(X2_HIGH, n_box)
    density, coverage = expected_rates(x0_low, x2_high)
    assert abs(result.box.density - density) <= 4 * np.sqrt(density * (1 - density) / n_box)
    assert abs(result.box.coverage - coverage) <= 4 * np.sqrt(coverage * (1 - coverage) / y.sum())


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_prim_restricts_irrelevant_inputs_at_most_negligibly_even_unpruned(seed):
    x, y, rng = synthetic(seed)
    result = prim(x, y, NAMES, alpha=ALPHA, prune=None, rng=rng)
    for r in result.box.restrictions:
        if r.name in ("x1", "x3", "x4"):
            kept = ((r.high if r.high is not None else 1.0) - (r.low if r.low is not None else 0.0))
            assert kept >= 1 - 2 * ALPHA                                     # at most two stray peels
            assert r.quasi_p > 0.01                                           # and flagged as not mattering


def test_prim_peeling_trajectory_trades_coverage_for_density():
    x, y, _ = synthetic(5)
    trajectory = peel(x, y, alpha=ALPHA, min_support=0.05)
    assert trajectory.n_runs[0] == N and trajectory.coverage[0] == 1.0
    assert np.all(np.diff(trajectory.n_runs) < 0) and np.all(np.diff(trajectory.coverage) <= 0)
    assert trajectory.n_runs[-1] >= 0.05 * N
    assert trajectory.density[-1] > 0.9 > 0.2 > trajectory.density[0]
    # each step peels about alpha of the box (ties aside)
    assert np.allclose(trajectory.n_runs[1:] / trajectory.n_runs[:-1], 1 - ALPHA, atol=0.01)


def test_threshold_rule_takes_the_biggest_box_dense_enough_and_respects_the_dimension_cap():
    t = PeelingTrajectory(lower=np.array([[0, 0], [0.1, 0], [0.1, 0.1], [0.2, 0.1]]), upper=np.ones((4, 2)),
                          n_runs=np.array([1000, 900, 800, 700]), n_cases=np.array([100, 100, 100, 100]),
                          total_runs=1000, total_cases=100, full_lower=np.zeros(2), full_upper=np.ones(2))
    assert select_step(t, threshold=0.12) == (2, True)                  # densities .100 .111 .125 .143
    assert select_step(t, threshold=0.12, max_restricted=1) == (1, False)  # none dense enough with 1 restricted
    assert select_step(t, threshold=0.5) == (3, False)                  # unreachable: the densest box


def test_user_chosen_step_is_used_and_out_of_range_is_refused():
    x, y, rng = synthetic(6)
    result = prim(x, y, NAMES, step=3, pasting=False, prune=None, rng=rng)
    assert result.step == 3 and "chosen by the user" in result.rule
    assert result.box.n_runs == result.trajectory.n_runs[3]
    with pytest.raises(ConfigError, match="step=999"):
        prim(x, y, NAMES, step=999, rng=rng)


def test_pasting_never_lowers_density():
    x, y, rng = synthetic(7)
    pasted = prim(x, y, NAMES, step=20, pasting=True, prune=None, rng=rng)
    peeled = prim(x, y, NAMES, step=20, pasting=False, prune=None, rng=rng)
    assert pasted.box.density >= peeled.box.density and pasted.box.n_runs >= peeled.box.n_runs


def test_bootstrap_finds_the_relevant_restrictions_in_nearly_every_resample():
    x, y, rng = synthetic(8, n=2000)
    result = prim(x, y, NAMES, bootstrap=10, rng=rng)
    assert result.bootstrap_shares["x0"] >= 0.9 and result.bootstrap_shares["x2"] >= 0.9
    assert all(r.bootstrap_share is not None for r in result.box.restrictions)


@pytest.mark.parametrize("seed", [1, 2])
def test_cart_recovers_the_known_box_as_its_case_leaf(seed):
    x, y, rng = synthetic(seed)
    result = cart(x, y, NAMES, max_depth=3, rng=rng)
    best = result.boxes[0]
    found = bounds(best)
    assert set(found) == {"x0", "x2"}
    assert abs(found["x0"][0] - X0_LOW) <= bound_tolerance(1 - X0_LOW, best.n_runs)
    assert abs(found["x2"][1] - X2_HIGH) <= bound_tolerance(X2_HIGH, best.n_runs)
    density, _ = expected_rates(found["x0"][0], found["x2"][1])
    assert abs(best.density - density) <= 4 * np.sqrt(density * (1 - density) / best.n_runs)
    for box in result.boxes:                                    # every reported leaf is clearly dense
        assert box.density_ci95[0] > box.base_rate
        assert {r.name for r in box.restrictions} <= {"x0", "x2"}


def test_drop_one_figures_and_quasi_p_are_exact_on_a_tiny_case():
    x = np.array([[0.1, 0.1], [0.9, 0.1], [0.9, 0.9], [0.1, 0.9], [0.8, 0.2], [0.2, 0.8]])
    y = np.array([False, True, False, False, True, True])
    box = describe_box(x, y, ("a", "b"), np.array([0.5, -np.inf]), np.array([np.inf, 0.5]))
    assert (box.n_runs, box.n_cases, box.density, box.coverage) == (2, 2, 1.0, 2 / 3)
    drop = {r.name: r for r in box.restrictions}
    assert drop["a"].density_if_dropped == 2 / 3 and drop["a"].coverage_if_dropped == 2 / 3   # rows 0, 1, 4
    assert drop["b"].density_if_dropped == 2 / 3 and drop["b"].coverage_if_dropped == 2 / 3   # rows 1, 2, 4
    assert drop["a"].quasi_p == pytest.approx(stats.binom.sf(1, 2, 2 / 3))                    # (2/3)^2
    assert box.density_ci95[1] == 1.0 and box.density_ci95[0] < 1.0


def test_rules_read_in_words_with_the_catalogue_meaning_and_units():
    rng = np.random.default_rng(0)
    x = np.column_stack([rng.uniform(0.2, 0.45, 500), rng.uniform(700, 900, 500)])
    y = (x[:, 0] < 0.31) & (x[:, 1] > 820)
    box = describe_box(x, y, ("p_mediation_success", "ttp_attacks_per_year"), np.array([-np.inf, 820.0]),
                       np.array([0.31, np.inf]))
    assert "chance an offer yields a ceasefire with no recent fatalities (p_mediation_success) ≤ 0.31" in box.text
    assert "(ttp_attacks_per_year) ≥ 820 attacks/year" in box.text
    assert "coverage 100 %, density 100 %" in box.text and "base rate" in box.text


def test_parameter_info_reads_the_catalogue_the_ladder_and_falls_back_to_the_name():
    ladder = {"border_clashes": {"mass_casualty_attack": {"conventional_incursion": "p_jump"}},
              "low_intensity": {"mass_casualty_attack": {"conventional_incursion": "p_jump"}}}
    info = parameter_info(["calm_days", "p_jump", "mystery_knob"], ladder)
    assert info["calm_days"].unit == "days"
    assert info["p_jump"].meaning == ("chance a mass casualty attack moves the ladder from border clashes or "
                                      "low intensity to conventional incursion")
    assert info["mystery_knob"].meaning == "mystery knob"


def test_case_names_expand_and_unknown_names_are_one_line_errors():
    assert parse_case("conventional_incursion,regional_war") == DEFAULT_CASE == parse_case("incursion_or_worse")
    with pytest.raises(ConfigError, match="unknown outcome 'incursion'") as error:
        parse_case("incursion")
    assert "\n" not in str(error.value)
    table = pa.table({"outcome": ["regional_war", "limited_war", "conventional_incursion"]})
    assert case_labels(table, DEFAULT_CASE).tolist() == [True, False, True]


def test_runs_without_sampled_parameters_have_no_space_to_search():
    with pytest.raises(ResultsError, match="uncertainty=fixed"):
        parameter_matrix(pa.table({"outcome": ["limited_war"], "max_rung": [3]}))
    names, values = parameter_matrix(pa.table({"param.a": [1.0, 2.0], "param.b": [5.0, 5.0]}))
    assert names == ("a",) and values.tolist() == [[1.0], [2.0]]             # constant columns dropped


def test_discover_command_writes_json_and_figures(sampled_results, tmp_path, capsys):
    out = tmp_path / "out"
    code = command([str(sampled_results), "--case", "limited_war_or_worse", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "discover.json").read_text())
    assert report["kind"] == "discover" and report["case"] == ["regional_war", "conventional_incursion", "limited_war"]
    assert report["n_runs"] == 3000 and 0 < report["base_rate"] < 1 and report["method"] == "both"
    assert report["rules"][0]["text"].startswith("PRIM box: ") and report["rules"][0]["density_ci95"][0] > 0
    assert report["prim"]["box"]["text"].startswith(("when", "anywhere"))
    assert len(report["prim"]["trajectory"]) > 10 and "boxes" in report["cart"]
    for name in ("prim_trajectory", "prim_box"):
        assert (out / f"{name}.png").stat().st_size > 10_000 and (out / f"{name}.svg").is_file()
    printed = capsys.readouterr().out
    assert "PRIM box" in printed and "CART" in printed and str(out) in printed


def test_discover_command_refuses_bad_input_in_one_line_leaving_no_folder(sampled_results, tmp_path, capsys):
    out = tmp_path / "never"
    assert command([str(sampled_results), "--case", "war", "--out", str(out)]) == 2
    assert command([str(tmp_path / "missing"), "--out", str(out)]) == 2
    assert command([str(sampled_results), "--method", "svm", "--out", str(out)]) == 2
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 3 and all(line.startswith("error: ") for line in errors)
    assert not out.exists()


def test_discover_command_on_fixed_uncertainty_results_is_one_clear_error(tmp_path, capsys):
    folder = tmp_path / "fixed"
    sim.run("baseline", overrides=["engine=fast", "n_runs=50", "seed=2", "horizon_days=30", "plots=false",
                                   "uncertainty=fixed"], output_dir=folder)
    assert command([str(folder), "--out", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "uncertainty=fixed" in error and "Traceback" not in error
    assert not (tmp_path / "out").exists()
