"""Sections of the decision brief: one builder per core section (the wording: :mod:`sim.estimative`).

A :class:`Section` is what the template lays out: an anchor ``key``, a ``title``, a body of
ready-escaped ``html`` and embedded ``figures``. The core builders here take the loaded results
folders (:class:`ScenarioRun`); the analysis builders and the command are in :mod:`sim.report`.
Every estimate is printed with its 95 % Monte Carlo interval.

>>> estimative_sentence("Pakistan launches a conventional incursion or worse within 365 days",
...                     0.27, (0.26, 0.28))
'It is unlikely (27 %, 95 % CI 26–28 %) that Pakistan launches a conventional incursion or worse within 365 days.'
"""

from __future__ import annotations

import base64
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from markupsafe import Markup, escape

from sim.estimative import YARDSTICK_NAMES, estimative_sentence, estimative_words, percent_with_ci
from sim.model import OUTCOME_CLASSES

__all__ = ["Figure", "Section", "ScenarioRun", "html_table", "figure_from_png", "markdown_bullets", "KEY_JUDGEMENTS", "KEY_METRICS",
           "METRIC_SCALE", "OUTCOME_LABELS", "key_judgements", "key_judgements_section", "outcomes_section", "metrics_section",
           "plots_section", "parameters_section", "assumptions_section"]

OUTCOME_LABELS = {
    "regional_war": "regional war (Iran or China drawn in)",
    "conventional_incursion": "conventional incursion",
    "limited_war": "limited war (ground operation)",
    "protracted_low_intensity": "protracted low-intensity conflict",
    "de_escalation": "de-escalation (ceasefire holds, crossings open)",
    "incursion_or_worse": "conventional incursion or worse",
    "limited_war_or_worse": "open war (limited war or worse)",
}
EVENT_LABELS = {
    "mass_casualty_attack": "mass-casualty attack", "strike": "Pakistani cross-border strike",
    "decapitation_strike": "decapitation strike (TTP leaders in a city)", "retaliation": "Taliban retaliation",
    "clash": "border clash", "seizure": "seizure of border posts", "closure": "crossing closed",
    "mediation_offer": "mediation offer", "china_mediation_offer": "Chinese mediation offer",
    "ceasefire": "ceasefire agreed", "ceasefire_collapse": "ceasefire collapse",
    "attack_on_chinese_nationals": "attack on Chinese nationals", "incursion": "conventional incursion",
    "regional_war": "regional war",
}
#: The key judgements: (summary group, class, clause with the horizon in days as ``{h}`` and, when
#: the run has a start date, its calendar end as ``{by}`` / ``{to}`` (else empty)).
KEY_JUDGEMENTS = (
    ("cumulative", "incursion_or_worse", "Pakistan launches a conventional incursion or worse within {h} days{by}"),
    ("cumulative", "limited_war_or_worse", "the conflict reaches open war (limited war or worse) within {h} days{by}"),
    ("outcomes", "protracted_low_intensity", "protracted low-intensity conflict persists through {h} days{to}"),
    ("outcomes", "de_escalation", "the conflict de-escalates within {h} days{by} (a ceasefire holds and both "
                                  "crossings are open at the end)"),
)


@dataclass(frozen=True)
class Figure:
    """An embedded image: a data URI, its alt text and a caption."""

    data_uri: str
    alt: str
    caption: str = ""


@dataclass(frozen=True)
class Section:
    """One part of the brief: anchor key, title, escaped HTML body (or ``context`` for the template's
    macro named ``key``), figures, an optional one-line note."""

    key: str
    title: str
    html: str = ""
    figures: tuple[Figure, ...] = ()
    note: str = ""
    context: Mapping | None = None


@dataclass(frozen=True)
class ScenarioRun:
    """A finished results folder as the brief needs it (the run rows are not kept)."""

    folder: Path
    label: str
    summary: Mapping
    manifest: Mapping
    config: Mapping = field(default_factory=dict)
    scenario: object | None = None  # sim.scenario.Scenario, None when config.yaml has none
    quantile_ci: Mapping = field(default_factory=dict)  # metric -> {"p05": (lo, hi), "p50": ..., "p95": ...}


# ---------------------------------------------------------------- HTML helpers

def _cell(value) -> str:
    return str(value) if isinstance(value, Markup) else str(escape("" if value is None else value))


