"""Uncertain parameters -> per-run values, keyed so results never depend on chunking.

Plain Monte Carlo draws each parameter's uniforms from its own stream keyed by (seed, name),
advanced to the first run of a chunk, so run ``i`` always gets the same value whatever the chunk
size or worker count, and two scenarios run with the same seed share the values of the
parameters they have in common. Latin hypercube designs come from ``scipy.stats.qmc`` over all
``n_runs`` and are sliced per chunk. ``uncertainty="fixed"`` holds every parameter at its point
value.

>>> from sim.config import load_scenario
>>> scenario = load_scenario("baseline")
>>> whole = sample_parameters(scenario, seed=3, n_runs=10, start=0, stop=10)
>>> part = sample_parameters(scenario, seed=3, n_runs=10, start=4, stop=7)
>>> bool((whole["ttp_branching_ratio"][4:7] == part["ttp_branching_ratio"]).all())
True
"""

from __future__ import annotations

import zlib

import numpy as np

from sim.scenario import Scenario

__all__ = ["run_stream", "parameter_stream_key", "sample_parameters", "uncertain_names"]

_EVENTS, _PARAMETERS, _LHS = 0, 1, 2


def run_stream(seed: int, run_index: int) -> np.random.Generator:
    """The random stream of run ``run_index``: keyed by (seed, run index) only."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(_EVENTS, run_index))))


def parameter_stream_key(name: str) -> int:
    """A stable integer for a parameter name (crc32), so its stream survives reordering."""
    return zlib.crc32(name.encode("utf-8"))


def uncertain_names(scenario: Scenario) -> list[str]:
    """Names of the parameters sampled per run, sorted."""
    return [spec.name for spec in scenario.parameters if spec.uncertain]


def _mc_uniforms(seed: int, name: str, start: int, stop: int) -> np.ndarray:
    bit_generator = np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(_PARAMETERS, parameter_stream_key(name))))
    bit_generator.advance(start)  # one 64-bit output per double: run i's uniform is output i
    return np.random.Generator(bit_generator).random(stop - start)


def _lhs_uniforms(seed: int, names: list[str], n_runs: int, start: int, stop: int) -> np.ndarray:
    from scipy.stats import qmc  # here, not at the top: workers of plain MC runs never load scipy.stats

    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(_LHS,))))
    design = qmc.LatinHypercube(d=len(names), rng=rng).random(n_runs)
    return design[start:stop]


def sample_parameters(scenario: Scenario, *, seed: int, n_runs: int, start: int, stop: int,
                      uncertainty: str = "sampled", method: str = "mc") -> dict[str, np.ndarray]:
    """Values of the uncertain parameters for runs ``start .. stop-1`` (empty when fixed)."""
    if uncertainty == "fixed":
        return {}
    names = uncertain_names(scenario)
    if not names:
        return {}
    if method == "lhs":
        uniforms = _lhs_uniforms(seed, names, n_runs, start, stop)
        columns = {name: uniforms[:, j] for j, name in enumerate(names)}
    else:
        columns = {name: _mc_uniforms(seed, name, start, stop) for name in names}
    return {name: np.asarray(scenario.parameter(name).draw(u), dtype=float) for name, u in columns.items()}
