"""``python -m sim report <folder> [<folder> …]``: one self-contained HTML brief for a decision-maker.

Each folder is either a finished results folder (``manifest.json``, ``summary.json``,
``runs.parquet/``; checked by :func:`sim.results.load_results`) or an analysis folder holding a
``<kind>.json``. Results folders give the core sections (key judgements, outcomes side by side,
key metrics, figures, parameters with source cards, assumptions, run metadata); each analysis
folder gives one section, built from its JSON and with every PNG in the folder embedded. A JSON
whose ``kind`` is missing or unknown, or whose shape differs from the one below, gives a one-line
note in the brief instead of an error. Estimates are printed with their 95 % CIs wherever the JSON
holds them; keys marked ``?`` are optional.

Minimal JSON shapes read by the analysis sections (``ci95`` is ``[low, high]``)::

    compare.json     {"kind": "compare", "reference": str,
                      "comparisons": {alternative: {"<group>.<quantity>": {"reference": float,
                          "alternative": float, "difference": float, "ci95": [lo, hi],
                          "within_noise": bool, "variance_reduction"?: float}}}}
                     (or "alternatives": [{"scenario": str, "differences": [{"quantity": ..., ...}]}])
    signposts.json   {"kind": "signposts", "day": int, "outcome": str,
                      "base_rate": {"p": float, "ci95": [lo, hi]},
                      "indicators": [{"name": str, "description"?: str, "prevalence": float,
                          "n": int, "p_given": float, "ci95_given": [lo, hi], "lift": float,
                          "ci95_lift": [lo, hi], "small_n"?: bool}]}          (ranked, best first)
    sensitivity.json {"kind": "sensitivity", "method": "sobol" | "morris", "design"?: {"replications": int},
                      "indices": {output: {"parameters": {name: {"S1": float, "S1_conf": float,
                          "ST": float, "ST_conf": float}
                        | {"mu_star": float, "mu_star_conf": float, "sigma": float}}}},
                      "noise"?: {output: {"noise_share": float}}}
                     (or "outputs": {output: [{"parameter": str, ...}]})
    paths.json       {"kind": "paths", "legend"?: {code: rung or event},
                      "top_paths": {outcome: [{"path": str, "count": int, "share_of_outcome": float,
                          "ci95": [lo, hi]}]},   (or {outcome: {"paths": [...]}}, as sim.paths writes)
                      "rungs"?: {rung: {"rung": str, "p_reach": float, "p_reach_ci95": [lo, hi],
                          "visit_median": float, "visit_iqr": [q1, q3]}}}
    discover.json    {"kind": "discover", "method": str, "case": [outcome, ...], "base_rate": float,
                      "rules": [{"text": str, "coverage": float, "coverage_ci95": [lo, hi],
                          "density": float, "density_ci95": [lo, hi]}]}

Every shape may also carry ``"title"``, ``"summary"`` (a sentence shown under the heading), ``"notes"``
(a list of method notes shown under the tables) and
``"figures": [{"file": "x.png", "alt": str, "caption": str}]`` (otherwise the PNGs get generic text).

>>> bottom_line_text([], "icd203")
''
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import yaml
from markupsafe import Markup, escape

from sim import io
from sim.errors import ConfigError, ResultsError
from sim.model import OUTCOME_CLASSES, RUNGS
from sim.report_backtest import backtest_html
from sim.estimative import YARDSTICK_NAMES, estimative_words, percent_with_ci
from sim.report_sections import (KEY_METRICS, METRIC_SCALE, OUTCOME_LABELS, ScenarioRun, Section, assumptions_section,
                                 figure_from_png, html_table, key_judgements, key_judgements_section, metrics_section,
                                 outcomes_section, parameters_section, plots_section)

__all__ = ["ANALYSIS_KINDS", "AnalysisOutput", "WrittenBrief", "quantile_intervals", "load_run", "load_inputs",
           "analysis_section", "metadata_section", "bottom_line_text", "build_sections", "render_html", "write_report",
           "command"]

#: Analysis kinds in the order they appear: title, and how to make one.
ANALYSIS_KINDS = {
    "compare": ("Scenario comparison", "python -m sim compare baseline mediation_push -- engine=fast"),
    "signposts": ("Signposts: what to watch", "python -m sim signposts <results dir> --day 30"),
    "sensitivity": ("Sensitivity ranking", "python -m sim experiment=sensitivity engine=fast"),
    "paths": ("Escalation paths", "python -m sim paths <results dir>"),
    "discover": ("Scenario discovery: which parameters lead to the worst outcomes", "python -m sim discover <results dir>"),
    "backtest": ("Backtest: scored against what followed", "python -m sim backtest <timeline.csv> --as-of DATE"),
}
_NOT_ANALYSES = {"summary.json", "manifest.json", "failures.json"}
_TOP_ROWS = 12


@dataclass(frozen=True)
class AnalysisOutput:
    """An analysis folder's ``<kind>.json`` (``data`` is None when it could not be read: see ``problem``)."""

    folder: Path
    kind: str
    data: Mapping | None
    problem: str = ""
    file: str = ""


