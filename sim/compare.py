"""Compare scenarios on common random numbers: paired differences with 95 % CIs, run by run.

Two scenarios run with the same seed share every per-run stream (run i of one is paired with run i
of the other), so each quantity's difference is estimated from per-run differences, whose variance
is far smaller than that of two independent batches. For each outcome class, cumulative class and
P(event within the horizon): the paired-proportion difference with the Bonett-Price adjusted Wald
CI. For each metric of :data:`sim.records.METRIC_COLUMNS`: the mean paired difference with a t CI;
first-event days, censored at the horizon (NaN), are compared as restricted means, a run without
the event counting as the horizon (the probability of the event is compared separately). A
difference whose CI covers 0 is flagged as within Monte Carlo noise.

Variance reduction = var(difference of independent batches) / var(paired difference), i.e. how many
times more runs independent seeds would need for the same CI. The analytic estimate uses the two
marginal variances (var_a + var_b, which is exactly the variance of an independent-seed difference);
when the command runs the scenarios itself it also reruns each alternative with another seed and
measures it.

>>> lo, hi = bonett_price_interval(alternative_only=26, reference_only=4, n=48)
>>> round(lo, 4), round(hi, 4)
(0.2548, 0.6252)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Sequence

import matplotlib
import numpy as np
import pyarrow as pa
from matplotlib.figure import Figure
from scipy import stats

from sim import io, wep
from sim.commands import CommandParser, output_folder, publish, reports_errors
from sim.errors import ConfigError, ResultsError
from sim.model import OUTCOME_CLASSES
from sim.plotting import OKABE_ITO, STYLE, new_figure, pretty_name, save_figure
from sim.records import FIRST_EVENTS, METRIC_COLUMNS

__all__ = ["bonett_price_interval", "paired_mean_interval", "variance_ratio", "paired_quantities",
           "PairedDifference", "Comparison", "compare_tables", "ScenarioRuns", "check_common_random_numbers",
           "difference_chart", "RUN_COLUMNS", "command"]

SCHEMA_VERSION = 1
#: The run columns a comparison reads (see :func:`paired_quantities`).
RUN_COLUMNS: tuple[str, ...] = tuple(dict.fromkeys(
    ("run_index", "outcome", *(f"first_{kind}_day" for kind in FIRST_EVENTS), *METRIC_COLUMNS)))
#: Metrics drawn in the difference chart, each in its own panel: (column, label, unit, scale).
HEADLINE_METRICS = (
    ("fatalities_total", "all fatalities", "deaths per run", 1.0),
    ("fatalities_civilians", "civilian fatalities", "deaths per run", 1.0),
    ("strikes", "Pakistani strikes in Afghanistan", "strikes per run", 1.0),
    ("days_under_ceasefire", "days under a ceasefire", "days per run", 1.0),
    ("days_closed_torkham", "days Torkham is closed", "days per run", 1.0),
    ("trade_loss_usd", "trade lost", "USD million per run", 1e-6),
)


def _z(confidence: float) -> float:
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def bonett_price_interval(*, alternative_only: int, reference_only: int, n: int,
                          confidence: float = 0.95) -> tuple[float, float]:
    """CI of a paired difference of proportions (Bonett & Price 2012 adjusted Wald), from discordant counts."""
    if n <= 0 or min(alternative_only, reference_only) < 0 or alternative_only + reference_only > n:
        raise ValueError(f"discordant counts {alternative_only}, {reference_only} do not fit n={n}")
    p_alt, p_ref = (alternative_only + 1) / (n + 2), (reference_only + 1) / (n + 2)
    centre = p_alt - p_ref
    half = _z(confidence) * math.sqrt((p_alt + p_ref - centre * centre) / (n + 2))
    return max(centre - half, -1.0), min(centre + half, 1.0)


def paired_mean_interval(differences: np.ndarray, confidence: float = 0.95) -> tuple[float, tuple[float, float]]:
    """Mean of per-run differences and its t interval (zero width when every difference is equal).

    >>> mean, (lo, hi) = paired_mean_interval(np.array([1.0, 2.0, 3.0]))
    >>> mean, round(lo, 4), round(hi, 4)
    (2.0, -0.4841, 4.4841)
    """
    n = differences.size
    mean = float(differences.mean())
    if n < 2:
        return mean, (float("nan"), float("nan"))
    half = float(stats.t.ppf(0.5 + confidence / 2.0, n - 1) * differences.std(ddof=1)) / math.sqrt(n)
    return mean, (mean - half, mean + half)


def variance_ratio(alternative: np.ndarray, reference: np.ndarray, *, independent_alternative: np.ndarray | None = None,
                   confidence: float = 0.95) -> tuple[float | None, tuple[float | None, float | None]]:
    """var(unpaired difference) / var(paired difference), with a delta-method CI on the log scale.

    The unpaired variance is var(a) + var(b) (analytic), or, given ``independent_alternative`` (the
    alternative rerun with another seed), the variance of its per-run differences with ``reference``.
    None where the paired differences never vary (identical runs: the reduction is unbounded).

    >>> rng = np.random.default_rng(1); a = rng.normal(size=4000); b = a + 0.5 * rng.normal(size=4000)
    >>> round(variance_ratio(a, b)[0], 1)  # (1 + 1.25) / 0.25 = 9
    9.1
    """
    d = alternative - reference
    d_sq = (d - d.mean()) ** 2
    var_paired = d_sq.sum() / (d.size - 1)
    if d.size < 3 or var_paired <= 0:
        return None, (None, None)
    if independent_alternative is None:
        parts = [(alternative - alternative.mean()) ** 2, (reference - reference.mean()) ** 2]
    else:
        u = independent_alternative - reference
        parts = [(u - u.mean()) ** 2]
    var_unpaired = sum(part.sum() for part in parts) / (d.size - 1)
    ratio = var_unpaired / var_paired
    if ratio <= 0:                                  # the unpaired difference never varies (a degenerate rerun)
        return 0.0, (None, None)
    influence = (sum(parts) - var_unpaired - ratio * (d_sq - var_paired)) / var_paired
    log_se = influence.std(ddof=1) / math.sqrt(d.size) / ratio
    spread = math.exp(_z(confidence) * log_se)
    return float(ratio), (float(ratio / spread), float(ratio * spread))


def paired_quantities(table: pa.Table, horizon_days: float) -> dict[str, tuple[str, np.ndarray]]:
    """Per-run values of every compared quantity, in run_index order: name -> (group, values).

    Groups: ``outcome``, ``cumulative`` and ``event`` (0/1 per run: compared as proportions),
    ``metric`` (means) and ``restricted_mean`` (first-event day, a run without the event = horizon).
    """
    from sim.results import CUMULATIVE

    order = np.argsort(np.asarray(table.column("run_index").to_numpy(zero_copy_only=False)), kind="stable")
    outcome = np.asarray(table.column("outcome").to_pylist(), dtype=object)[order]
    out: dict[str, tuple[str, np.ndarray]] = {}
    for name in OUTCOME_CLASSES:
        out[f"outcome.{name}"] = ("outcome", (outcome == name).astype(float))
    for name, classes in CUMULATIVE.items():
        out[f"cumulative.{name}"] = ("cumulative", np.isin(outcome, classes).astype(float))
    for kind in FIRST_EVENTS:
        out[f"event.{kind}"] = ("event", np.isfinite(_column(table, f"first_{kind}_day", order)).astype(float))
    for name in METRIC_COLUMNS:
        values = _column(table, name, order)
        if name.startswith("first_"):
            out[f"restricted_mean.{name}"] = ("restricted_mean", np.where(np.isnan(values), horizon_days, values))
        else:
            out[f"metric.{name}"] = ("metric", values)
    return out


def _run_indices(table: pa.Table) -> np.ndarray:
    return np.sort(np.asarray(table.column("run_index").to_numpy(zero_copy_only=False)))


def _column(table: pa.Table, name: str, order: np.ndarray) -> np.ndarray:
    if name not in table.column_names:
        raise ResultsError(f"runs table lacks the column {name!r}: not a run table of this version")
    return np.asarray(table.column(name).to_numpy(zero_copy_only=False), dtype=float)[order]


@dataclass(frozen=True)
class PairedDifference:
    """Alternative minus reference for one quantity, paired by run (see the module docstring).

    ``variance_reduction``: analytic, from the marginal variances; ``variance_reduction_measured``:
    from the alternative rerun with an independent seed (None when not run).
    """

    quantity: str
    group: str
    reference: float
    alternative: float
    difference: float
    ci95: tuple[float, float]
    within_noise: bool
    relative_change: float | None
    n: int
    variance_reduction: float | None
    variance_reduction_ci95: tuple[float | None, float | None]
    variance_reduction_measured: float | None = None
    variance_reduction_measured_ci95: tuple[float | None, float | None] = (None, None)
    discordant_runs: tuple[int, int] | None = None    # (alternative only, reference only), proportions


@dataclass(frozen=True)
class Comparison:
    """Every quantity's paired difference between one alternative and the reference."""

    reference: str
    alternative: str
    differences: tuple[PairedDifference, ...]

    def __getitem__(self, quantity: str) -> PairedDifference:
        for entry in self.differences:
            if entry.quantity == quantity:
                return entry
        raise KeyError(quantity)