def html_table(headers: Sequence, rows: Iterable[Sequence], *, numeric: Iterable[int] = (), css: str = "",
               grouped: bool = False) -> Markup:
    """An HTML table; cells are escaped unless already Markup; ``numeric`` columns right-aligned.

    With ``grouped``, ``rows`` is a sequence of groups of rows, each group its own ``<tbody>``.

    >>> str(html_table(["a", "b"], [["<x>", Markup("<b>1</b>")]], numeric=[1])).split("</thead>")[1]
    '<tbody><tr><td>&lt;x&gt;</td><td class="num"><b>1</b></td></tr></tbody></table>'
    """
    num = set(numeric)
    cls = lambda i: ' class="num"' if i in num else ""  # noqa: E731
    head = "".join(f"<th{cls(i)}>{_cell(h)}</th>" for i, h in enumerate(headers))
    groups = rows if grouped else [rows]
    body = "".join("<tbody>" + "".join("<tr>" + "".join(f"<td{cls(i)}>{_cell(c)}</td>" for i, c in enumerate(row))
                                       + "</tr>" for row in group) + "</tbody>" for group in groups)
    attr = f' class="{escape(css)}"' if css else ""
    return Markup(f"<table{attr}><thead><tr>{head}</tr></thead>{body}</table>")


def figure_from_png(path: Path, alt: str, caption: str = "") -> Figure:
    """Embed a PNG file as a base64 data URI."""
    data = base64.b64encode(Path(path).read_bytes()).decode("ascii")
    return Figure(f"data:image/png;base64,{data}", alt, caption)


def _number(x: float | None) -> str:
    """Three significant figures or so; whole numbers (counts, percentiles of counts) without decimals."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    if float(x).is_integer() or abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}" if abs(x) >= 10 else f"{x:.2f}"


def _proportion_cell(entry: Mapping, n: int, yardstick: str) -> Markup:
    p_text, ci_text = percent_with_ci(entry["p"], entry["ci95"])
    words = estimative_words(entry["p"], entry["ci95"], yardstick).label
    return Markup(f'<span class="p">{p_text}</span> <span class="ci">({escape(ci_text)})</span><br>'
                  f'<span class="words">{escape(words)}</span> <span class="count">· {entry["count"]:,} of {n:,}</span>')


def _label(name: str) -> str:
    return OUTCOME_LABELS.get(name, name.replace("_", " "))


# ---------------------------------------------------------------- core sections

def horizon_end(summary: Mapping) -> str | None:
    """The calendar day the horizon ends (ISO), when the run has a start date; else None.

    >>> horizon_end({"start_date": "2025-10-13", "horizon_days": 365})
    '2026-10-13'
    """
    from datetime import date, timedelta

    start = summary.get("start_date")
    if not start:
        return None
    return (date.fromisoformat(start) + timedelta(days=float(summary["horizon_days"]))).isoformat()


def key_judgements(summary: Mapping, yardstick: str = "icd203") -> list[str]:
    """The key judgement sentences of one run's summary (those whose class it holds); with a start
    date, the horizon's calendar end is named too."""
    horizon = f"{summary['horizon_days']:g}"
    end = horizon_end(summary)
    dates = {"by": f", by {end}" if end else "", "to": f", to {end}" if end else ""}
    sentences = []
    for group, name, clause in KEY_JUDGEMENTS:
        entry = summary.get(group, {}).get(name)
        if entry:
            sentences.append(estimative_sentence(clause.format(h=horizon, **dates), entry["p"], entry["ci95"],
                                                 yardstick))
    return sentences


def key_judgements_section(runs: Sequence[ScenarioRun], yardstick: str) -> Section:
    """The four key judgements per scenario, in the chosen yardstick's words."""
    parts = []
    for run in runs:
        items = "".join(f"<li>{escape(sentence)}</li>" for sentence in key_judgements(run.summary, yardstick))
        head = f"<h3>Scenario {escape(run.label)}</h3>" if len(runs) > 1 else ""
        parts.append(f'{head}<ul class="judgements">{items}</ul>')
    note = (f"Words follow the {YARDSTICK_NAMES[yardstick]} yardstick; numbers are shares of simulated runs with "
            "95 % Monte Carlo intervals. Cumulative classes add the more severe classes.")
    return Section("judgements", "Key judgements", Markup("".join(parts)), note=note)


def first_day_text(summary: Mapping, event: str) -> str:
    """The median first day of an event over the runs where it happened, with its calendar date
    when the run has a start date ("—" when it never happened).

    >>> first_day_text({"metrics": {"first_strike_day": {"p50": 36.6, "p50_date": "2025-11-18"}}}, "strike")
    'day 36.6 (2025-11-18)'
    """
    metric = summary.get("metrics", {}).get(f"first_{event}_day") or {}
    if metric.get("p50") is None:
        return "—"
    date = metric.get("p50_date")
    return f"day {metric['p50']:.1f}" + (f" ({date})" if date else "")


