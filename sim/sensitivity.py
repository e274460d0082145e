"""Global sensitivity of chosen outputs to the uncertain parameters: Sobol' indices and Morris screening.

The SALib problem is named after the uncertain parameters, each with bounds [0, 1] in *quantile*
space; a design point u is turned into parameter values with ``spec.draw(u)``, so triangular and
log-uniform parameters keep their distributions. A design of P points x R replications is P*R model
runs with consecutive run indices (point p's runs are ``first + p*R .. first + p*R + R - 1``), each
point's values repeated R times; an output at a point is the mean over its R runs.

**Noise and R.** A stochastic model adds to every point mean a noise of variance ``w/R`` (``w``: the
variance of one run around its point's mean). A pilot (``pilot_points`` random points x
``pilot_replications`` runs) estimates ``w`` (pooled within-point variance) and the between-point
variance ``b`` of the true point means (variance of the pilot means minus ``w/R0``: one-way
random-effects ANOVA). R is the smallest number with ``w/R <= noise_fraction * b`` (5 % by default)
for every output, capped at ``max_replications``. Noise is independent between points, so it acts as
one extra, inert-looking input with variance share ``s = (w/R) / (b + w/R)``: Sobol' S1 estimates are
scaled by about ``1 - s`` and ST estimates become ``(1 - s) * ST + s`` — every parameter, even an inert
one, shows ST of about ``s`` (the "noise floor"). Morris mu* of an inert parameter becomes
``2 * sqrt(w / (R * pi)) / delta``. sensitivity.json reports R, the pilot's numbers, and ``s`` and these
floors as measured on the design itself (every run has its own random stream, so the noise of
different points is independent). On the baseline, trade loss needs R of about 20 and days under
ceasefire about 90, but P(incursion or worse) — a rare 0/1 outcome — needs 600-800; the
``sensitivity`` preset caps R at 200, which leaves it a noise share of about 10 %, shown as the
ST floor in its figure.

**CIs.** The ``*_conf`` values are SALib's: half-widths of a normal-approximation bootstrap interval
(``bootstrap_resamples`` resamples of the base samples or trajectories) at ``confidence`` (95 %).
The figure is drawn by :mod:`sim.sensitivity_plots`.

>>> choose_replications(0.09, 0.002, noise_fraction=0.05, max_replications=2000)
900
>>> round(noise_share(0.09, 0.002, 900), 4)
0.0476
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from sim.commands import CommandParser, output_folder, publish, reports_errors
from sim.config import RunConfig
from sim.errors import ConfigError
from sim.model import OUTCOME_CLASSES
from sim.records import METRIC_COLUMNS

__all__ = ["DERIVED_OUTPUTS", "output_names", "output_values", "salib_problem", "design_points", "SobolIndices",
           "MorrisIndices", "sobol_indices", "morris_indices", "NoiseEstimate", "estimate_noise", "noise_share",
           "morris_noise_floor", "choose_replications", "ReplicationPlan", "plan_replications", "evaluate_points",
           "SensitivityResult", "run_sensitivity", "save", "command"]

#: Outputs computed from the outcome class: indicator of the class set (its mean is a probability).
DERIVED_OUTPUTS: dict[str, tuple[str, ...]] = {
    "incursion_or_worse": ("conventional_incursion", "regional_war"),
    "limited_war_or_worse": ("limited_war", "conventional_incursion", "regional_war"),
    **{f"p_{name}": (name,) for name in OUTCOME_CLASSES},
}
_COLUMN_OUTPUTS = tuple(name for name in METRIC_COLUMNS if not name.startswith("first_")) + (
    "final_rung", "ceasefire_at_horizon", "crossings_open_at_horizon")  # first_*_day: NaN when censored
_SENSITIVITY_STREAM = 3  # spawn key of the design/bootstrap generator (0-2 are used by sim.sampling)


def output_names() -> tuple[str, ...]:
    """Every output a sensitivity analysis can study: derived indicators and numeric run columns."""
    return (*DERIVED_OUTPUTS, *_COLUMN_OUTPUTS)


def output_values(table, name: str) -> np.ndarray:
    """Per-run values of output ``name`` from a runs table, as floats (indicators are 0/1)."""
    if name in DERIVED_OUTPUTS:
        outcome = np.asarray(table.column("outcome").to_numpy(zero_copy_only=False))
        return np.isin(outcome, DERIVED_OUTPUTS[name]).astype(float)
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=float)


def salib_problem(names: Sequence[str]) -> dict:
    """SALib's problem: the named parameters, each on quantile bounds [0, 1].

    >>> salib_problem(["a", "b"])["bounds"]
    [[0.0, 1.0], [0.0, 1.0]]
    """
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0] for _ in names]}


def design_points(names: Sequence[str], method: str, base_samples: int, *, levels: int = 4,
                  rng: np.random.Generator) -> np.ndarray:
    """Design in quantile space: Saltelli (no second order, N*(D+2) rows) or N Morris trajectories (N*(D+1)).

    >>> design_points(["a", "b", "c"], "sobol", 8, rng=np.random.default_rng(1)).shape
    (40, 3)
    """
    problem = salib_problem(names)
    if method == "sobol":
        from SALib.sample import sobol

        return sobol.sample(problem, base_samples, calc_second_order=False, scramble=True, seed=rng)
    if method == "morris":
        from SALib.sample import morris

        return morris.sample(problem, base_samples, num_levels=levels, seed=rng)
    raise ConfigError(f"sensitivity.method: unknown value {method!r}; allowed: sobol, morris")


def _bootstrap_seed(rng: np.random.Generator) -> int:
    return int(rng.integers(1, 2**31 - 1))  # never 0: SALib's sobol.analyze ignores a seed of 0


@dataclass(frozen=True)
class SobolIndices:
    """First- and total-order Sobol' indices with bootstrap CI half-widths at ``confidence``."""

    names: tuple[str, ...]
    s1: np.ndarray
    s1_conf: np.ndarray
    st: np.ndarray
    st_conf: np.ndarray
    confidence: float

    def ranked(self) -> list[int]:
        """Parameter positions, largest ST first (ties by S1, then name)."""
        return sorted(range(len(self.names)), key=lambda j: (-np.nan_to_num(self.st[j], nan=-1.0),
                                                             -np.nan_to_num(self.s1[j], nan=-1.0), self.names[j]))

    def as_dict(self) -> dict:
        return {name: {"S1": self.s1[j], "S1_conf": self.s1_conf[j], "ST": self.st[j], "ST_conf": self.st_conf[j]}
                for j, name in enumerate(self.names)}


