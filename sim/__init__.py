"""Scenario-planning Monte Carlo simulator of the Pakistan–Afghan Taliban border conflict.

>>> import sim
>>> results = sim.run("baseline", overrides=["experiment=smoke", "n_runs=10", "horizon_days=20"])
>>> results.table.num_rows
10
"""

from sim.errors import ConfigError, ResultsError

_LAZY = {
    "RunConfig": "sim.config", "compose_run_config": "sim.config", "load_scenario": "sim.config",
    "Results": "sim.results", "load_results": "sim.results", "run": "sim.results",
}


def __getattr__(name: str):
    # Imported on first use, so `python -m sim` with a bad override answers without loading scipy.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")

__all__ = [
    "ConfigError",
    "ResultsError",
    "Results",
    "RunConfig",
    "compose_run_config",
    "load_results",
    "load_scenario",
    "run",
]
