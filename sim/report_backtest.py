"""The brief's backtest section, from a ``backtest.json`` (kind "backtest", written by :mod:`sim.backtest`).

Shape read (keys marked ``?`` optional)::

    {"kind": "backtest", "start_state": null | {as_of: start record (sim.start.start_record)},
     "start_state_note"?: str, "start_state_rules"?: [str], "scenario": str, "n_runs": int,
     "as_of": [date], "scores": {"binary": {forecaster: {"n": int, "brier": float, "log": float,
         "brier_mc_se_bound"?: float, "model_minus_this_brier"?: {"mean": float, "se": float | null}}},
       "counts": {question: {forecaster: {"n": int, "crps": float, "ignorance": float}}}},
     "binary": [{"text": str, "as_of": date, "observed": 0 | 1, "forecasts": {forecaster: {"p": float,
         "ci95"?: [lo, hi]}}}],
     "counts"?: [{"text": str, "as_of": date, "observed": int, "forecasts": {forecaster: {"mean": float,
         "crps": float, "ignorance": float}}}], "notes"?: [str], "figures"?: [...]}

>>> from markupsafe import Markup
>>> isinstance(backtest_html({"start_state": None, "scores": {"binary": {}, "counts": {}}, "binary": []}), Markup)
True
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from markupsafe import Markup, escape

from sim.report_sections import Section, figure_from_png, html_table

__all__ = ["backtest_html", "backtest_section"]

_NAMES = {"model": "the model", "climatology": "climatology", "persistence": "persistence (last window)",
          "poisson_trailing": "Poisson at the trailing rate"}
_TITLE = "Backtest: scored against what followed"


def _num(x, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def _pct(x) -> str:
    return "—" if x is None else f"{100 * x:.0f} %"


def _ordered(names) -> list:
    """Forecasters in a fixed order (the model first); the JSON's key order is not kept."""
    order = list(_NAMES)
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def _start_rows(states: Mapping) -> list:
    rows = []
    for as_of, record in states.items():
        shut = ", ".join(f"{c} {s['state']} ({s['since_days']:g} d)" for c, s in (record.get("crossings") or {}).items())
        ceasefire, talks = record.get("ceasefire_since_days"), record.get("mediation")
        rows.append([as_of, str(record["rung"]).replace("_", " "), shut or "open",
                     "—" if ceasefire is None else f"{ceasefire:g} d", len(record.get("recent_attack_days_ago") or []),
                     "—" if not talks else str(talks["mediator"])])
    return rows


def backtest_html(data: Mapping) -> Markup:
    """Tables of a backtest: the start states (or the caution of older files without), pooled scores, then each forecast."""
    parts = []
    states = data.get("start_state")
    if states is None:
        note = data.get("start_state_note") or "runs start from the scenario's initial state, not the observed situation"
        note = str(note).rstrip(".")
        parts.append(Markup(f"<p><strong>Caution:</strong> {escape(note)}.</p>"))
    else:
        parts.append(Markup("<h3>Situation at each as-of date (the runs' start, derived from the timeline)</h3>"))
        parts.append(html_table(["as of", "rung", "crossings shut (for)", "ceasefire in force (for)",
                                 "recent attacks", "talks under way"], _start_rows(states), numeric=[4]))
        rules = data.get("start_state_rules")
        if isinstance(rules, list) and rules:
            parts.append(Markup("<p>Derivation rules: " + escape("; ".join(str(r) for r in rules)) + ".</p>"))
    binary = data["scores"]["binary"]
    rows = []
    for name in _ordered(binary):
        entry = binary[name]
        diff = entry.get("model_minus_this_brier") or {}
        mc = entry.get("brier_mc_se_bound")
        rows.append([_NAMES.get(name, name), entry["n"], _num(entry["brier"]) + (f" ± {mc:.3f}" if mc else ""),
                     _num(entry["log"]),
                     "" if not diff else f"{diff['mean']:+.3f}" + (f" (SE {diff['se']:.3f})" if diff.get("se") else "")])
    parts.append(Markup("<h3>Binary events within windows (lower is better)</h3>"))
    parts.append(html_table(["forecaster", "forecasts", "mean Brier (± model MC SE)", "mean log score (nats)",
                             "model minus this, Brier"], rows, numeric=[1, 2, 3, 4]))
    forecasts = data.get("binary") or []
    if forecasts:
        names = _ordered(set(n for f in forecasts for n in f["forecasts"]))
        rows = [[f["text"], f["as_of"], "yes" if f["observed"] else "no",
                 *(_pct(f["forecasts"][n]["p"]) if n in f["forecasts"] else "—" for n in names)] for f in forecasts]
        parts.append(html_table(["question", "as of", "happened", *(_NAMES.get(n, n) for n in names)], rows,
                                numeric=range(3, 3 + len(names))))
    counts = data["scores"].get("counts") or {}
    if counts:
        rows = [[question.replace("_", " "), _NAMES.get(name, name), entry["n"], _num(entry["crps"], 2),
                 _num(entry["ignorance"], 2)]
                for question, by_name in counts.items() for name, entry in
                ((n, by_name[n]) for n in _ordered(by_name))]
        parts.append(Markup("<h3>Counts (CRPS in the count's units; ignorance in bits; lower is better)</h3>"))
        parts.append(html_table(["count", "forecaster", "forecasts", "mean CRPS", "mean ignorance"], rows,
                                numeric=[2, 3, 4]))
    return Markup("".join(parts))


def backtest_section(analysis, key: str = "backtest") -> Section:
    """The brief's section for one analysis folder holding ``backtest.json`` (a :class:`sim.report.AnalysisOutput`)."""
    data = analysis.data
    folder = Path(analysis.folder)
    described = {Path(str(f.get("file"))).name: f for f in (data or {}).get("figures") or [] if isinstance(f, Mapping)}
    figures = tuple(figure_from_png(png, str(described.get(png.name, {}).get("alt") or png.stem.replace("_", " ")),
                                    str(described.get(png.name, {}).get("caption") or ""))
                    for png in sorted(folder.glob("*.png")))
    if data is None:
        return Section(key, _TITLE, figures=figures, note=f"Not shown: {analysis.problem}.")
    try:
        html = backtest_html(data)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        return Section(key, _TITLE, figures=figures, note=f"{folder.name}/backtest.json: not in the expected shape "
                                                           f"({type(error).__name__}: {error}); only its figures are shown.")
    notes = data.get("notes")
    if isinstance(notes, list) and notes:
        html += Markup('<ul class="unit">' + "".join(f"<li>{escape(n)}</li>" for n in notes) + "</ul>")
    return Section(key, str(data.get("title") or _TITLE), html, figures, note=str(data.get("summary") or ""))