@dataclass(frozen=True)
class MorrisIndices:
    """Morris screening: mu, mu* (mean |elementary effect|) with its bootstrap CI half-width, sigma."""

    names: tuple[str, ...]
    mu: np.ndarray
    mu_star: np.ndarray
    mu_star_conf: np.ndarray
    sigma: np.ndarray
    confidence: float

    def ranked(self) -> list[int]:
        """Parameter positions, largest mu* first."""
        return sorted(range(len(self.names)), key=lambda j: (-np.nan_to_num(self.mu_star[j], nan=-1.0), self.names[j]))

    def as_dict(self) -> dict:
        return {name: {"mu": self.mu[j], "mu_star": self.mu_star[j], "mu_star_conf": self.mu_star_conf[j],
                       "sigma": self.sigma[j]} for j, name in enumerate(self.names)}


def _finite_values(values) -> np.ndarray:
    values = np.asarray(values, dtype=float).reshape(-1)
    if not np.all(np.isfinite(values)):
        raise ConfigError("sensitivity.outputs: an output has NaN or infinite values at some design points")
    return values


def sobol_indices(names: Sequence[str], values, *, resamples: int = 1000, confidence: float = 0.95,
                  rng: np.random.Generator) -> SobolIndices:
    """S1 and ST from outputs at a :func:`design_points` Saltelli design (SALib's estimators and bootstrap)."""
    from SALib.analyze import sobol

    values, d = _finite_values(values), len(names)
    if np.ptp(values) == 0.0:  # a constant output has no variance to apportion
        nan = np.full(d, np.nan)
        return SobolIndices(tuple(names), nan, nan, nan, nan, confidence)
    raw = sobol.analyze(salib_problem(names), values, calc_second_order=False, num_resamples=resamples,
                        conf_level=confidence, seed=_bootstrap_seed(rng))
    return SobolIndices(tuple(names), np.asarray(raw["S1"], float), np.asarray(raw["S1_conf"], float),
                        np.asarray(raw["ST"], float), np.asarray(raw["ST_conf"], float), confidence)