@dataclass(frozen=True)
class WrittenBrief:
    """Where the brief went, each scenario's key judgements, and the section titles."""

    path: Path
    judgements: tuple[tuple[str, tuple[str, ...]], ...]
    sections: tuple[str, ...]


def quantile_intervals(values, quantiles: Sequence[float] = (0.05, 0.5, 0.95),
                       confidence: float = 0.95) -> dict[float, tuple[float, float]]:
    """Distribution-free CI of each quantile from order statistics (binomial; coverage >= confidence).

    >>> quantile_intervals(range(1, 101), [0.5])
    {0.5: (40.0, 61.0)}
    """
    import numpy as np
    from scipy import stats

    x = np.sort(np.asarray(values, dtype=float))
    x = x[~np.isnan(x)]
    n, tail = x.size, (1.0 - confidence) / 2.0
    if n == 0:
        return {q: (float("nan"), float("nan")) for q in quantiles}
    out = {}
    for q in quantiles:
        low = max(1, int(stats.binom.ppf(tail, n, q)))
        high = min(n, int(stats.binom.ppf(1.0 - tail, n, q)) + 1)
        out[q] = (float(x[low - 1]), float(x[high - 1]))
    return out


def load_run(folder: str | Path, label: str | None = None) -> ScenarioRun:
    """A finished results folder, checked by ``load_results``; its scenario from ``config.yaml``."""
    from sim.results import load_results
    from sim.scenario import scenario_from_mapping

    folder = Path(folder)
    summary, table, manifest = load_results(folder, columns=list(KEY_METRICS))  # only what the brief reads
    quantile_ci = {key: dict(zip(("p05", "p50", "p95"), quantile_intervals(table.column(key).to_numpy()).values()))
                   for key in KEY_METRICS if key in table.column_names}
    config, scenario = {}, None
    if (folder / "config.yaml").is_file():
        try:
            config = yaml.safe_load((folder / "config.yaml").read_text(encoding="utf-8")) or {}
            scenario = scenario_from_mapping(config["scenario"]) if "scenario" in config else None
        except (yaml.YAMLError, ConfigError, TypeError, KeyError) as error:
            raise ResultsError(f"{folder / 'config.yaml'}: unreadable scenario ({' '.join(str(error).split())})") from None
    return ScenarioRun(folder, label or str(summary.get("scenario", folder.name)), summary, manifest, config, scenario,
                       quantile_ci)


def _analyses_in(folder: Path) -> list[AnalysisOutput]:
    found = []
    for path in sorted(folder.glob("*.json")):
        if path.name in _NOT_ANALYSES:
            continue
        try:
            data = io.read_json(path, "analysis")
        except ResultsError as error:
            if path.stem in ANALYSIS_KINDS:
                found.append(AnalysisOutput(folder, path.stem, None, str(error), path.name))
            continue
        kind = data.get("kind")
        if isinstance(kind, str):
            found.append(AnalysisOutput(folder, kind, data, file=path.name))
        elif path.stem in ANALYSIS_KINDS:
            found.append(AnalysisOutput(folder, path.stem, None, f"{path} has no \"kind\" key", path.name))
    return found