def compare_tables(reference: pa.Table, alternative: pa.Table, *, horizon_days: float,
                   independent_alternative: pa.Table | None = None, reference_name: str = "reference",
                   alternative_name: str = "alternative") -> Comparison:
    """Paired differences (alternative - reference) of every quantity of :func:`paired_quantities`."""
    indices = [_run_indices(table) for table in (reference, alternative, independent_alternative) if table is not None]
    if any(not np.array_equal(indices[0], other) for other in indices[1:]):
        raise ResultsError(f"{reference_name} and {alternative_name}: the run indices differ, so runs cannot be "
                           "paired")
    ref, alt = paired_quantities(reference, horizon_days), paired_quantities(alternative, horizon_days)
    ind = paired_quantities(independent_alternative, horizon_days) if independent_alternative is not None else None
    out = []
    for name, (group, r) in ref.items():
        a = alt[name][1]
        if group in ("outcome", "cumulative", "event"):
            alt_only, ref_only = int(((a == 1) & (r == 0)).sum()), int(((a == 0) & (r == 1)).sum())
            difference = (alt_only - ref_only) / r.size
            ci = bonett_price_interval(alternative_only=alt_only, reference_only=ref_only, n=r.size)
            discordant = (alt_only, ref_only)
        else:
            difference, ci = paired_mean_interval(a - r)
            discordant = None
        ratio, ratio_ci = variance_ratio(a, r)
        measured, measured_ci = (variance_ratio(a, r, independent_alternative=ind[name][1])
                                 if ind is not None else (None, (None, None)))
        base = float(r.mean())
        out.append(PairedDifference(name, group, base, float(a.mean()), float(difference), (float(ci[0]), float(ci[1])),
                                    bool(ci[0] <= 0.0 <= ci[1]), difference / base if base else None, int(r.size),
                                    ratio, ratio_ci, measured, measured_ci, discordant))
    return Comparison(reference_name, alternative_name, tuple(out))