def morris_indices(names: Sequence[str], design: np.ndarray, values, *, levels: int = 4, resamples: int = 1000,
                   confidence: float = 0.95, rng: np.random.Generator) -> MorrisIndices:
    """mu, mu*, its CI and sigma from outputs at a :func:`design_points` Morris design (effects per unit quantile)."""
    from SALib.analyze import morris

    raw = morris.analyze(salib_problem(names), np.asarray(design, dtype=float), _finite_values(values),
                         num_resamples=resamples, conf_level=confidence, num_levels=levels, seed=_bootstrap_seed(rng))
    return MorrisIndices(tuple(names), *(np.asarray(raw[key], float) for key in ("mu", "mu_star", "mu_star_conf", "sigma")),
                         confidence)


# --- noise and replications -------------------------------------------------------------------------

@dataclass(frozen=True)
class NoiseEstimate:
    """One output's run-to-run (within-point) and between-point variances, from P points x R runs."""

    within_variance: float
    between_variance: float
    replications: int
    points: int

    @property
    def share(self) -> float:
        """Share of the point means' variance that is run-to-run noise at these R runs per point."""
        return noise_share(self.within_variance, self.between_variance, self.replications)


def estimate_noise(means, variances, replications: int) -> NoiseEstimate:
    """Pooled within-point variance, and between-point variance = var(point means) - within / R."""
    means, variances = np.asarray(means, float), np.asarray(variances, float)
    within = float(np.mean(variances)) if replications > 1 else math.nan
    spread = float(np.var(means, ddof=1)) if means.size > 1 else 0.0
    between = spread - (0.0 if math.isnan(within) else within / replications)
    return NoiseEstimate(within, between, int(replications), int(means.size))


def noise_share(within_variance: float, between_variance: float, replications: int) -> float:
    """``s = (w/R) / (b + w/R)``, with a negative between-point estimate read as zero."""
    noise = within_variance / replications
    total = max(between_variance, 0.0) + noise
    return float(noise / total) if total > 0 else 0.0


def morris_noise_floor(within_variance: float, replications: int, levels: int = 4) -> float:
    """mu* of an inert parameter: E|e1 - e2| / delta for two independent point-mean noises of variance w/R.

    >>> round(morris_noise_floor(1.0, 1, levels=4), 4)  # 2 / sqrt(pi) / (2/3)
    1.6926
    """
    delta = levels / (2.0 * (levels - 1))
    return 2.0 * math.sqrt(max(within_variance, 0.0) / (replications * math.pi)) / delta


def choose_replications(within_variance: float, between_variance: float, *, noise_fraction: float,
                        max_replications: int) -> int:
    """Smallest R with ``within / R <= noise_fraction * between``, at most ``max_replications``."""
    if within_variance <= 0.0:
        return 1
    if not between_variance > 0.0:
        return max_replications
    needed = within_variance / (noise_fraction * between_variance)
    return int(min(max_replications, max(1, math.ceil(needed * (1.0 - 1e-12)))))


@dataclass(frozen=True)
class ReplicationPlan:
    """R chosen from a pilot of ``points`` x ``pilot_replications`` runs: estimates, R needed (uncapped), R used."""

    points: int
    pilot_replications: int
    noise: Mapping[str, NoiseEstimate]
    needed: Mapping[str, float]          # inf when the between-point variance estimate is <= 0
    replications: int
    noise_fraction: float
    max_replications: int

    @property
    def runs(self) -> int:
        return self.points * self.pilot_replications

    def as_dict(self) -> dict:
        return {"points": self.points, "replications": self.pilot_replications, "runs": self.runs,
                "rule": f"smallest R with within_variance / R <= {self.noise_fraction:g} x between_variance "
                        f"for every output, capped at {self.max_replications}",
                "outputs": {name: {"within_variance": est.within_variance, "between_variance": est.between_variance,
                                   "replications_needed": None if math.isinf(self.needed[name]) else self.needed[name],
                                   "noise_share_at_chosen_R": noise_share(est.within_variance, est.between_variance,
                                                                          self.replications)}
                            for name, est in self.noise.items()}}