def load_inputs(folders: Sequence[str | Path]) -> tuple[list[ScenarioRun], list[AnalysisOutput]]:
    """Sort the folders into results folders (manifest.json) and analysis folders (<kind>.json)."""
    runs, analyses = [], []
    for folder in map(Path, folders):
        if not folder.is_dir():
            raise ResultsError(f"{folder}: no such folder")
        found = _analyses_in(folder)
        if (folder / "manifest.json").is_file():
            runs.append(load_run(folder))
        elif not found:
            raise ResultsError(f"{folder}: neither a results folder (manifest.json) nor an analysis folder "
                               f"({', '.join(k + '.json' for k in ANALYSIS_KINDS)})")
        analyses += found
    labels = [run.label for run in runs]
    runs = [dataclasses.replace(r, label=f"{r.label} ({r.folder.name})") if labels.count(r.label) > 1 else r
            for r in runs]
    return runs, analyses


# ---------------------------------------------------------------- analysis sections

def _get(row: Mapping, *names, default=None):
    for name in names:
        if isinstance(row, Mapping) and row.get(name) is not None:
            return row[name]
    return default


def _value(x, probability: bool) -> str:
    if x is None:
        return "—"
    return f"{100 * x:.1f} %" if probability else f"{x:,.3g}" if abs(x) < 100 else f"{x:,.0f}"


def _interval(ci, probability: bool = False, unit: str = "") -> str:
    if not ci or len(ci) != 2 or ci[0] is None:
        return "— (not given)"
    if probability:
        return f"{100 * ci[0]:.1f} to {100 * ci[1]:.1f}{unit or ' %'}"
    return f"{ci[0]:,.3g} to {ci[1]:,.3g}{unit}"


def _records(value) -> list[dict]:
    """Rows as a list of dicts (a dict of dicts keyed by name becomes rows with ``quantity``)."""
    if isinstance(value, Mapping):
        return [{"quantity": key, **row} for key, row in value.items() if isinstance(row, Mapping)]
    if not isinstance(value, list):
        raise TypeError(f"expected a list of rows, got {type(value).__name__}")
    return [row for row in value if isinstance(row, Mapping)]


def _compare_html(data: Mapping) -> Markup:
    shares = set(OUTCOME_CLASSES) | {"incursion_or_worse", "limited_war_or_worse"}
    headline = shares | set(KEY_METRICS)
    comparisons = data.get("comparisons")
    if isinstance(comparisons, Mapping):  # sim.compare's own layout: {alternative: {"group.quantity": row}}
        pairs = list(comparisons.items())
    else:
        pairs = [(alt.get("scenario", "?"), alt["differences"]) for alt in data["alternatives"]]
    parts, reference = [], str(data.get("reference", "reference"))
    order = ["incursion_or_worse", "limited_war_or_worse", *OUTCOME_CLASSES, *KEY_METRICS]
    rank = lambda row: order.index(q) if (q := str(row.get("quantity", "")).rpartition(".")[2]) in order else 0  # noqa: E731
    for name, differences in pairs:
        rows, omitted = [], 0
        for row in sorted(_records(differences), key=rank):
            group, _, quantity = str(_get(row, "quantity", "name", default="?")).rpartition(".")
            if quantity not in headline or group in ("event", "restricted_mean"):
                omitted += 1
                continue
            prob = quantity in shares
            scale = METRIC_SCALE.get(quantity, 1)
            diff, ci = _get(row, "difference", "diff"), _get(row, "ci95", "ci95_difference")
            ci = [v / scale for v in ci] if ci and not prob and None not in ci else ci
            rows.append([OUTCOME_LABELS.get(quantity) or KEY_METRICS.get(quantity, quantity.replace("_", " ")),
                         *(_value(None if v is None else v / scale, prob)
                           for v in (_get(row, "reference"), _get(row, "alternative"))),
                         "—" if diff is None else f"{100 * diff:+.1f} pp" if prob else f"{diff / scale:+,.3g}",
                         _interval(ci, prob, " pp" if prob else ""),
                         "within noise" if _get(row, "within_noise", "within_mc_noise") else "",
                         _value(_get(row, "variance_ratio", "variance_reduction"), False)])
        parts.append(Markup(f"<h3>{escape(name)} against {escape(reference)}</h3>"))
        parts.append(html_table(["quantity", reference, name, "difference", "95 % CI of the difference", "",
                                 "variance ratio (paired gain)"], rows, numeric=[1, 2, 3, 4, 6]))
        if omitted:
            parts.append(Markup(f'<p class="unit">{omitted} further {"quantity is" if omitted == 1 else "quantities are"} '
                                'in compare.json.</p>'))
    return Markup("".join(parts))