@dataclass(frozen=True, eq=False)
class ScenarioRuns:
    """One input of a comparison: a label, where it came from, its identity and its runs."""

    label: str
    scenario: str
    seed: int
    n_runs: int
    horizon_days: float
    engine: str
    table: pa.Table
    source: str


def check_common_random_numbers(inputs: Sequence[ScenarioRuns]) -> None:
    """Raise ResultsError unless every input shares seed, runs, horizon, engine and run indices."""
    first = inputs[0]
    for other in inputs[1:]:
        for what in ("seed", "n_runs", "horizon_days", "engine"):
            if getattr(first, what) != getattr(other, what):
                raise ResultsError(f"{first.label} and {other.label} are not on common random numbers: {what} "
                                   f"{getattr(first, what)!r} vs {getattr(other, what)!r} (pair only batches with "
                                   "the same seed, n_runs, horizon_days and engine)")
        if not np.array_equal(_run_indices(first.table), _run_indices(other.table)):
            raise ResultsError(f"{first.label} and {other.label} are not on common random numbers: their run "
                               "indices differ (runs failed and were skipped in one of them?)")


def _pretty_quantity(name: str) -> str:
    group, _, what = name.partition(".")
    text = pretty_name(what)
    return {"cumulative": text.replace(" or worse", " or worse (cumulative)"), "event": f"any {text}"}.get(group, text)