def plan_replications(means, variances, outputs: Sequence[str], *, pilot_replications: int, noise_fraction: float,
                      max_replications: int) -> ReplicationPlan:
    """Choose R from pilot point means and variances (points x outputs): the largest any output needs."""
    means, variances = np.asarray(means, float), np.asarray(variances, float)
    noise, needed = {}, {}
    for k, name in enumerate(outputs):
        est = estimate_noise(means[:, k], variances[:, k], pilot_replications)
        noise[name] = est
        needed[name] = (0.0 if est.within_variance <= 0 else math.inf if est.between_variance <= 0
                        else est.within_variance / (noise_fraction * est.between_variance))
    chosen = max(choose_replications(est.within_variance, est.between_variance, noise_fraction=noise_fraction,
                                     max_replications=max_replications) for est in noise.values())
    return ReplicationPlan(len(means), pilot_replications, noise, needed, chosen, noise_fraction, max_replications)


# --- running the model at design points -------------------------------------------------------------

def _simulate_runs(config: RunConfig, start: int, stop: int, sampled: dict):
    if config.engine == "fast":
        from sim.engines.fast_engine import simulate_chunk

        return simulate_chunk(config, start, stop, sampled)
    from sim.engines.simpy_engine import simulate_run
    from sim.records import rows_to_table
    from sim.sampling import run_stream

    rows, point = [], config.scenario.point_values()
    for offset, run_index in enumerate(range(start, stop)):
        values = {**point, **{name: float(column[offset]) for name, column in sampled.items()}}
        rows.append(simulate_run(config.scenario, values, run_stream(config.seed, run_index),
                                 horizon_days=config.horizon_days, run_index=run_index, start=config.start,
                                 max_events=config.max_events_per_run).row)
    return rows_to_table(rows, sampled)


def _simulate_block(config: RunConfig, names: tuple, uniforms: np.ndarray, replications: int, first_run: int,
                    outputs: tuple, block: int) -> tuple[int, np.ndarray, np.ndarray]:
    """Worker: runs of a block of whole points -> (block, means, within variances), points x outputs."""
    n_points = len(uniforms)
    sampled = {name: np.repeat(np.asarray(config.scenario.parameter(name).draw(uniforms[:, j]), float), replications)
               for j, name in enumerate(names)}
    table = _simulate_runs(config, first_run, first_run + n_points * replications, sampled)
    values = np.stack([output_values(table, name) for name in outputs], axis=1).reshape(n_points, replications, -1)
    variances = values.var(axis=1, ddof=1) if replications > 1 else np.full((n_points, len(outputs)), np.nan)
    return block, values.mean(axis=1), variances