def _signposts_html(data: Mapping) -> Markup:
    base = data.get("base_rate") or {}
    rows = []
    for row in _records(data["indicators"])[:_TOP_ROWS]:
        n = _get(row, "n", "n_indicator")
        rows.append([_get(row, "description", "name", default="?"), _value(_get(row, "prevalence"), True),
                     _value(_get(row, "p_given", "p_outcome_given"), True),
                     _interval(_get(row, "ci95_given", "p_given_ci95"), True),
                     _value(_get(row, "lift"), False), _interval(_get(row, "ci95_lift", "lift_ci95")),
                     f"{n:,}" if isinstance(n, int) else "—", "few runs" if row.get("small_n") else ""])
    outcome = str(data.get("outcome", "the outcome")).replace("_", " ")
    intro = ""
    if "p" in base:
        intro = (f"<p>Base rate of {escape(outcome)}: {_value(base['p'], True)} "
                 f"(95 % CI {_interval(base.get('ci95'), True)}). Indicators observed by day "
                 f"{escape(data.get('day', '?'))}, ranked by lift.</p>")
    return Markup(intro) + html_table(["indicator by day " + str(data.get("day", "D")), "runs showing it",
                                       f"P({outcome} | indicator)", "95 % CI", "lift", "95 % CI of lift", "runs", ""],
                                      rows, numeric=[1, 2, 3, 4, 5, 6])


def _sensitivity_html(data: Mapping) -> Markup:
    parts = []
    morris = str(data.get("method", "")).lower() == "morris"
    indices = data.get("indices")  # sim.sensitivity's layout: {output: {"parameters": {name: row}, ...}}
    by_output = ({o: entry["parameters"] for o, entry in indices.items()} if isinstance(indices, Mapping)
                 else data["outputs"])
    for output, rows in by_output.items():
        rows = _records(rows)
        key = "mu_star" if morris else "ST"
        rows = sorted(rows, key=lambda r: -(_get(r, key, default=0) or 0))
        columns = ("mu_star", "mu_star_conf", "sigma") if morris else ("S1", "S1_conf", "ST", "ST_conf")
        show = lambda v, c: "—" if v is None else f"{'± ' if c.endswith('_conf') else ''}{v:.3g}"  # noqa: E731
        body = [[_get(row, "parameter", "name", "quantity", default="?")] + [show(_get(row, c), c) for c in columns]
                for row in rows[:_TOP_ROWS]]
        headers = (["parameter", "μ*", "95 % CI half-width", "σ"] if morris
                   else ["parameter", "first order S1", "95 % CI", "total order ST", "95 % CI"])
        more = f" ({len(rows) - _TOP_ROWS} more in sensitivity.json)" if len(rows) > _TOP_ROWS else ""
        share = _get((data.get("noise") or {}).get(output) or {}, "noise_share")
        more += "" if share is None else f"; Monte Carlo noise is {100 * share:.1f} % of the output's variance"
        parts.append(Markup(f"<h3>{escape(str(output).replace('_', ' '))}{escape(more)}</h3>"))
        parts.append(html_table(headers, body, numeric=range(1, len(headers))))
    reps = data.get("replications") or (data.get("design") or {}).get("replications")
    note = f"<p>Each design point averages {reps} runs.</p>" if reps else ""
    return Markup(note) + Markup("".join(parts))


