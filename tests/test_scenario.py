"""Scenario specs: distributions of uncertain parameters and the escalation matrix's checks."""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import ConfigError
from sim.scenario import parameter_from_mapping, scenario_from_mapping

SOURCE = {"source": "assumption", "derivation": "test"}
U = (np.arange(20000) + 0.5) / 20000  # a fine grid of uniforms: draws are exact quantiles


def spec(**entry):
    return parameter_from_mapping("x", {**SOURCE, **entry}, kind="multiplier")


def test_uniform_draws_span_the_range_with_its_mean():
    draws = spec(value=2.0, range=[1.0, 3.0]).draw(U)
    assert draws.min() >= 1.0 and draws.max() <= 3.0
    assert draws.mean() == pytest.approx(2.0, abs=1e-9)


def test_loguniform_draws_have_the_geometric_midpoint_as_median():
    draws = spec(value=2.0, range=[1.0, 4.0], dist="loguniform").draw(U)
    assert np.median(draws) == pytest.approx(2.0, rel=1e-3)
    assert draws.mean() == pytest.approx(3.0 / np.log(4.0), rel=1e-4)  # (b - a) / ln(b / a)


def test_triangular_draws_have_mode_at_the_point_value_and_mean_a_plus_b_plus_c_over_3():
    parameter = spec(value=1.0, range=[0.0, 4.0], dist="triangular")
    draws = parameter.draw(U)
    assert draws.mean() == pytest.approx(5.0 / 3.0, rel=1e-4)
    assert parameter.draw(0.25) == pytest.approx(1.0)  # F(mode) = (c - a) / (b - a)
    assert np.all(np.diff(draws) >= 0)


def test_fixed_parameter_ignores_the_uniforms():
    assert np.all(spec(value=1.5).draw(U) == 1.5)


def test_a_probability_outside_zero_one_is_rejected():
    with pytest.raises(ConfigError, match=r"probability must lie in \[0, 1\]"):
        parameter_from_mapping("p", {**SOURCE, "value": 1.2}, kind="probability")


def _ladder_scenario(baseline, ladder):
    from sim.model import CATALOGUE

    raw = {"name": "t", "parameters": {}, "ladder": ladder}
    used = {name for by_event in ladder.values() for targets in by_event.values() for name in targets.values()}
    for parameter in baseline.parameters:
        if parameter.name not in CATALOGUE and parameter.name not in used:
            continue
        raw["parameters"][parameter.name] = {
            "value": parameter.value, "range": [parameter.low, parameter.high], "source": "assumption",
            "derivation": "test"}
    return raw


def test_outgoing_probabilities_above_one_are_rejected_naming_state_and_event(baseline):
    raw = _ladder_scenario(baseline, {"border_clashes": {"clash": {
        "strike_retaliation_cycle": "p_ladder_retaliation_starts_cycle",      # up to 0.95
        "limited_ground_operation": "p_ladder_seizure_to_ground_operation"}}})  # up to 0.5
    with pytest.raises(ConfigError, match=r"ladder\.border_clashes\.clash: outgoing probabilities sum to 1\.45"):
        scenario_from_mapping(raw)


def test_outgoing_probabilities_up_to_one_are_accepted(baseline):
    raw = _ladder_scenario(baseline, {"border_clashes": {"clash": {
        "strike_retaliation_cycle": "p_ladder_seizure_to_ground_operation",
        "limited_ground_operation": "p_ladder_seizure_to_ground_operation"}}})
    assert len(scenario_from_mapping(raw).transitions) == 2


def test_a_transition_to_the_same_rung_or_an_unknown_rung_is_rejected(baseline):
    for target in ("border_clashes", "armageddon"):
        raw = _ladder_scenario(baseline, {"border_clashes": {"clash": {target: "p_ladder_calm_steps_down"}}})
        with pytest.raises(ConfigError, match="border_clashes.clash"):
            scenario_from_mapping(raw)


def test_a_missing_model_parameter_is_rejected(baseline):
    raw = _ladder_scenario(baseline, {})
    del raw["parameters"]["calm_days"]
    with pytest.raises(ConfigError, match="calm_days: missing"):
        scenario_from_mapping(raw)