def _proportion_table(runs: Sequence[ScenarioRun], rows: Sequence[tuple[str, str, str]], yardstick: str,
                      first_header: str, *, first_days: bool = False) -> Markup:
    """Rows (group, key, label): one column group per scenario, side by side; ``first_days`` adds
    (one scenario) the median first day of each event and its calendar date."""
    if len(runs) == 1:
        run = runs[0]
        n = run.summary["n_runs"]
        body = []
        for group, key, label in rows:
            entry = run.summary.get(group, {}).get(key)
            if entry:
                p_text, ci_text = percent_with_ci(entry["p"], entry["ci95"])
                body.append([label, p_text, ci_text, estimative_words(entry["p"], entry["ci95"], yardstick).label,
                             f"{entry['count']:,} of {n:,}"] + ([first_day_text(run.summary, key)] if first_days else []))
        headers = [first_header, "probability", "95 % CI (Monte Carlo)", f"in words ({YARDSTICK_NAMES[yardstick]})",
                   "runs"] + (["median first day, when it happens"] if first_days else [])
        return html_table(headers, body, numeric=[1, 2, 4])
    body = []
    for group, key, label in rows:
        cells = [label]
        for run in runs:
            entry = run.summary.get(group, {}).get(key)
            cells.append(_proportion_cell(entry, run.summary["n_runs"], yardstick) if entry else "—")
        body.append(cells)
    return html_table([first_header] + [run.label for run in runs], body, css="side-by-side")


def outcomes_section(runs: Sequence[ScenarioRun], yardstick: str) -> Section:
    """Outcome classes and cumulative tails (side by side for several scenarios), then key events."""
    rows = [("outcomes", name, _label(name)) for name in OUTCOME_CLASSES]
    rows += [("cumulative", name, _label(name)) for name in ("incursion_or_worse", "limited_war_or_worse")]
    seen = set().union(*(run.summary.get("event_within_horizon", {}) for run in runs))
    events = [e for e in EVENT_LABELS if e in seen] + sorted(seen - set(EVENT_LABELS))
    horizon = runs[0].summary["horizon_days"]
    end = horizon_end(runs[0].summary) if len(runs) == 1 else None
    html = (_proportion_table(runs, rows, yardstick, "outcome at the horizon")
            + Markup(f"<h3>Events at least once within {horizon:g} days{f' (to {end})' if end else ''}</h3>")
            + _proportion_table(runs, [("event_within_horizon", e, EVENT_LABELS.get(e, e.replace("_", " "))) for e in events],
                                yardstick, "event", first_days=True))
    note = ("Each run ends in exactly one class, the most severe rung it reached; de-escalation needs a ceasefire "
            "holding and both crossings open at the horizon. Intervals are 95 % Wilson intervals (Monte Carlo error).")
    return Section("outcomes", "Outcomes", html, note=note)


#: Headline metrics (summary key: label); trade loss is shown in USD million.
KEY_METRICS = {
    "fatalities_total": "deaths, all causes", "fatalities_ttp_violence": "deaths in militant violence inside Pakistan",
    "fatalities_pak_military": "Pakistani soldiers killed", "fatalities_afghan_forces": "Afghan Taliban forces killed",
    "fatalities_civilians": "civilians killed in strikes, clashes and combat",
    "attacks": "TTP attacks inside Pakistan", "strikes": "Pakistani cross-border strikes", "clashes": "border clashes",
    "ceasefires": "ceasefires agreed", "days_under_ceasefire": "days under a ceasefire",
    "days_closed_torkham": "days Torkham closed to trade", "days_closed_chaman": "days Chaman closed to trade",
    "trade_loss_usd": "trade lost to closures, USD million",
}
METRIC_SCALE = {"trade_loss_usd": 1e6}