def _paths_html(data: Mapping) -> Markup:
    parts = []
    legend = dict(data.get("legend") or {})
    for key in ("rung_codes", "event_codes"):  # sim.paths writes {name: code}
        legend.update({code: name.replace("_", " ") for name, code in (data.get(key) or {}).items()})
    if legend:
        parts.append(Markup('<p class="unit">Codes: ' + "; ".join(f"<code>{escape(k)}</code> {escape(v)}"
                                                                  for k, v in legend.items()) + "</p>"))
    rows = []
    for outcome, paths in (data["top_paths"] or {}).items():
        paths = paths.get("paths", []) if isinstance(paths, Mapping) else paths
        for i, row in enumerate(_records(paths)[:3]):
            rows.append([OUTCOME_LABELS.get(outcome, outcome) if i == 0 else "",
                         Markup(f"<code>{escape(_get(row, 'path', default='?'))}</code>"),
                         f"{_get(row, 'count', default=0):,}", _value(_get(row, "share_of_outcome", "share"), True),
                         _interval(_get(row, "ci95", "share_of_outcome_ci95"), True)])
    parts.append(html_table(["outcome", "most frequent paths", "runs", "share of the outcome's runs", "95 % CI"],
                            rows, numeric=[2, 3, 4]))
    rungs = sorted(_records(data.get("rung_times") or list((data.get("rungs") or {}).values())),
                   key=lambda r: RUNGS.index(r.get("rung")) if r.get("rung") in RUNGS else len(RUNGS))
    if rungs:
        parts.append(html_table(
            ["rung", "runs reaching it", "95 % CI", "median days per visit", "interquartile range"],
            [[str(r.get("rung", "?")).replace("_", " "), _value(_get(r, "p_reach"), True),
              _interval(_get(r, "p_reach_ci95"), True), _value(_get(r, "median_days", "visit_median"), False),
              _interval(_get(r, "iqr", "visit_iqr"))] for r in rungs], numeric=[1, 2, 3, 4]))
    return Markup("".join(parts))


def _discover_html(data: Mapping) -> Markup:
    case = ", ".join(str(c).replace("_", " ") for c in data.get("case", [])) or "the case"
    rows = [[_get(r, "text", "rule", default="?"), _value(_get(r, "coverage"), True),
             _interval(_get(r, "coverage_ci95"), True), _value(_get(r, "density"), True),
             _interval(_get(r, "density_ci95"), True)] for r in _records(data["rules"])[:_TOP_ROWS]]
    base = data.get("base_rate")
    intro = f"<p>Case: {escape(case)}; base rate {_value(base, True)}; method {escape(data.get('method', '?'))}.</p>"
    return Markup(intro) + html_table(["rule (parameter region)", "coverage", "95 % CI", "density", "95 % CI"],
                                      rows, numeric=[1, 2, 3, 4])


_ANALYSIS_HTML: dict[str, Callable[[Mapping], Markup]] = {
    "compare": _compare_html, "signposts": _signposts_html, "sensitivity": _sensitivity_html,
    "paths": _paths_html, "discover": _discover_html, "backtest": backtest_html,
}


def _analysis_figures(output: AnalysisOutput):
    described = {}
    for item in (output.data or {}).get("figures") or []:
        if isinstance(item, Mapping) and "file" in item:
            described[Path(str(item["file"])).name] = item
    figures, listed = [], list(described)
    for png in sorted(output.folder.glob("*.png"), key=lambda p: (listed.index(p.name) if p.name in listed else 99, p.name)):
        item = described.get(png.name, {})
        words = png.stem.replace("_", " ")
        figures.append(figure_from_png(png, str(item.get("alt") or f"Figure: {words} ({output.kind} analysis)"),
                                       str(item.get("caption") or words)))
    return tuple(figures)