def evaluate_points(config: RunConfig, names: Sequence[str], uniforms: np.ndarray, replications: int, *,
                    first_run: int, outputs: Sequence[str], executor=None, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Point means and within-point variances (points x outputs) of R runs per point, on ``executor``.

    ``executor`` comes from :func:`sim.executors.open_executor` (None: this process). Blocks hold whole
    points (about ``chunk_size`` runs each), so the numbers never depend on the executor or ``workers``.
    """
    from sim.executors import SerialExecutor, imap_unordered

    uniforms = np.asarray(uniforms, dtype=float)
    per_block = max(1, config.chunk_size // replications)
    means = np.empty((len(uniforms), len(outputs)))
    variances = np.empty_like(means)
    items = ((config, tuple(names), uniforms[s:s + per_block], replications, first_run + s * replications,
              tuple(outputs), s) for s in range(0, len(uniforms), per_block))
    for start, block_means, block_variances in imap_unordered(executor or SerialExecutor(), _simulate_block, items,
                                                               window=2 * workers):
        means[start:start + len(block_means)] = block_means
        variances[start:start + len(block_means)] = block_variances
    return means, variances


# --- the whole analysis -----------------------------------------------------------------------------

@dataclass(frozen=True)
class SensitivityResult:
    """Indices per output, the replications used and why, runs and wall time; ``folder`` once saved."""

    method: str
    names: tuple[str, ...]
    outputs: tuple[str, ...]
    indices: Mapping[str, SobolIndices | MorrisIndices]
    noise: Mapping[str, NoiseEstimate]
    replications: int
    plan: ReplicationPlan | None
    design_points: int
    runs: int
    seconds: float
    config: RunConfig
    workers: int
    folder: Path | None = None

    def noise_effect(self, output: str) -> dict:
        """The design's own noise estimate and how far it can bias this output's indices."""
        est = self.noise[output]
        entry = {"within_variance": est.within_variance, "between_variance": est.between_variance,
                 "noise_variance_of_point_mean": est.within_variance / self.replications, "noise_share": est.share}
        if self.method == "sobol":
            entry.update(s1_scale=1.0 - est.share, st_floor=est.share)
        else:
            entry["mu_star_floor"] = morris_noise_floor(est.within_variance, self.replications,
                                                        self.config.sensitivity.morris_levels)
        return entry

    def as_dict(self) -> dict:
        s = self.config.sensitivity
        scenario = self.config.scenario
        return {
            "kind": "sensitivity", "method": self.method, "scenario": scenario.name, "seed": self.config.seed,
            "engine": self.config.engine, "horizon_days": self.config.horizon_days, "preset": self.config.preset,
            "problem": {"num_vars": len(self.names), "names": list(self.names), "space": "quantile [0, 1]; value = draw(u)",
                        "parameters": {n: {key: getattr(scenario.parameter(n), key) for key in ("dist", "low", "value",
                                                                                                 "high")}
                                       for n in self.names}},
            "outputs": list(self.outputs),
            "design": {"base_samples": s.base_samples, "points": self.design_points, "replications": self.replications,
                       "replications_from": "pilot" if self.plan else "config (sensitivity.replications)",
                       **({"morris_levels": s.morris_levels} if self.method == "morris" else
                          {"second_order": False})},
            "pilot": None if self.plan is None else self.plan.as_dict(),
            "confidence": s.confidence, "bootstrap_resamples": s.bootstrap_resamples,
            "conf_meaning": f"half-width of SALib's normal-approximation bootstrap interval at {_pct(s.confidence)}",
            "indices": {o: {"parameters": self.indices[o].as_dict(),
                            "ranked": [self.names[j] for j in self.indices[o].ranked()]} for o in self.outputs},
            "noise": {o: self.noise_effect(o) for o in self.outputs},
            "runs": {"pilot": self.plan.runs if self.plan else 0, "design": self.design_points * self.replications,
                     "total": self.runs},
            "seconds": self.seconds, "workers": self.workers,
        }

    def describe(self, top: int = 5) -> str:
        """A plain-text summary: design, R and its reason, and the top parameters per output."""
        title = "Sobol' indices" if self.method == "sobol" else "Morris screening"
        lines = [f"{title}, scenario {self.config.scenario.name}: {len(self.names)} parameters, "
                 f"{self.design_points:,} points x R={self.replications} runs ({self.runs:,} runs with the pilot), "
                 f"{self.seconds:.1f} s"]
        if self.plan is not None:
            cap = self.plan.max_replications
            needs = ", ".join(f"{o} {f'>{cap}' if self.plan.needed[o] > cap else math.ceil(self.plan.needed[o])}"
                              for o in self.outputs)
            lines.append(f"  R from a pilot ({self.plan.runs:,} runs) for noise <= {_pct(self.plan.noise_fraction)} of "
                         f"between-point variance: needed {needs}; cap {self.plan.max_replications}")
        for output in self.outputs:
            effect, result = self.noise_effect(output), self.indices[output]
            if self.method == "sobol":
                lines.append(f"  {output}: noise share {_pct(effect['noise_share'], 1)} (ST floor "
                             f"{effect['st_floor']:.3f}); S1 / ST ± {_pct(result.confidence)} CI half-width")
                lines += [f"    {self.names[j]:<48} {result.s1[j]:6.3f} ± {result.s1_conf[j]:.3f}   "
                          f"{result.st[j]:6.3f} ± {result.st_conf[j]:.3f}" for j in result.ranked()[:top]]
            else:
                lines.append(f"  {output}: mu* noise floor {effect['mu_star_floor']:.4g}; mu* ± CI, sigma")
                lines += [f"    {self.names[j]:<48} {result.mu_star[j]:10.4g} ± {result.mu_star_conf[j]:.3g}   "
                          f"{result.sigma[j]:10.4g}" for j in result.ranked()[:top]]
        if self.folder is not None:
            lines.append(f"results: {self.folder}")
        return "\n".join(lines)


def run_sensitivity(config: RunConfig, folder: Path | None = None, *, workers: int | None = None) -> SensitivityResult:
    """Pilot (unless R is given), design, model runs, indices per output; saved under ``folder``.

    ``folder=None`` saves to a new ``results/sensitivity_<time>_<token>``.
    """
    from sim.executors import open_executor
    from sim.sampling import uncertain_names

    started = time.perf_counter()
    settings = config.sensitivity
    names = tuple(uncertain_names(config.scenario)) if config.uncertainty == "sampled" else ()
    if len(names) < 2:
        raise ConfigError("uncertainty: sensitivity needs at least two uncertain parameters "
                          "(uncertainty=sampled and parameters with a range)")
    pilot_rng, design_rng, bootstrap_rng = np.random.default_rng(
        np.random.SeedSequence(config.seed, spawn_key=(_SENSITIVITY_STREAM,))).spawn(3)
    workers = workers or config.workers or os.cpu_count() or 1
    plan, first_run = None, 0
    design = design_points(names, settings.method, settings.base_samples, levels=settings.morris_levels, rng=design_rng)
    with open_executor(config.executor, workers=workers, address=config.executor_address) as executor:
        evaluate = functools.partial(evaluate_points, config, names, outputs=settings.outputs, executor=executor,
                                     workers=workers)
        if settings.replications == 0:
            pilot = pilot_rng.random((settings.pilot_points, len(names)))
            means, variances = evaluate(pilot, settings.pilot_replications, first_run=0)
            plan = plan_replications(means, variances, settings.outputs, pilot_replications=settings.pilot_replications,
                                     noise_fraction=settings.noise_fraction, max_replications=settings.max_replications)
            first_run = plan.runs
        replications = plan.replications if plan else settings.replications
        means, variances = evaluate(design, replications, first_run=first_run)
    indices, noise = {}, {}
    for k, output in enumerate(settings.outputs):
        noise[output] = estimate_noise(means[:, k], variances[:, k], replications)
        if settings.method == "sobol":
            indices[output] = sobol_indices(names, means[:, k], resamples=settings.bootstrap_resamples,
                                            confidence=settings.confidence, rng=bootstrap_rng)
        else:
            indices[output] = morris_indices(names, design, means[:, k], levels=settings.morris_levels,
                                             resamples=settings.bootstrap_resamples, confidence=settings.confidence,
                                             rng=bootstrap_rng)
    result = SensitivityResult(settings.method, names, settings.outputs, indices, noise, replications, plan,
                               len(design), first_run + len(design) * replications, time.perf_counter() - started,
                               config, workers)
    return save(result, output_folder("sensitivity", None) if folder is None else Path(folder))


def save(result: SensitivityResult, folder: Path) -> SensitivityResult:
    """Publish sensitivity.json, config.yaml and (with ``plots``) a PNG + SVG figure per output into ``folder``."""
    import yaml

    from sim import io
    from sim.plotting import save_figure
    from sim.sensitivity_plots import sensitivity_figure

    def write(staging: Path) -> None:
        figures = []
        for output in result.outputs if result.config.plots else ():
            figures += [path.name for path in save_figure(sensitivity_figure(result, output), staging,
                                                          f"sensitivity_{output}")]
        io.atomic_write_text(staging / "config.yaml", yaml.safe_dump(dict(result.config.resolved), sort_keys=False))
        io.write_json(staging / "sensitivity.json", {**result.as_dict(), "figures": figures})

    return dataclasses.replace(result, folder=publish(folder, write))


def _pct(share: float, decimals: int = 0) -> str:
    return f"{100.0 * share:.{decimals}f} %"


# --- command line ---------------------------------------------------------------------------------

@reports_errors
def command(argv: Sequence[str]) -> int:
    """``python -m sim sensitivity [overrides] [--out DIR]``: the ``experiment=sensitivity`` preset plus overrides."""
    from sim.config import compose_run_config

    parser = CommandParser(prog="escalation-sim sensitivity",
                           description="Sobol'/Morris sensitivity of chosen outputs to the uncertain "
                                       "parameters (experiment=sensitivity plus Hydra-style overrides).")
    parser.add_argument("overrides", nargs="*", help="e.g. experiment=sensitivity_smoke sensitivity.method=morris "
                                                     "'sensitivity.outputs=[trade_loss_usd]' workers=2")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: results/sensitivity_<time>_<id>)")
    args = parser.parse_args(list(argv))
    # a later experiment=... (say sensitivity_smoke) replaces the default preset
    config = compose_run_config(["experiment=sensitivity", *args.overrides])
    result = run_sensitivity(config, output_folder("sensitivity", args.out))
    print(result.describe())
    return 0
