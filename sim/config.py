"""Config schemas (registered in Hydra's ConfigStore) and their validation into a RunConfig.

Hydra composes ``configs/config.yaml`` against the dataclass schemas below; the CLI turns the
result into a plain mapping and :func:`run_config_from_mapping` validates it into a frozen
:class:`RunConfig`. Nothing past this module sees Hydra's DictConfig.

>>> config = compose_run_config(["scenario=baseline", "experiment=smoke", "n_runs=7"])
>>> config.n_runs, config.scenario.name, config.uncertainty
(7, 'baseline', 'sampled')
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from sim import provenance
from sim.errors import ConfigError
from sim.scenario import Scenario, scenario_from_mapping
from sim.start import PEACE, StartState, start_state_from_mapping

__all__ = [
    "CONFIG_DIR",
    "ENGINES",
    "UNCERTAINTY_MODES",
    "SAMPLING_METHODS",
    "ParameterSchema",
    "InitialEventSchema",
    "StartSchema",
    "ScenarioSchema",
    "AppSchema",
    "SensitivitySchema",
    "SensitivityConfig",
    "RunConfig",
    "register_schemas",
    "sensitivity_config_from_mapping",
    "run_config_from_mapping",
    "compose_run_config",
    "load_scenario",
]

PROJECT_DIR = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_DIR / "configs"
ENGINES = ("simpy", "fast")
UNCERTAINTY_MODES = ("sampled", "fixed")
SAMPLING_METHODS = ("mc", "lhs")
YARDSTICKS = ("icd203", "phia")
SENSITIVITY_METHODS = ("sobol", "morris")


@dataclass
class ParameterSchema:
    value: Optional[float] = None
    range: Optional[List[float]] = None
    dist: Optional[str] = None
    term: Optional[str] = None
    yardstick: Optional[str] = None
    source: Optional[str] = None
    quote: Optional[str] = None
    figure: Optional[str] = None
    derivation: Optional[str] = None
    unit: Optional[str] = None


@dataclass
class InitialEventSchema:
    kind: str = "mass_casualty_attack"
    day: float = 0.0
    deaths: Optional[float] = None


@dataclass
class ScenarioSchema:
    name: str = "unnamed"
    description: str = ""
    mechanisms: Dict[str, bool] = field(default_factory=dict)
    parameters: Dict[str, Any] = field(default_factory=dict)  # entries validated in sim.scenario
    ladder: Dict[str, Any] = field(default_factory=dict)
    initial_events: List[InitialEventSchema] = field(default_factory=list)


@dataclass
class StartSchema:
    """The situation at day 0 (``configs/start/*.yaml``); validated in :mod:`sim.start`.

    Dates as quoted strings ``"YYYY-MM-DD"``; "since" values a date or days before the start."""

    name: str = "peace"
    description: str = ""
    sources: str = ""
    date: Optional[str] = None
    rung: str = "low_intensity"
    crossings: Any = None                                    # crossing -> {state: closed|partial, since}
    ceasefire: Any = None                                    # {since}
    recent_attacks: Any = None                                 # [date or days ago, ...] or {count, within_days}
    excitation_per_day: Optional[float] = None                 # replaces the stationary initial excitation
    mediation: Any = None                                    # {mediator, offer_day}


@dataclass
class StopSchema:
    halfwidth: Optional[float] = None  # stop once every outcome class's 95 % CI half-width is <= this
    max_runs: Optional[int] = None     # ... or this many runs have been done


@dataclass
class ExecutorSchema:
    kind: str = "local"                # local | dask
    address: Optional[str] = None      # dask: tcp://host:8786 of an existing scheduler


@dataclass
class SensitivitySchema:
    """Global sensitivity settings (sim.sensitivity). Not frozen: OmegaConf makes a frozen
    dataclass node read-only, which would refuse YAML presets and command-line overrides."""

    enabled: bool = False              # the Hydra task runs the sensitivity analysis instead of a batch
    method: str = "sobol"              # sobol (Saltelli design, S1 and ST) | morris (screening)
    base_samples: int = 256            # sobol: N, a power of 2 (N*(D+2) points); morris: trajectories (N*(D+1))
    replications: int = 0              # runs averaged per design point; 0 = chosen by a pilot
    max_replications: int = 200        # cap on the pilot's choice
    noise_fraction: float = 0.05       # pilot rule: noise variance of a point mean <= this x between-point variance
    pilot_points: int = 128
    pilot_replications: int = 64
    outputs: List[str] = field(default_factory=lambda: ["incursion_or_worse", "trade_loss_usd",
                                                        "days_under_ceasefire"])
    bootstrap_resamples: int = 1000
    confidence: float = 0.95           # level of the bootstrap CIs (SALib's conf values are half-widths)
    morris_levels: int = 4


@dataclass
class AppSchema:
    n_runs: int = 5000
    seed: int = 20251012
    workers: int = 0
    chunk_size: int = 0                # 0: 250 runs for engine=simpy, 10,000 for engine=fast
    horizon_days: float = 365.0
    uncertainty: str = "sampled"
    sampling: str = "mc"
    engine: str = "simpy"
    yardstick: str = "icd203"
    plots: bool = True
    max_events_per_run: int = 200_000
    on_error: str = "raise"
    preset: str = "default"
    resume: Optional[str] = None
    stop: StopSchema = field(default_factory=StopSchema)
    executor: ExecutorSchema = field(default_factory=ExecutorSchema)
    scenario: ScenarioSchema = field(default_factory=ScenarioSchema)
    start: StartSchema = field(default_factory=StartSchema)
    sensitivity: SensitivitySchema = field(default_factory=SensitivitySchema)


def register_schemas() -> None:
    """Register ``base_config`` and ``scenario/base_scenario`` in Hydra's ConfigStore."""
    from hydra.core.config_store import ConfigStore
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver("sim_unique"):
        # a short random token, cached per config, so two runs in the same second differ
        OmegaConf.register_new_resolver("sim_unique", lambda: os.urandom(3).hex(), use_cache=True)
    store = ConfigStore.instance()
    store.store(name="base_config", node=AppSchema)
    store.store(group="scenario", name="base_scenario", node=ScenarioSchema)
    store.store(group="executor", name="base_executor", node=ExecutorSchema)
    store.store(group="start", name="base_start", node=StartSchema)


@dataclass(frozen=True)
class SensitivityConfig:
    """Validated :class:`SensitivitySchema` (see :mod:`sim.sensitivity`)."""

    enabled: bool = False
    method: str = "sobol"
    base_samples: int = 256
    replications: int = 0
    max_replications: int = 200
    noise_fraction: float = 0.05
    pilot_points: int = 128
    pilot_replications: int = 64
    outputs: tuple[str, ...] = ("incursion_or_worse", "trade_loss_usd", "days_under_ceasefire")
    bootstrap_resamples: int = 1000
    confidence: float = 0.95
    morris_levels: int = 4


@dataclass(frozen=True)
class RunConfig:
    """Everything one batch of runs needs, validated. ``resolved`` is the composed config."""

    n_runs: int
    seed: int
    workers: int
    chunk_size: int
    horizon_days: float
    uncertainty: str
    sampling: str
    engine: str
    yardstick: str
    plots: bool
    max_events_per_run: int
    preset: str
    scenario: Scenario
    on_error: str = "raise"
    stop_halfwidth: float | None = None
    stop_max_runs: int | None = None
    executor: str = "local"
    executor_address: str | None = None
    resolved: Mapping[str, Any] = field(default_factory=dict, compare=False)
    sensitivity: SensitivityConfig = field(default_factory=SensitivityConfig)
    start: StartState = PEACE

    @property
    def sequential(self) -> bool:
        """Sequential stopping: chunks are added until the outcome CIs are narrow enough."""
        return self.stop_halfwidth is not None

    @property
    def max_runs(self) -> int:
        """Runs done at most: ``n_runs``, or ``stop.max_runs`` under sequential stopping."""
        return (self.stop_max_runs or 10_000_000) if self.sequential else self.n_runs

    @property
    def effective_workers(self) -> int:
        """``workers=0`` means all cores; never more processes than chunks."""
        wanted = self.workers or (os.cpu_count() or 1)
        n_chunks = -(-self.max_runs // self.chunk_size)
        return max(1, min(wanted, n_chunks))


def _integer(key: str, raw: Any, *, minimum: int) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise ConfigError(f"{key}: expected an integer, got {raw!r}")
    if raw < minimum:
        raise ConfigError(f"{key}: must be an integer >= {minimum}, got {raw}")
    return raw


def _choice(key: str, raw: Any, allowed: Sequence[str]) -> str:
    if raw not in allowed:
        raise ConfigError(f"{key}: unknown value {raw!r}; allowed: {', '.join(allowed)}")
    return str(raw)


def _fraction(key: str, raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 0.0 < raw < 1.0:
        raise ConfigError(f"{key}: a number strictly between 0 and 1, got {raw!r}")
    return float(raw)


def sensitivity_config_from_mapping(raw: Any) -> SensitivityConfig:
    """Validate the ``sensitivity`` node; output names are checked against :mod:`sim.sensitivity`.

    >>> sensitivity_config_from_mapping({"method": "morris", "base_samples": 10}).base_samples
    10
    """
    from sim.sensitivity import output_names

    defaults = SensitivityConfig()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"sensitivity: expected a mapping of settings, got {raw!r}")
    unknown = sorted(set(raw) - set(SensitivityConfig.__dataclass_fields__))
    if unknown:
        raise ConfigError(f"sensitivity.{unknown[0]}: unknown setting; allowed: "
                          f"{', '.join(SensitivityConfig.__dataclass_fields__)}")
    get = lambda key: raw.get(key, getattr(defaults, key))  # noqa: E731
    enabled = get("enabled")
    if not isinstance(enabled, bool):
        raise ConfigError(f"sensitivity.enabled: expected true or false, got {enabled!r}")
    method = _choice("sensitivity.method", get("method"), SENSITIVITY_METHODS)
    base_samples = _integer("sensitivity.base_samples", get("base_samples"), minimum=2)
    if method == "sobol" and base_samples & (base_samples - 1):
        raise ConfigError(f"sensitivity.base_samples: Saltelli/Sobol' designs need a power of 2, got {base_samples}")
    max_replications = _integer("sensitivity.max_replications", get("max_replications"), minimum=1)
    replications = _integer("sensitivity.replications", get("replications"), minimum=0)
    if replications > max_replications:
        raise ConfigError(f"sensitivity.replications: {replications} exceeds sensitivity.max_replications "
                          f"{max_replications}")
    outputs = get("outputs")
    if isinstance(outputs, str) or not isinstance(outputs, Sequence) or not outputs:
        raise ConfigError(f"sensitivity.outputs: a non-empty list of output names, got {outputs!r}")
    allowed = output_names()
    for name in outputs:
        if name not in allowed:
            raise ConfigError(f"sensitivity.outputs: unknown output {name!r}; allowed: {', '.join(allowed)}")
    twice = [name for k, name in enumerate(outputs) if name in list(outputs)[:k]]
    if twice:
        raise ConfigError(f"sensitivity.outputs: {twice[0]!r} is listed twice")
    confidence = _fraction("sensitivity.confidence", get("confidence"))
    noise_fraction = _fraction("sensitivity.noise_fraction", get("noise_fraction"))
    morris_levels = _integer("sensitivity.morris_levels", get("morris_levels"), minimum=2)
    if morris_levels % 2:
        raise ConfigError(f"sensitivity.morris_levels: an even number of grid levels, got {morris_levels}")
    return SensitivityConfig(
        enabled=enabled, method=method, base_samples=base_samples, replications=replications,
        max_replications=max_replications, noise_fraction=noise_fraction,
        pilot_points=_integer("sensitivity.pilot_points", get("pilot_points"), minimum=4),
        pilot_replications=_integer("sensitivity.pilot_replications", get("pilot_replications"), minimum=2),
        outputs=tuple(str(name) for name in outputs),
        bootstrap_resamples=_integer("sensitivity.bootstrap_resamples", get("bootstrap_resamples"), minimum=10),
        confidence=confidence, morris_levels=morris_levels)


def run_config_from_mapping(raw: Mapping[str, Any]) -> RunConfig:
    """Validate a composed config mapping (Hydra's ``hydra`` node ignored) into a RunConfig."""
    data = {key: value for key, value in raw.items() if key != "hydra"}
    known = {name for name in AppSchema.__dataclass_fields__}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown config key; allowed: {', '.join(sorted(known))}")
    defaults = AppSchema()
    get = lambda key: data.get(key, getattr(defaults, key))  # noqa: E731
    horizon = get("horizon_days")
    if isinstance(horizon, bool) or not isinstance(horizon, (int, float)) or not horizon > 0:
        raise ConfigError(f"horizon_days: must be a positive number of days, got {horizon!r}")
    if horizon > 36_500:
        raise ConfigError(f"horizon_days: at most 36500 days (100 years), got {horizon!r}")
    plots = get("plots")
    if not isinstance(plots, bool):
        raise ConfigError(f"plots: expected true or false, got {plots!r}")
    scenario_raw = data.get("scenario")
    if not isinstance(scenario_raw, Mapping):
        raise ConfigError("scenario: missing; choose one with scenario=<name> (see configs/scenario/)")
    engine = _choice("engine", get("engine"), ENGINES)
    chunk_size = _integer("chunk_size", get("chunk_size"), minimum=0) or (10_000 if engine == "fast" else 250)
    stop, executor = data.get("stop") or {}, data.get("executor") or {}
    if not isinstance(stop, Mapping) or set(stop) - {"halfwidth", "max_runs"}:
        raise ConfigError(f"stop: expected {{halfwidth, max_runs}}, got {stop!r}")
    halfwidth = stop.get("halfwidth")
    if halfwidth is not None and (isinstance(halfwidth, bool) or not isinstance(halfwidth, (int, float))
                                  or not 0.0 < halfwidth < 0.5):
        raise ConfigError(f"stop.halfwidth: a CI half-width strictly between 0 and 0.5, got {halfwidth!r}")
    max_runs = stop.get("max_runs")
    if max_runs is not None:
        max_runs = _integer("stop.max_runs", max_runs, minimum=1)
    if halfwidth is not None and get("sampling") == "lhs":
        raise ConfigError("sampling: lhs needs the number of runs in advance; use sampling=mc with stop.halfwidth")
    if not isinstance(executor, Mapping) or set(executor) - {"kind", "address"}:
        raise ConfigError(f"executor: expected {{kind, address}}, got {executor!r}")
    executor_kind = _choice("executor.kind", executor.get("kind", "local"), ("local", "dask"))
    address = executor.get("address")
    if address is not None and (executor_kind != "dask" or not str(address).startswith(("tcp://", "tls://", "inproc://"))):
        raise ConfigError(f"executor.address: a dask scheduler address like tcp://host:8786 (with executor=dask), got {address!r}")
    scenario = scenario_from_mapping(scenario_raw, known_sources=provenance.card_ids())
    provenance.check_scenario_quotes(scenario)
    for event in scenario.initial_events:
        if event.day >= horizon:
            raise ConfigError(f"scenario.initial_events: day {event.day:g} is not before horizon_days {horizon:g}")
    return RunConfig(
        n_runs=_integer("n_runs", get("n_runs"), minimum=1),
        seed=_integer("seed", get("seed"), minimum=0),
        workers=_integer("workers", get("workers"), minimum=0),
        chunk_size=chunk_size,
        horizon_days=float(horizon),
        uncertainty=_choice("uncertainty", get("uncertainty"), UNCERTAINTY_MODES),
        sampling=_choice("sampling", get("sampling"), SAMPLING_METHODS),
        engine=engine,
        yardstick=_choice("yardstick", get("yardstick"), YARDSTICKS),
        plots=plots,
        max_events_per_run=_integer("max_events_per_run", get("max_events_per_run"), minimum=1),
        preset=str(get("preset")),
        scenario=scenario,
        on_error=_choice("on_error", get("on_error"), ("raise", "skip")),
        stop_halfwidth=None if halfwidth is None else float(halfwidth),
        stop_max_runs=max_runs,
        executor=executor_kind,
        executor_address=None if address is None else str(address),
        resolved=data,
        sensitivity=sensitivity_config_from_mapping(data.get("sensitivity") or {}),
        start=start_state_from_mapping(data.get("start"), horizon_days=float(horizon)),
    )


def compose_mapping(overrides: Sequence[str] = (), *, config_dir: str | os.PathLike | None = None) -> dict:
    """Compose ``configs/config.yaml`` with overrides through Hydra's compose API, as a dict."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    register_schemas()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(config_dir or CONFIG_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=list(overrides))
    return OmegaConf.to_container(cfg, resolve=True)


def compose_run_config(overrides: Sequence[str] = (), *, config_dir: str | os.PathLike | None = None) -> RunConfig:
    """Compose and validate in one call: the Python API's way in (errors as ConfigError)."""
    from sim.cli import hydra_error_message

    try:
        mapping = compose_mapping(overrides, config_dir=config_dir)
    except ConfigError:
        raise
    except Exception as error:  # Hydra/OmegaConf errors: one line naming the problem
        raise ConfigError(hydra_error_message(error)) from None
    return run_config_from_mapping(mapping)


def load_scenario(name: str, overrides: Sequence[str] = ()) -> Scenario:
    """A shipped scenario by name (``configs/scenario/<name>.yaml``), validated.

    >>> load_scenario("baseline").name
    'baseline'
    """
    return compose_run_config([f"scenario={name}", *overrides]).scenario