def analysis_section(output: AnalysisOutput, key: str) -> Section:
    """The section of one analysis output; a bad or unknown one becomes a one-line note."""
    title = ANALYSIS_KINDS.get(output.kind, (f"Analysis “{output.kind}”",))[0]
    figures = _analysis_figures(output)
    where = f"{output.folder.name}/{output.file or output.kind + '.json'}"
    if output.data is None:
        return Section(key, title, figures=figures, note=f"Not shown: {output.problem}.")
    if output.kind not in _ANALYSIS_HTML:
        return Section(key, title, figures=figures,
                       note=f"{where}: kind {output.kind!r} is not one this report knows "
                            f"({', '.join(ANALYSIS_KINDS)}); only its figures are shown.")
    try:
        html = _ANALYSIS_HTML[output.kind](output.data)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as error:
        return Section(key, title, figures=figures,
                       note=f"{where}: not in the expected shape ({type(error).__name__}: {error}); "
                            "only its figures are shown.")
    notes = output.data.get("notes")
    if isinstance(notes, list) and notes:
        html += Markup('<ul class="unit">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    summary = output.data.get("summary")
    return Section(key, str(output.data.get("title") or title), html, figures,
                   note=str(summary) if summary else f"From {where}.")


# ---------------------------------------------------------------- the brief

def metadata_section(runs: Sequence[ScenarioRun], generated: Mapping[str, str]) -> Section:
    """Run metadata from each manifest (seed, engine, runs, versions, commit, config hash, dates)."""
    def row(label, get):
        return [label] + [get(run) for run in runs]

    def short(text, n=12):
        return Markup(f"<code>{escape(str(text)[:n])}</code>") if text else "—"

    rows = [
        row("folder", lambda r: Markup(f'<code class="path">{escape(r.folder.resolve())}</code>')),
        row("scenario", lambda r: r.summary.get("scenario")),
        row("created (UTC)", lambda r: r.manifest.get("created_utc", "—")),
        row("runs (skipped)", lambda r: f"{r.summary.get('n_runs', 0):,} ({r.summary.get('runs_skipped', 0)})"),
        row("horizon", lambda r: f"{r.summary.get('horizon_days', 0):g} days"),
        row("seed", lambda r: r.summary.get("seed")),
        row("engine, preset", lambda r: f"{r.summary.get('engine')}, {r.config.get('preset', '—')}"),
        row("parameters (sampling)", lambda r: f"{r.summary.get('uncertainty')} ({r.summary.get('sampling')})"),
        row("workers, executor", lambda r: f"{r.manifest.get('workers', '—')}, {r.manifest.get('executor', '—')}"),
        row("wall time", lambda r: f"{r.manifest['wall_seconds']:.1f} s" if r.manifest.get("wall_seconds") else "—"),
        row("resumed", lambda r: "yes" if r.manifest.get("resumed") else "no"),
        row("git commit", lambda r: short(r.manifest.get("git_commit"))),
        row("config.yaml sha256", lambda r: short(r.manifest.get("files", {}).get("config.yaml"))),
        row("python", lambda r: r.manifest.get("python", "—")),
    ]
    packages = sorted(set().union(*(run.manifest.get("packages", {}) for run in runs)))
    rows += [row(name, lambda r, n=name: r.manifest.get("packages", {}).get(n) or "—") for name in packages]
    headers = [""] + [run.label for run in runs]
    made = ", ".join(f"{key} {value}" for key, value in generated.items())
    return Section("metadata", "Run metadata", html_table(headers, rows, css="metadata"),
                   note=f"From each folder's manifest.json. This brief: {made}.")


def bottom_line_text(runs: Sequence[ScenarioRun], yardstick: str) -> str:
    """A few sentences: the most likely outcome, the incursion judgement per scenario, not a forecast."""
    if not runs:
        return ""
    first = runs[0].summary
    outcomes = first.get("outcomes", {})
    likely = max(outcomes, key=lambda name: outcomes[name]["p"])
    p_text, ci_text = percent_with_ci(outcomes[likely]["p"], outcomes[likely]["ci95"])
    words = estimative_words(outcomes[likely]["p"], outcomes[likely]["ci95"], yardstick).phrase
    text = (f"In the {runs[0].label} scenario ({first['n_runs']:,} simulated runs of {first['horizon_days']:g} days), "
            f"the most likely outcome is {OUTCOME_LABELS.get(likely, likely)}: {words} ({p_text}, 95 % CI {ci_text}). "
            + key_judgements(first, yardstick)[0])
    for run in runs[1:]:
        entry = run.summary.get("cumulative", {}).get("incursion_or_worse")
        if entry:
            p_text, ci_text = percent_with_ci(entry["p"], entry["ci95"])
            text += (f" Under {run.label}: {estimative_words(entry['p'], entry['ci95'], yardstick).phrase} "
                     f"({p_text}, 95 % CI {ci_text}).")
    return text + (" These are results of a scenario model, what follows if its assumptions hold, not a forecast.")


def build_sections(runs: Sequence[ScenarioRun], analyses: Sequence[AnalysisOutput], yardstick: str,
                   generated: Mapping[str, str]) -> list[Section]:
    """The brief's sections in reading order."""
    sections = []
    if runs:
        sections += [key_judgements_section(runs, yardstick), outcomes_section(runs, yardstick), metrics_section(runs)]
    order = list(ANALYSIS_KINDS) + sorted({a.kind for a in analyses} - set(ANALYSIS_KINDS))
    for kind in order:
        chosen = [a for a in analyses if a.kind == kind]
        stem = kind if kind in ANALYSIS_KINDS else "analysis-" + re.sub(r"[^A-Za-z0-9_-]", "-", kind)
        sections += [analysis_section(a, f"{stem}-{i + 1}" if i else stem) for i, a in enumerate(chosen)]
    if runs:
        sections += [plots_section(runs), parameters_section(runs), assumptions_section(runs)]
    missing = [kind for kind in ANALYSIS_KINDS if not any(a.kind == kind for a in analyses)]
    if missing:
        lines = "".join(f"<li>{escape(ANALYSIS_KINDS[k][0])}: not included; make it with "
                        f"<code>{escape(ANALYSIS_KINDS[k][1])}</code> and pass its folder.</li>" for k in missing)
        sections.append(Section("not-included", "Analyses not included", Markup(f"<ul>{lines}</ul>")))
    if runs:
        sections.append(metadata_section(runs, generated))
    return sections


def render_html(sections: Sequence[Section], *, title: str, bottom_line: str, subtitle: str = "") -> str:
    """Lay the sections out with the package's Jinja2 template (``sim/templates/brief.html.j2``)."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.PackageLoader("sim", "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    template = env.get_template("brief.html.j2")
    return template.render(title=title, subtitle=subtitle, bottom_line=bottom_line, sections=sections)


def write_report(folders: Sequence[str | Path], *, out: str | Path | None = None, yardstick: str = "icd203",
                 title: str | None = None) -> WrittenBrief:
    """Build the brief from results and analysis folders and write it atomically."""
    from sim.wep import bands

    bands(yardstick)  # an unknown yardstick is a ConfigError naming the allowed ones
    yardstick = yardstick.lower()
    if not folders:
        raise ConfigError("report: give at least one results or analysis folder")
    path = Path(out) if out is not None else Path(folders[0]) / "brief.html"
    if path.is_dir():
        raise ConfigError(f"--out: {path} is a folder; give a file name such as {path / 'brief.html'}")
    runs, analyses = load_inputs(folders)
    version = io.package_versions(["escalation-sim"])["escalation-sim"] or "unknown"
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    generated = {"made": now, "by escalation-sim": version, "yardstick": YARDSTICK_NAMES[yardstick]}
    sections = build_sections(runs, analyses, yardstick, generated)
    scenarios = ", ".join(run.label for run in runs) or "analyses only"
    title = title or "Pakistan–Afghan Taliban border conflict: scenario brief"
    subtitle = f"Scenarios: {scenarios}. Made {now}; words of estimative probability: {YARDSTICK_NAMES[yardstick]}."
    html = render_html(sections, title=title, bottom_line=bottom_line_text(runs, yardstick), subtitle=subtitle)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        io.atomic_write_text(path, html)
    except OSError as error:
        raise ConfigError(f"--out: cannot write {path} ({error.strerror or error})") from None
    return WrittenBrief(path, tuple((run.label, tuple(key_judgements(run.summary, yardstick))) for run in runs),
                        tuple(section.title for section in sections))


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit code 2, via the same path as other user mistakes
        raise ConfigError(f"report: {message}")


def command(argv: Sequence[str]) -> int:
    """``python -m sim report <folder> [<folder> …] [--yardstick icd203|phia] [--out FILE] [--title T]``."""
    parser = _Parser(prog="python -m sim report", description="Write a self-contained HTML brief from results "
                     "folders (and compare/signposts/paths/sensitivity/discover output folders).")
    parser.add_argument("folders", nargs="+", help="results folders and analysis output folders")
    parser.add_argument("--yardstick", choices=["icd203", "phia"], default="icd203",
                        help="words of estimative probability (default ICD 203)")
    parser.add_argument("--out", help="the HTML file to write (default <first folder>/brief.html)")
    parser.add_argument("--title", help="title of the brief")
    try:
        args = parser.parse_args(list(argv))
        brief = write_report(args.folders, out=args.out, yardstick=args.yardstick, title=args.title)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except SystemExit as stop:  # --help
        return stop.code if isinstance(stop.code, int) else 0
    for label, sentences in brief.judgements:
        print(f"{label}:" + "".join(f"\n  - {sentence}" for sentence in sentences))
    print(f"sections: {', '.join(brief.sections)}\nbrief: {brief.path}")
    return 0
