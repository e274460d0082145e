"""Scenario-planning Monte Carlo simulator of the Pakistan–Afghan Taliban border conflict.

>>> import sim
>>> results = sim.run("baseline", overrides=["experiment=smoke", "n_runs=10", "horizon_days=20"])
>>> results.table.num_rows
10
"""

from sim.config import RunConfig, compose_run_config, load_scenario
from sim.errors import ConfigError, ResultsError
from sim.results import Results, load_results, run

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