def _dot(ax, y: float, entry: PairedDifference, scale: float) -> None:
    centre, lo, hi = entry.difference * scale, entry.ci95[0] * scale, entry.ci95[1] * scale
    colour = "#B0B0B0" if entry.within_noise else OKABE_ITO["blue"]
    ax.errorbar([centre], [y], xerr=[[centre - lo], [hi - centre]], fmt="o", color=colour, ecolor=colour,
                elinewidth=2, capsize=4, ms=7, zorder=3)


def _level(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def difference_chart(comparison: Comparison, *, n_runs: int, horizon_days: float) -> Figure:
    """Alternative minus reference: outcome probabilities (percentage points) and headline metrics
    (each in its own panel and unit), points with 95 % CIs; grey = within Monte Carlo noise."""
    rows = [f"outcome.{name}" for name in OUTCOME_CLASSES] + ["cumulative.limited_war_or_worse",
                                                             "cumulative.incursion_or_worse"]
    with matplotlib.rc_context(STYLE):
        fig = new_figure(6.8, 12.0)
        grid = fig.add_gridspec(len(HEADLINE_METRICS), 2, width_ratios=[1.25, 1], wspace=0.08)
        ax = fig.add_subplot(grid[:, 0])
        for y, name in enumerate(rows[::-1]):
            entry = comparison[name]
            _dot(ax, y, entry, 100.0)
            ax.annotate(f"{wep.format_percent(entry.reference)} → {wep.format_percent(entry.alternative)}",
                        xy=(1.0, y), xycoords=("axes fraction", "data"), xytext=(-4, 9), textcoords="offset points",
                        ha="right", va="bottom", fontsize=8, color="#444444")
        ax.axvline(0.0, color="black", lw=0.9, zorder=1)
        ax.axhline(1.5, color="#CCCCCC", lw=0.8, ls="--")
        ax.set_yticks(range(len(rows)), [_pretty_quantity(name) for name in rows[::-1]])
        ax.set_ylim(-0.6, len(rows) - 0.4)
        low, high = ax.get_xlim()
        ax.set_xlim(min(low, -0.5), max(high, 0.5))
        ax.set_xlabel("difference in probability (percentage points), alternative − reference")
        ax.grid(True, axis="x", color="#E5E5E5", lw=0.7, zorder=0)
        ax.set_title("Outcome probabilities (labels: reference → alternative)", loc="left")
        for row, (column, label, unit, scale) in enumerate(HEADLINE_METRICS):
            small = fig.add_subplot(grid[row, 1])
            entry = comparison[f"metric.{column}"]
            _dot(small, 0.0, entry, scale)
            small.axvline(0.0, color="black", lw=0.9, zorder=1)
            low, high = small.get_xlim()
            reach = max(abs(low), abs(high))
            small.set_xlim(-reach, reach)
            small.set_yticks([])
            small.spines["left"].set_visible(False)
            small.tick_params(axis="x", labelsize=8)
            change = "" if entry.relative_change is None else f" ({100 * entry.relative_change:+.1f} %)"
            small.set_title(f"{label} ({unit})", loc="left", fontsize=9)
            left = entry.difference > 0                            # the text goes where the point is not
            small.text(0.02 if left else 0.98, 0.92, f"{_level(entry.reference * scale)} → "
                       f"{_level(entry.alternative * scale)}{change}", transform=small.transAxes, fontsize=8,
                       ha="left" if left else "right", va="top", color="#444444")
        fig.suptitle(f"'{comparison.alternative}' minus '{comparison.reference}': paired on common random numbers, "
                     f"{n_runs:,} runs each, {horizon_days:g}-day horizon", fontsize=11.5)
        fig.text(0.01, 0.005, "Points: paired difference; bars: 95 % CI (Bonett–Price for probabilities, t for "
                 "means). Grey: the CI covers 0 (within Monte Carlo noise).", fontsize=8.5, ha="left", va="bottom")
        fig.get_layout_engine().set(rect=(0, 0.03, 1, 0.97))
    return fig


def _from_folders(folders: Sequence[str]) -> list[ScenarioRuns]:
    from sim.results import load_results

    inputs = []
    for folder in folders:
        summary, table, _ = load_results(folder, columns=RUN_COLUMNS)
        inputs.append(ScenarioRuns(summary["scenario"], summary["scenario"], summary["seed"], summary["n_runs"],
                                   float(summary["horizon_days"]), summary["engine"], table,
                                   str(Path(folder).resolve())))
    return inputs


def _configs(scenarios: Sequence[str], overrides: Sequence[str]):
    from sim.config import compose_run_config
    from sim.results import PLOT_ROWS

    bad = [item for item in overrides if item.lstrip("+~").split("=", 1)[0] in ("scenario", "resume")]
    if bad:
        raise ConfigError(f"{bad[0]}: give the scenarios as names before the overrides, not as an override")
    configs = [compose_run_config([f"scenario={name}", *overrides]) for name in scenarios]
    if configs[0].sequential:
        raise ConfigError("stop.halfwidth: sequential stopping gives each scenario its own number of runs; "
                          "compare needs a fixed n_runs")
    if configs[0].n_runs > PLOT_ROWS:
        raise ConfigError(f"n_runs: compare keeps runs in memory, at most {PLOT_ROWS:,}; for more, run each "
                          "scenario to a folder (same seed) and compare the folders")
    return configs


def _run(config, label: str, workers: int | None) -> ScenarioRuns:
    from sim.results import run_and_save

    results = run_and_save(config, None, progress=False, workers=workers)
    summary = results.summary
    return ScenarioRuns(label, config.scenario.name, config.seed, summary["n_runs"], config.horizon_days,
                        config.engine, results.table, "run by compare")


def _unique_labels(names: Sequence[str]) -> list[str]:
    labels = []
    for name in names:
        labels.append(name if name not in labels else f"{name}#{sum(n == name for n in labels) + 1}")
    return labels


def _format(entry: PairedDifference, label: str, scale: float = 1.0) -> list[str]:
    percent = entry.group in ("outcome", "cumulative", "event")
    value = (lambda v: f"{100 * v:+.2f} pp") if percent else (lambda v: f"{v * scale:+,.4g}")
    level = wep.format_percent if percent else (lambda v: _level(v * scale))
    ratio = "∞ (identical runs)" if entry.variance_reduction is None else f"{entry.variance_reduction:.1f}"
    if entry.variance_reduction_measured is not None:
        ratio += f" (measured {entry.variance_reduction_measured:.1f})"
    return [label, level(entry.reference), level(entry.alternative),
            f"{value(entry.difference)} [{value(entry.ci95[0])}, {value(entry.ci95[1])}]",
            "noise" if entry.within_noise else "", ratio]


def _describe(comparisons: Sequence[Comparison]) -> str:
    shown = [(f"outcome.{c}", _pretty_quantity(f"outcome.{c}"), 1.0) for c in OUTCOME_CLASSES]
    shown += [(f"cumulative.{c}", _pretty_quantity(f"cumulative.{c}"), 1.0)
              for c in ("limited_war_or_worse", "incursion_or_worse")]
    shown += [(f"metric.{column}", f"{label} ({unit})", scale) for column, label, unit, scale in HEADLINE_METRICS]
    header = ["quantity", "reference", "alternative", "difference [95 % CI]", "", "variance reduction"]
    lines = []
    for comparison in comparisons:
        rows = [header] + [_format(comparison[name], label, scale) for name, label, scale in shown]
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        beyond = sum(not entry.within_noise for entry in comparison.differences)
        lines.append(f"{comparison.alternative} − {comparison.reference}: {beyond} of {len(comparison.differences)} "
                     "quantities differ beyond Monte Carlo noise (all in compare.json)")
        lines += ["  " + "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    lines.append("variance reduction = (var_a + var_b) / var(a − b) per run, from the marginal variances (the honest "
                 "estimate): independent seeds would need that many times more runs for the same CI")
    return "\n".join(lines)


METHOD = {
    "pairing": "runs paired by run_index; every input shares seed, n_runs, horizon_days and engine (common random "
               "numbers)",
    "proportions": "outcome, cumulative and event (P(event within the horizon)) quantities: difference of "
                   "proportions, 95 % Bonett-Price adjusted Wald CI for paired data",
    "means": "metrics: mean of the per-run differences, 95 % t CI",
    "censoring": "first_<event>_day metrics are compared as restricted means: a run without the event counts as "
                 "the horizon (its probability is compared under event.<kind>)",
    "within_noise": "true when the 95 % CI covers 0",
    "relative_change": "difference / reference value (null when the reference is 0)",
    "variance_reduction": "(var_a + var_b) / var(a - b) per run: how many times more runs two independent-seed "
                          "batches would need for the same CI. The marginal variances give the independent-seed "
                          "variance exactly, so this is the honest estimate; 95 % CI by the delta method (log scale)",
    "variance_reduction_measured": "var(a' - b) / var(a - b), a' = the alternative rerun with seed + 1 "
                                   "(only when compare ran the scenarios itself)",
}


@reports_errors
def command(argv: Sequence[str]) -> int:
    """``python -m sim compare A B [C ...] [-- key=value ...] [--no-independent] [--workers N] [--out DIR]``."""
    parser = CommandParser(prog="python -m sim compare", description="Paired comparison of scenarios on common "
                           "random numbers. A, B, ...: results folders, or scenario names run here with the shared "
                           "overrides after '--' (e.g. -- engine=fast n_runs=20000). The first is the reference.")
    parser.add_argument("inputs", nargs="+", help="results folders, or scenario names (then key=value overrides)")
    parser.add_argument("--no-independent", action="store_true",
                        help="scenario mode: skip rerunning the alternatives with an independent seed")
    parser.add_argument("--workers", type=int, default=None, help="processes per batch (default: the config's)")
    parser.add_argument("--out", default=None, help="output folder (default results/compare_<timestamp>_<token>)")
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    overrides = argv[split + 1:] + [item for item in args.inputs if "=" in item]
    names = [item for item in args.inputs if "=" not in item]
    if len(names) < 2:
        raise ConfigError("compare: give at least two results folders or scenario names (the first is the "
                          "reference)")
    folders = [Path(name).is_dir() for name in names]
    if any(folders) and not all(folders):
        missing = names[folders.index(False)]
        raise ConfigError(f"{missing}: not a results folder, while other inputs are; give all folders or all "
                          "scenario names")
    target = output_folder("compare", args.out)
    independent = None
    if all(folders):
        if overrides:
            raise ConfigError(f"{overrides[0]}: overrides apply only when compare runs scenarios by name")
        inputs = _from_folders(names)
        labels = _unique_labels([item.label for item in inputs])
        inputs = [replace(item, label=label) for item, label in zip(inputs, labels)]
        check_common_random_numbers(inputs)
    else:
        configs = _configs(names, overrides)
        labels = _unique_labels(names)
        inputs = [_run(config, label, args.workers) for config, label in zip(configs, labels)]
        check_common_random_numbers(inputs)
        if not args.no_independent:
            independent = [_run(replace(config, seed=config.seed + 1), label, args.workers)
                           for config, label in zip(configs[1:], labels[1:])]
    reference, horizon = inputs[0], inputs[0].horizon_days
    comparisons = [compare_tables(reference.table, item.table, horizon_days=horizon, reference_name=reference.label,
                                  alternative_name=item.label,
                                  independent_alternative=None if independent is None else independent[i].table)
                   for i, item in enumerate(inputs[1:])]
    report = {
        "kind": "compare", "schema_version": SCHEMA_VERSION, "mode": "folders" if all(folders) else "scenarios",
        "reference": reference.label, "alternatives": [c.alternative for c in comparisons],
        "n_runs": reference.n_runs, "seed": reference.seed, "horizon_days": horizon, "engine": reference.engine,
        "independent_seed": None if independent is None else reference.seed + 1, "overrides": overrides,
        "inputs": [{"label": i.label, "scenario": i.scenario, "seed": i.seed, "n_runs": i.n_runs,
                    "horizon_days": i.horizon_days, "engine": i.engine, "source": i.source} for i in inputs],
        "method": METHOD,
        "comparisons": {c.alternative: {entry.quantity: entry for entry in c.differences} for c in comparisons},
    }

    def write(folder: Path) -> None:
        files = []
        for index, comparison in enumerate(comparisons):
            name = "differences_" + "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in comparison.alternative)
            chart = difference_chart(comparison, n_runs=reference.n_runs, horizon_days=horizon)
            files += [path.name for path in save_figure(chart, folder, name if name not in [f[:-4] for f in files]
                                                        else f"{name}_{index}")]
        io.write_json(folder / "compare.json", {**report, "files": ["compare.json", *files]})

    publish(target, write)
    print(_describe(comparisons))
    print(f"compare: {target}")
    return 0