def metrics_section(runs: Sequence[ScenarioRun]) -> Section:
    """Headline per-run metrics: mean with its 95 % CI, and the 5th, 50th and 95th percentiles."""
    groups = []
    for key, label in KEY_METRICS.items():
        group, scale = [], METRIC_SCALE.get(key, 1)
        for run in runs:
            m = run.summary.get("metrics", {}).get(key)
            if not m or m.get("mean") is None:
                continue
            lo, hi = (None if v is None else v / scale for v in m["ci95_mean"])
            cells = [label if not group else ""] + ([run.label] if len(runs) > 1 else [])
            cells += [_number(m["mean"] / scale), f"{_number(lo)}–{_number(hi)}"]
            for q in ("p05", "p50", "p95"):
                ci = run.quantile_ci.get(key, {}).get(q)
                text = _number(None if m[q] is None else m[q] / scale)
                if ci is not None:
                    text += f'<br><span class="ci">{_number(ci[0] / scale)}–{_number(ci[1] / scale)}</span>'
                cells.append(Markup(text) if ci is not None else text)
            group.append(cells)
        if group:
            groups.append(group)
    headers = ["per run, over the horizon"] + (["scenario"] if len(runs) > 1 else [])
    headers += ["mean", "95 % CI of the mean", "5th pct", "median", "95th pct"]
    k = 2 if len(runs) > 1 else 1
    note = ("Percentiles show the spread between runs, i.e. the range of futures the model produces. The small "
            "ranges are 95 % Monte Carlo intervals: a t interval for the mean, order-statistic intervals for the "
            "percentiles.")
    table = html_table(headers, groups, numeric=range(k, k + 5), grouped=True, css="grouped")
    return Section("metrics", "Key metrics", table, note=note)


_PLOT_TEXT = {
    "outcomes": ("Bar chart of the probability of each outcome class with 95 % CI whiskers over the yardstick bands",
                 "Outcome probabilities with 95 % CIs"),
    "distributions": ("Four cumulative distribution curves: fatalities, days each crossing is closed, trade lost, "
                      "fatalities by category", "Distributions of per-run outcomes (ECDFs)"),
    "time_to_incursion": ("Cumulative probability of a conventional incursion by day, with its confidence band",
                          "Time to a conventional incursion"),
    "ladder_fan": ("Stacked area chart of the share of runs on each rung of the escalation ladder, day by day",
                   "Share of runs on each escalation rung over time"),
}


def plots_section(runs: Sequence[ScenarioRun]) -> Section:
    """The run's own figures (``plots/*.png``), embedded."""
    figures, missing = [], []
    for run in runs:
        pngs = sorted((run.folder / "plots").glob("*.png"),
                      key=lambda p: (list(_PLOT_TEXT).index(p.stem) if p.stem in _PLOT_TEXT else 99, p.name))
        if not pngs:
            missing.append(run.label)
        for png in pngs:
            alt, caption = _PLOT_TEXT.get(png.stem, (f"Figure {png.stem.replace('_', ' ')}", png.stem.replace("_", " ")))
            figures.append(figure_from_png(png, f"{alt} (scenario {run.label})", f"{caption} — scenario {run.label}"))
    note = f"No plots in the results folder of {', '.join(missing)} (run with plots=true)." if missing else ""
    return Section("figures", "Figures", figures=tuple(figures), note=note)


def _breakable(name: str) -> Markup:
    """An identifier that may wrap after its underscores."""
    return Markup(str(escape(name)).replace("_", "_<wbr>"))


def _card_anchor(card_id: str) -> str:
    return "card-" + re.sub(r"[^A-Za-z0-9_-]", "-", card_id)


def _parameter_rows(parameters: Sequence, cards: Mapping) -> list[list]:
    from types import SimpleNamespace

    from sim.model import CATALOGUE
    from sim.provenance import parameter_rows

    specs = {spec.name: spec for spec in parameters}
    rows = []
    for row in parameter_rows(SimpleNamespace(parameters=tuple(parameters))):
        info = CATALOGUE.get(row["name"])
        name = Markup(f"<code>{_breakable(row['name'])}</code>")
        if info is not None:
            name += Markup(f'<br><span class="unit">{escape(info.meaning)} ({escape(info.unit)})</span>')
        span = "fixed"
        if row["range"] is not None:
            span = f"{row['range'][0]:.4g} – {row['range'][1]:.4g} ({row['dist']})"
        if row["term"]:
            span += f"; “{row['term']}”"
        source = Markup("<em>assumption</em>") if row["source"] == "assumption" else (
            Markup(f'<a href="#{_card_anchor(row["source"])}">{_breakable(row["source"])}</a>') if row["source"] in cards
            else row["source"])
        spec = specs[row["name"]]
        evidence = Markup(f'<q>{escape(spec.quote)}</q>') if spec.quote else Markup("")
        if spec.figure:
            evidence += Markup(f'{"<br>" if spec.quote else ""}<span class="unit">{escape(spec.figure)}</span>')
        rows.append([name, f"{row['value']:.4g}", span, source, evidence,
                     Markup(f'<span class="derivation">{escape(" ".join(row["derivation"].split()))}</span>')])
    return rows


