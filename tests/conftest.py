"""Shared test helpers: build small, fully specified scenarios from the baseline."""

from __future__ import annotations

import dataclasses
from typing import Iterable, Mapping

import pytest

import sim
from sim.config import load_scenario
from sim.model import MECHANISMS
from sim.scenario import InitialEvent, Scenario, Transition


@pytest.fixture(scope="session")
def baseline() -> Scenario:
    return load_scenario("baseline")


def fixed_scenario(base: Scenario, *, values: Mapping[str, float] = (), on: Iterable[str] | None = None,
                   transitions: Iterable[tuple[str, str, str, float]] | None = None,
                   initial_events: Iterable[tuple] = (), name: str = "test") -> Scenario:
    """The baseline with every parameter fixed at its point value, then ``values`` applied.

    ``on`` lists the mechanisms switched on (None keeps all on). ``transitions`` replaces the
    ladder: tuples (state, event, target, probability); each gets its own fixed parameter.
    ``initial_events`` are (kind, day) or (kind, day, deaths).
    """
    values = dict(values)
    specs = {}
    for spec in base.parameters:
        value = float(values.pop(spec.name, spec.value))
        specs[spec.name] = dataclasses.replace(spec, value=value, low=value, high=value, dist="fixed")
    ladder = list(base.transitions)
    if transitions is not None:
        ladder = []
        for index, (state, event, target, probability) in enumerate(transitions):
            pname = f"p_test_transition_{index}"
            specs[pname] = dataclasses.replace(specs["p_ladder_calm_steps_down"], name=pname, value=probability,
                                               low=probability, high=probability)
            ladder.append(Transition(state, event, target, pname))
    if values:
        raise KeyError(f"unknown parameters {sorted(values)}")
    disabled = frozenset() if on is None else frozenset(set(MECHANISMS) - set(on))
    events = tuple(InitialEvent(*item) for item in initial_events)
    return Scenario(name=name, description="test", parameters=tuple(specs[k] for k in sorted(specs)),
                    transitions=tuple(ladder), initial_events=events, disabled=disabled)


@pytest.fixture(scope="session")
def make_scenario(baseline):
    """``make_scenario(values=..., on=..., transitions=..., initial_events=...)``: see fixed_scenario."""

    def build(**kwargs) -> Scenario:
        return fixed_scenario(baseline, **kwargs)

    return build


@pytest.fixture(scope="session")
def sampled_results(tmp_path_factory):
    """A finished results folder, read-only for the tests: 3,000 runs of the baseline over 120 days,
    parameters sampled (uncertainty=sampled), fast engine."""
    folder = tmp_path_factory.mktemp("sampled") / "runs"
    sim.run("baseline", overrides=["engine=fast", "n_runs=3000", "seed=11", "horizon_days=120", "plots=false"],
            output_dir=folder)
    return folder


@pytest.fixture(autouse=True)
def _restore_logging_handlers():
    """Hydra (run in-process by some CLI tests) points the root logger at the test's captured
    stderr; once that is closed, later log records would print 'Logging error' into other tests'
    output. Put the root logger back as it was after every test."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
