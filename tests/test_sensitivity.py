"""Sensitivity analysis: known answers through our own wrapper, the replication rule, the real model.

Tolerances are 4 standard errors: for Sobol'/Morris indices the SE is SALib's bootstrap CI half-width
divided by z(0.975); for the pilot's variance estimates it is the normal-theory SE of a sample
variance (the synthetic noise and signal are normal, so that SE is exact to first order).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import norm

from sim import sensitivity
from sim.config import compose_run_config, sensitivity_config_from_mapping
from sim.errors import ConfigError
from sim.sampling import uncertain_names

Z95 = norm.ppf(0.975)


def ishigami_analytic(a: float = 7.0, b: float = 0.1) -> tuple[np.ndarray, np.ndarray]:
    """Closed-form first- and total-order indices of the Ishigami function on [-pi, pi]^3."""
    v1 = 0.5 * (1.0 + b * math.pi**4 / 5.0) ** 2
    v2 = a * a / 8.0
    v13 = 8.0 * b * b * math.pi**8 / 225.0
    total = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / total, np.array([v1 + v13, v2, v13]) / total


def test_ishigami_closed_form_matches_the_published_values():
    s1, st = ishigami_analytic()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)


def test_ishigami_indices_through_our_design_and_analysis_match_the_analytic_values():
    from SALib.test_functions import Ishigami

    names = ["x1", "x2", "x3"]
    rng = np.random.default_rng(20251012)
    quantiles = sensitivity.design_points(names, "sobol", 4096, rng=rng)
    values = Ishigami.evaluate(-math.pi + 2.0 * math.pi * quantiles)  # quantile -> value, as spec.draw does
    result = sensitivity.sobol_indices(names, values, resamples=500, confidence=0.95, rng=rng)
    s1, st = ishigami_analytic()
    assert np.all(result.s1_conf < 0.05) and np.all(result.st_conf < 0.05)  # tight enough to catch a mix-up
    assert np.all(np.abs(result.s1 - s1) <= 4 * result.s1_conf / Z95)
    assert np.all(np.abs(result.st - st) <= 4 * result.st_conf / Z95)
    assert [result.names[j] for j in result.ranked()] == ["x1", "x2", "x3"]


def test_morris_recovers_linear_coefficients_and_an_inert_parameter_has_zero_mu_star():
    names = ["strong", "medium", "weak", "inert"]
    rng = np.random.default_rng(7)
    design = sensitivity.design_points(names, "morris", 20, levels=4, rng=rng)
    values = design @ np.array([10.0, -5.0, 1.0, 0.0])
    result = sensitivity.morris_indices(names, design, values, levels=4, resamples=200, rng=rng)
    np.testing.assert_allclose(result.mu_star, [10.0, 5.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(result.mu, [10.0, -5.0, 1.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(result.sigma, 0.0, atol=1e-9)
    assert [result.names[j] for j in result.ranked()] == names


def test_morris_mu_star_of_an_inert_parameter_equals_the_stated_noise_floor():
    names = ["signal", "inert"]
    rng = np.random.default_rng(11)
    trajectories, sigma = 4000, 0.5
    design = sensitivity.design_points(names, "morris", trajectories, levels=4, rng=rng)
    values = 3.0 * design[:, 0] + sigma * rng.standard_normal(len(design))
    result = sensitivity.morris_indices(names, design, values, levels=4, resamples=100, rng=rng)
    floor = sensitivity.morris_noise_floor(sigma**2, 1, levels=4)
    delta = 4 / (2 * 3)
    standard_error = math.sqrt(2 * sigma**2 * (1 - 2 / math.pi) / trajectories) / delta
    assert abs(result.mu_star[1] - floor) <= 4 * standard_error


def test_sobol_noise_makes_an_inert_parameter_show_st_equal_to_the_noise_share():
    names = ["signal", "inert"]
    rng = np.random.default_rng(5)
    quantiles = sensitivity.design_points(names, "sobol", 4096, rng=rng)
    between, within = 1.0 / 12.0, 0.02                      # var(u) of a uniform; noise variance
    values = quantiles[:, 0] + math.sqrt(within) * rng.standard_normal(len(quantiles))
    result = sensitivity.sobol_indices(names, values, resamples=300, rng=rng)
    share = sensitivity.noise_share(within, between, 1)
    assert abs(result.st[1] - share) <= 4 * result.st_conf[1] / Z95          # the ST floor
    assert abs(result.s1[0] - (1 - share)) <= 4 * result.s1_conf[0] / Z95    # S1 scaled by 1 - s
    assert share > 0.15 and result.st_conf[1] < 0.05                          # the effect is resolvable


def test_choose_replications_follows_the_rule_exactly():
    rule = sensitivity.choose_replications
    assert rule(4.0, 1.0, noise_fraction=0.05, max_replications=1000) == 80       # 4 / (0.05 * 1) exactly
    assert rule(4.01, 1.0, noise_fraction=0.05, max_replications=1000) == 81
    assert rule(4.0, 1.0, noise_fraction=0.05, max_replications=50) == 50         # capped
    assert rule(0.0, 1.0, noise_fraction=0.05, max_replications=50) == 1          # deterministic output
    assert rule(4.0, -0.1, noise_fraction=0.05, max_replications=50) == 50        # no detectable signal
    assert rule(0.01, 1.0, noise_fraction=0.05, max_replications=50) == 1
    r = rule(4.0, 1.0, noise_fraction=0.05, max_replications=1000)
    assert 4.0 / r <= 0.05 * 1.0 < 4.0 / (r - 1)


def test_pilot_plan_recovers_the_noise_and_signal_variances_and_the_rule_on_a_synthetic_model():
    rng = np.random.default_rng(3)
    points, replications, between, within = 400, 50, 1.0, 4.0
    signal = math.sqrt(between) * norm.ppf(rng.random(points))      # a parameter's effect: normal, variance 1
    runs = signal[:, None] + math.sqrt(within) * rng.standard_normal((points, replications))
    plan = sensitivity.plan_replications(runs.mean(axis=1)[:, None], runs.var(axis=1, ddof=1)[:, None], ["y"],
                                         pilot_replications=replications, noise_fraction=0.05, max_replications=1000)
    estimate = plan.noise["y"]
    se_within = within * math.sqrt(2 / (points * (replications - 1)))
    se_between = math.sqrt(2 / (points - 1)) * (between + within / replications)
    assert abs(estimate.within_variance - within) <= 4 * se_within
    assert abs(estimate.between_variance - between) <= 4 * se_between
    true_r = math.ceil(within / (0.05 * between))                     # 80
    se_r = true_r * math.hypot(se_within / within, se_between / between)
    assert abs(plan.replications - true_r) <= 4 * se_r + 1
    assert plan.replications == sensitivity.choose_replications(estimate.within_variance, estimate.between_variance,
                                                                noise_fraction=0.05, max_replications=1000)
    capped = sensitivity.plan_replications(runs.mean(axis=1)[:, None], runs.var(axis=1, ddof=1)[:, None], ["y"],
                                           pilot_replications=replications, noise_fraction=0.05, max_replications=30)
    assert capped.replications == 30 and capped.needed["y"] == pytest.approx(plan.needed["y"])


def test_output_values_derive_indicators_and_read_numeric_columns():
    table = pa.table({"outcome": ["regional_war", "limited_war", "conventional_incursion", "de_escalation"],
                      "trade_loss_usd": [1.0, 2.0, 3.0, 4.5], "ceasefire_at_horizon": [True, False, True, False]})
    assert sensitivity.output_values(table, "incursion_or_worse").tolist() == [1.0, 0.0, 1.0, 0.0]
    assert sensitivity.output_values(table, "p_limited_war").tolist() == [0.0, 1.0, 0.0, 0.0]
    assert sensitivity.output_values(table, "trade_loss_usd").tolist() == [1.0, 2.0, 3.0, 4.5]
    assert sensitivity.output_values(table, "ceasefire_at_horizon").tolist() == [1.0, 0.0, 1.0, 0.0]


@pytest.fixture(scope="module")
def tiny_config():
    return compose_run_config(["experiment=sensitivity_smoke", "horizon_days=60", "workers=1"])


def test_point_means_are_the_means_of_consecutive_runs_with_values_from_draw(tiny_config):
    from sim.engines.fast_engine import simulate_chunk

    names = uncertain_names(tiny_config.scenario)
    quantiles = np.random.default_rng(2).random((3, len(names)))
    means, variances = sensitivity.evaluate_points(tiny_config, names, quantiles, 4, first_run=10,
                                                   outputs=["trade_loss_usd"], workers=1)
    sampled = {name: np.repeat(tiny_config.scenario.parameter(name).draw(quantiles[:, j]), 4)
               for j, name in enumerate(names)}
    table = simulate_chunk(tiny_config, 10, 22, sampled)
    runs = table.column("trade_loss_usd").to_numpy().reshape(3, 4)
    np.testing.assert_allclose(means[:, 0], runs.mean(axis=1))
    np.testing.assert_allclose(variances[:, 0], runs.var(axis=1, ddof=1))


def test_simpy_engine_runs_each_point_on_its_own_consecutive_run_streams():
    from sim.engines.simpy_engine import simulate_run
    from sim.sampling import run_stream

    config = compose_run_config(["experiment=sensitivity_smoke", "engine=simpy", "horizon_days=30", "workers=1"])
    names = uncertain_names(config.scenario)
    quantiles = np.random.default_rng(4).random((2, len(names)))
    means, _ = sensitivity.evaluate_points(config, names, quantiles, 3, first_run=5, outputs=["fatalities_total"])
    expected = np.zeros(2)
    for point in range(2):
        values = {**config.scenario.point_values(),
                  **{name: float(config.scenario.parameter(name).draw(quantiles[point, j])) for j, name in enumerate(names)}}
        for replication in range(3):
            run_index = 5 + point * 3 + replication
            row = simulate_run(config.scenario, values, run_stream(config.seed, run_index), horizon_days=30,
                               run_index=run_index, max_events=config.max_events_per_run).row
            expected[point] += row["fatalities_total"] / 3
    np.testing.assert_allclose(means[:, 0], expected)


@pytest.mark.slow
def test_indices_do_not_depend_on_worker_count_or_block_size(tiny_config, tmp_path):
    import dataclasses

    config = dataclasses.replace(tiny_config, plots=False)
    serial = sensitivity.run_sensitivity(dataclasses.replace(config, chunk_size=20), tmp_path / "a", workers=1)
    parallel = sensitivity.run_sensitivity(dataclasses.replace(config, chunk_size=50), tmp_path / "b", workers=2)
    assert serial.replications == parallel.replications and serial.workers == 1 and parallel.workers == 2
    for output in serial.outputs:
        np.testing.assert_array_equal(serial.indices[output].st, parallel.indices[output].st)
        np.testing.assert_array_equal(serial.indices[output].s1_conf, parallel.indices[output].s1_conf)
        assert serial.noise[output] == parallel.noise[output]


def test_smoke_preset_runs_the_real_model_and_writes_json_and_figures(tmp_path, capsys):
    out = tmp_path / "sens"
    assert sensitivity.command(["experiment=sensitivity_smoke", "workers=1", "--out", str(out)]) == 0
    report = json.loads((out / "sensitivity.json").read_text())
    assert report["kind"] == "sensitivity" and report["method"] == "sobol"
    assert report["outputs"] == ["incursion_or_worse", "trade_loss_usd"]
    names = report["problem"]["names"]
    assert len(names) == report["problem"]["num_vars"] >= 2 and report["problem"]["names"] == sorted(names)
    r, points, pilot = report["design"]["replications"], report["design"]["points"], report["pilot"]
    assert points == 8 * (len(names) + 2) and 1 <= r <= 8
    assert report["runs"]["total"] == pilot["runs"] + points * r == 16 * 16 + points * r
    assert set(report["indices"]["trade_loss_usd"]["parameters"]) == set(names)
    assert 0.0 <= report["noise"]["incursion_or_worse"]["noise_share"] <= 1.0
    for output in report["outputs"]:
        assert (out / f"sensitivity_{output}.png").stat().st_size > 10_000
    assert "Sobol' indices, scenario baseline" in capsys.readouterr().out


def test_morris_through_the_command_writes_mu_star_for_every_parameter(tmp_path):
    out = tmp_path / "morris"
    code = sensitivity.command(["experiment=sensitivity_smoke", "workers=1", "sensitivity.method=morris",
                                "sensitivity.base_samples=6", "sensitivity.replications=4",
                                "sensitivity.outputs=[days_under_ceasefire]", "--out", str(out)])
    assert code == 0
    report = json.loads((out / "sensitivity.json").read_text())
    entries = report["indices"]["days_under_ceasefire"]["parameters"]
    assert report["pilot"] is None and report["design"]["replications"] == 4
    assert report["runs"]["total"] == 6 * (len(entries) + 1) * 4
    assert all(entry["mu_star"] >= 0 for entry in entries.values())
    assert report["noise"]["days_under_ceasefire"]["mu_star_floor"] > 0


def test_command_bad_input_exits_2_with_one_line_and_leaves_no_folder(tmp_path, capsys):
    out = tmp_path / "never"
    assert sensitivity.command(["sensitivity.base_samples=100", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: sensitivity.base_samples:") and err.count("\n") == 1
    assert not out.exists()


@pytest.mark.parametrize("setting, key", [
    ({"method": "fast99"}, "sensitivity.method"),
    ({"base_samples": 96}, "sensitivity.base_samples"),
    ({"outputs": ["first_incursion_day"]}, "sensitivity.outputs"),
    ({"outputs": []}, "sensitivity.outputs"),
    ({"outputs": ["trade_loss_usd", "trade_loss_usd"]}, "sensitivity.outputs"),
    ({"confidence": 1.0}, "sensitivity.confidence"),
    ({"replications": 300, "max_replications": 200}, "sensitivity.replications"),
    ({"morris_levels": 5, "method": "morris"}, "sensitivity.morris_levels"),
    ({"enabled": "yes"}, "sensitivity.enabled"),
    ({"pilot_points": 1}, "sensitivity.pilot_points"),
])
def test_bad_sensitivity_settings_raise_one_line_naming_the_key(setting, key):
    with pytest.raises(ConfigError) as caught:
        sensitivity_config_from_mapping(setting)
    assert str(caught.value).startswith(f"{key}:") and "\n" not in str(caught.value)


def test_presets_enable_the_analysis_and_the_default_leaves_it_off():
    assert compose_run_config([]).sensitivity.enabled is False
    full = compose_run_config(["experiment=sensitivity"])
    assert full.sensitivity.enabled and full.engine == "fast" and full.sensitivity.base_samples == 256
    smoke = compose_run_config(["experiment=sensitivity_smoke"]).sensitivity
    assert smoke.enabled and smoke.base_samples * smoke.max_replications <= 64 and len(smoke.outputs) == 2
    assert sensitivity_config_from_mapping({"method": "morris", "base_samples": 10}).base_samples == 10


def test_fixed_uncertainty_has_no_parameters_to_vary(tmp_path):
    config = compose_run_config(["experiment=sensitivity_smoke", "uncertainty=fixed"])
    with pytest.raises(ConfigError, match="^uncertainty: sensitivity needs"):
        sensitivity.run_sensitivity(config, tmp_path / "x")
    assert not (tmp_path / "x").exists()