def parameters_section(runs: Sequence[ScenarioRun]) -> Section:
    """The first scenario's parameters with sources and quotes, other scenarios' differences, the cards."""
    from sim.provenance import load_cards, normalise

    try:
        cards = load_cards()
    except Exception:  # noqa: BLE001 - a broken card must not stop the brief; said in the note
        cards = {}
    headers = ["parameter", "value", "range (distribution)", "source", "evidence", "derivation"]
    parts, cited = [], {}
    base = runs[0]
    if base.scenario is None:
        return Section("parameters", "Parameters and sources", note=f"{base.folder}: no scenario in config.yaml.")
    parts.append(html_table(headers, _parameter_rows(base.scenario.parameters, cards), numeric=[1], css="parameters"))
    for spec in base.scenario.parameters:
        cited.setdefault(spec.source, {}).setdefault(spec.quote, set()).add(spec.name)
    for run in runs[1:]:
        if run.scenario is None:
            continue
        before = {spec.name: spec for spec in base.scenario.parameters}
        changed = [spec for spec in run.scenario.parameters if before.get(spec.name) != spec]
        for spec in run.scenario.parameters:
            cited.setdefault(spec.source, {}).setdefault(spec.quote, set()).add(spec.name)
        if changed:
            parts.append(Markup(f"<h3>Scenario {escape(run.label)}: parameters that differ from "
                                f"{escape(base.label)}</h3>"))
            parts.append(html_table(headers, _parameter_rows(changed, cards), numeric=[1], css="parameters"))
    parts.append(Markup("<h3>Source cards</h3>"))
    for card_id in sorted(c for c in cited if c in cards):
        card, items = cards[card_id], []
        for quote, names in sorted(cited[card_id].items()):
            if quote:
                users = ", ".join(f"<code>{escape(name)}</code>" for name in sorted(names))
                items.append(f"<li><q>{escape(quote)}</q> <span class=\"unit\">→ {users}</span></li>")
        others = len({normalise(q) for q in card.quotes if q}) - len(items)
        more = f'<p class="unit">{others} further quotes on the card, seeds/{escape(card_id)}.yaml.</p>' if others > 0 else ""
        meta = " · ".join(escape(x) for x in (card.kind, card.outlet, card.citation) if x)
        parts.append(Markup(f'<div class="card" id="{_card_anchor(card_id)}"><h4>{escape(card.title)}</h4>'
                            f'<p class="unit"><code>{escape(card_id)}</code> · {meta}</p><ul>{"".join(items)}</ul>'
                            f'{more}</div>'))
    note = ("Every sourced parameter quotes its source card (the evidence column); each card below lists the "
            "phrases the parameters rest on. Parameters marked assumption have no source and are the model-builders' "
            "judgement.")
    if not cards:
        note += " The source cards (seeds/) were not found, so only their ids are shown."
    return Section("parameters", "Parameters and sources", Markup("".join(parts)), note=note)


def _markdown_inline(text: str) -> Markup:
    html = str(escape(" ".join(text.split())))
    html = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", html)
    html = re.sub(r"\*(.+?)\*", r"<em>\1</em>", html)
    return Markup(re.sub(r"`(.+?)`", r"<code>\1</code>", html))


def markdown_bullets(text: str, heading: str) -> list[Markup]:
    """The bullet points under a Markdown heading (up to the next heading), as inline HTML.

    >>> [str(b) for b in markdown_bullets("## A\\n- one *x*\\n  more\\n- two\\n## B\\n- no", "A")]
    ['one <em>x</em> more', 'two']
    """
    lines, items, inside = text.splitlines(), [], False
    for line in lines:
        if line.startswith("#"):
            inside = line.lstrip("#").strip().startswith(heading)
            continue
        if not inside:
            continue
        if line.startswith("- "):
            items.append(line[2:])
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    return [_markdown_inline(item) for item in items]


def assumptions_section(runs: Sequence[ScenarioRun]) -> Section:
    """Caveats (prose in the template), the count of unsourced parameters, and the seeds' notes on gaps."""
    from sim.provenance import SEEDS_DIR

    readme = SEEDS_DIR / "README.md"
    text = readme.read_text(encoding="utf-8") if readme.is_file() else ""
    context = {
        "n_assumed": sum(s.source == "assumption" for s in runs[0].scenario.parameters) if runs[0].scenario else 0,
        "fixed": [run.label for run in runs if run.summary.get("uncertainty") == "fixed"],
        "not_in_seeds": markdown_bullets(text, "Not in the seeds"),
        "not_verified": markdown_bullets(text, "Not verified"),
    }
    return Section("assumptions", "Assumptions and caveats", context=context,
                   note="The lists below are the project's notes on its sources (seeds/README.md)." if text else "")


