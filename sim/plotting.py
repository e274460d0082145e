"""Figures of a batch (outcome probabilities, outcome distributions, time to incursion, ladder fan)
and the house style every figure of the package shares (:data:`STYLE`, :func:`new_figure`, ...).

Each figure function returns a :class:`matplotlib.figure.Figure` built without pyplot (no global
state; an Agg canvas is attached, so the active backend does not matter); :func:`save_figure`
writes one as PNG and SVG, each file atomically, and :func:`save_all_plots` the batch's four.

>>> import pyarrow as pa
>>> rung_shares(pa.table({"rung_daily": [[0, 1], [0, 0]]}))[:, :2].tolist()
[[1.0, 0.0], [0.5, 0.5]]
"""

from __future__ import annotations

import io as _bytes_io
import textwrap
from pathlib import Path
from typing import Mapping, Sequence

import matplotlib
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, MaxNLocator, MultipleLocator, NullFormatter, PercentFormatter

from sim import analysis, wep
from sim.estimative import YARDSTICK_NAMES
from sim.io import atomic_write_bytes
from sim.model import OUTCOME_CLASSES, RUNGS

__all__ = [
    "OKABE_ITO",
    "STYLE",
    "DPI",
    "new_figure",
    "percent_formatter",
    "pretty_name",
    "figure_title",
    "wrap_label",
    "save_figure",
    "outcome_probabilities",
    "outcome_distributions",
    "time_to_incursion",
    "ladder_fan_chart",
    "rung_shares",
    "save_all_plots",
]

#: Okabe-Ito colour-blind-safe palette.
OKABE_ITO = {"blue": "#0072B2", "orange": "#E69F00", "sky": "#56B4E9", "green": "#009E73",
             "vermillion": "#D55E00", "purple": "#CC79A7", "yellow": "#F0E442", "black": "#000000"}
_WIDTH_IN = 10.0          # figures are ~1100 px wide at the PNG dpi
#: Resolution of the PNG files (dots per inch).
DPI = 110
#: Matplotlib settings of every figure (use with ``matplotlib.rc_context(STYLE)``).
STYLE = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
         "axes.spines.top": False, "axes.spines.right": False, "svg.hashsalt": "escalation-sim"}
_BAND_TINTS = ("#E4E4E4", "#F2F2F2")


def percent_formatter(decimals: int | None = 0) -> PercentFormatter:
    """Tick labels for shares in [0, 1] as percentages ("25 %")."""
    return PercentFormatter(xmax=1.0, decimals=decimals, symbol=" %")


def new_figure(height: float, width: float = _WIDTH_IN) -> Figure:
    """An empty figure (inches) with constrained layout and an Agg canvas: no pyplot involved."""
    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def pretty_name(name: str) -> str:
    """A snake_case name as words for a label.

    >>> pretty_name("protracted_low_intensity"), pretty_name("de_escalation")
    ('protracted low-intensity', 'de-escalation')
    """
    return name.replace("_", " ").replace("low intensity", "low-intensity").replace("de escalation", "de-escalation")


def figure_title(what: str, scenario: str | None, n_runs: int, horizon_days: float,
                 total_runs: int | None = None) -> str:
    """A title naming the scenario, the runs drawn (of how many) and the horizon."""
    if total_runs and total_runs > n_runs:
        name = f"scenario '{scenario}'" if scenario else "scenario"
        return f"{what} — {name}, first {n_runs:,} of {total_runs:,} runs, {horizon_days:g}-day horizon"
    name = f"scenario '{scenario}'" if scenario else "scenario"
    return f"{what} — {name}, {n_runs:,} runs, {horizon_days:g}-day horizon"


def wrap_label(text: str, width: int, lines: int = 3) -> str:
    """``text`` on at most ``lines`` lines of ``width`` characters, cut with " …".

    >>> wrap_label("one two three four", 9, 1)
    'one two …'
    """
    return "\n".join(textwrap.wrap(text, width, max_lines=lines, placeholder=" …"))


def calendar_axis(ax, start_date: str | None, horizon_days: float) -> None:
    """With a start date, a second x axis on top naming the calendar months of the model's days.

    Ticks fall on the first of each month (every 2nd, 3rd ... month for long horizons, at most 12),
    labelled "Nov" with the year on the first tick and on each January.
    """
    if not start_date:
        return
    start = np.datetime64(start_date, "D")
    first = start.astype("datetime64[M]") + int(start != start.astype("datetime64[M]"))  # the next 1st
    months = np.arange(first, (start + int(horizon_days) + 1).astype("datetime64[M]") + 1)
    days = (months.astype("datetime64[D]") - start).astype(int)
    months, days = months[days <= horizon_days], days[days <= horizon_days]
    step = max(1, -(-len(months) // 12))
    shown = [m.item() for m in months[::step].astype("datetime64[D]")]
    labels = [m.strftime("%b %Y") if k == 0 or m.month <= step else m.strftime("%b") for k, m in enumerate(shown)]
    top = ax.secondary_xaxis("top")
    top.set_xticks(days[::step].tolist(), labels)
    top.tick_params(labelsize=8)
    top.set_xlabel(f"calendar date (day 0 = {start_date})", fontsize=9)


def save_figure(fig: Figure, folder: str | Path, name: str) -> list[Path]:
    """Write ``fig`` as ``name``.png and ``name``.svg under ``folder`` (each atomically), then clear it."""
    paths = []
    for fmt in ("png", "svg"):
        buffer = _bytes_io.BytesIO()
        with matplotlib.rc_context(STYLE):
            fig.savefig(buffer, format=fmt, dpi=DPI, metadata={"Date": None} if fmt == "svg" else None)
        paths.append(Path(folder) / f"{name}.{fmt}")
        atomic_write_bytes(paths[-1], buffer.getvalue())
    fig.clear()                                                     # no pyplot registry: clearing frees it
    return paths


def _column(table: pa.Table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_numpy(), dtype=float)


def outcome_probabilities(summary: Mapping) -> Figure:
    """Horizontal bars of P(outcome class) with 95 % CIs over the yardstick's WEP bands."""
    with matplotlib.rc_context(STYLE):
        fig = new_figure(5.6)
        ax = fig.add_subplot()
        entries = [summary["outcomes"][c] for c in OUTCOME_CLASSES]
        y = np.arange(len(entries))[::-1].astype(float)          # most severe on top
        p = np.array([e["p"] for e in entries], dtype=float)
        lo = np.array([e["ci95"][0] for e in entries], dtype=float)
        hi = np.array([e["ci95"][1] for e in entries], dtype=float)
        table = wep.bands(summary["yardstick"])
        for i, band in enumerate(table):
            ax.axvspan(band.low, band.high, color=_BAND_TINTS[i % 2], lw=0, zorder=0)
        names = ax.secondary_xaxis("top")                           # band names, slanted so none collide
        names.set_xticks([(b.low + b.high) / 2 for b in table], [b.term for b in table], rotation=30,
                         ha="left", rotation_mode="anchor", fontsize=8, color="#444444")
        names.tick_params(axis="x", length=0, pad=2)
        names.spines["top"].set_visible(False)
        ax.barh(y, p, height=0.6, color=OKABE_ITO["blue"], zorder=2, label="share of runs")
        ax.errorbar(p, y, xerr=[p - lo, hi - p], fmt="none", ecolor="black", elinewidth=1.2,
                    capsize=4, zorder=3, label="95 % Wilson CI")
        labels = [ax.text(h + 0.012, yy, e["words"], va="center", ha="left", fontsize=9.5, zorder=4)
                  for h, yy, e in zip(hi, y, entries)]
        ax.set_xlim(0.0, 1.0)
        ax.set_ylim(-0.6, len(entries) - 0.4)
        ax.set_yticks(y, [pretty_name(c) for c in OUTCOME_CLASSES])
        ax.tick_params(axis="y", length=0)
        ax.xaxis.set_major_locator(MultipleLocator(0.1))
        ax.xaxis.set_major_formatter(percent_formatter())
        ax.set_xlabel("probability (share of runs ending in the class, %)")
        ax.set_title(figure_title("Outcome at the horizon", summary.get("scenario"), summary["n_runs"],
                             summary["horizon_days"]))
        cum = summary["cumulative"]["incursion_or_worse"]
        yardstick = YARDSTICK_NAMES.get(str(summary["yardstick"]).lower(), summary["yardstick"])
        ax.annotate(f"Conventional incursion or worse: {cum['words']}, 95 % CI "
                    f"{wep.format_percent(cum['ci95'][0])} – {wep.format_percent(cum['ci95'][1])}.\n"
                    f"Whiskers: 95 % Wilson CI; shading: {yardstick} probability bands.",
                    xy=(0, 0), xycoords="axes fraction", xytext=(0, -36), textcoords="offset points",
                    ha="left", va="top", fontsize=9)
        fig.canvas.draw()                                           # move labels that would cross the edge
        right = ax.get_window_extent().x1
        for text, low in zip(labels, lo):
            if text.get_window_extent().x1 > right:
                text.set(x=low - 0.012, ha="right", color="white")
    return fig


def _thin(n: int, max_points: int = 2000) -> np.ndarray:
    """At most ``max_points`` indices into ``range(n)``, always keeping the first and last."""
    if n <= max_points:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, max_points).round().astype(int))


def _ecdf(ax, values: np.ndarray, label: str, color: str) -> None:
    x = np.sort(values[np.isfinite(values)])
    if x.size == 0:
        return
    keep = _thin(x.size)                                            # small files even for 100k runs
    y = (keep + 1) / x.size
    median = float(np.median(x))
    ax.step(np.concatenate(([x[0]], x[keep])), np.concatenate(([0.0], y)), where="post", color=color,
            lw=1.8, label=f"{label} (median {median:,.0f})")
    ax.plot([median], [0.5], "o", color=color, ms=6, mec="white", mew=1.0, zorder=5)


def _scale_x(ax, arrays: Sequence[np.ndarray], kind: str, right: float | None = None) -> str:
    """Set the x scale of an ECDF panel; return a note for the axis label."""
    data = np.concatenate([a[np.isfinite(a)] for a in arrays])
    if data.size == 0:
        return ""
    positive = data[data > 0]
    if kind == "log" and positive.size:
        if (data <= 0).any():                                       # zeros stay visible at 0
            ax.set_xscale("symlog", linthresh=1.0, linscale=0.4)
        else:
            ax.set_xscale("log")
            decades = np.log10(positive.max() / positive.min())
            subs = (1.0, 2.0, 3.0, 5.0) if decades < 1.2 else (1.0, 2.0, 5.0) if decades <= 3 else (1.0,)
            ax.xaxis.set_major_locator(LogLocator(subs=subs))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if abs(v) >= 1 else f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        return "log scale"
    if right is not None:
        ax.set_xlim(0.0, right)
        return ""
    p99, top = np.quantile(data, 0.99), data.max()
    if top > 3 * p99 > 0:                                           # a wild tail: show the bulk
        ax.set_xlim(min(0.0, data.min()), 1.05 * p99)
        return "clipped at the 99th percentile"
    return ""


def _place_legends(axes, candidates: Sequence[str] = ("lower right", "upper left", "center right",
                                                     "center left")) -> None:
    """Put each axes' legend in the candidate spot that hides the fewest curve points."""
    legends = [ax.legend(handles=[h for h in ax.get_lines() if not h.get_label().startswith("_")], frameon=True,
                         framealpha=0.8, fontsize=8.5, handlelength=1.5, borderaxespad=0.3) for ax in axes]
    canvas = axes[0].figure.canvas
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax, legend in zip(axes, legends):
        points = np.concatenate([line.get_transform().transform(line.get_xydata()) for line in ax.get_lines()])
        if not legend.get_texts():
            legend.remove()
            continue
        hidden = []
        for loc in candidates:
            legend.set_loc(loc)
            box = legend.get_window_extent(renderer)
            hidden.append(int(((points[:, 0] >= box.x0) & (points[:, 0] <= box.x1)
                               & (points[:, 1] >= box.y0) & (points[:, 1] <= box.y1)).sum()))
        legend.set_loc(candidates[int(np.argmin(hidden))])


def outcome_distributions(table: pa.Table, summary: Mapping) -> Figure:
    """2 x 2 ECDFs of fatalities, days closed per crossing, trade loss and fatalities by category."""
    c = OKABE_ITO
    horizon = float(summary["horizon_days"])
    panels = [  # title, x label, scale, series (column, label, colour), factor
        ("Fatalities: total and TTP violence", "deaths per run", "log",
         [("fatalities_total", "total", c["black"]), ("fatalities_ttp_violence", "TTP violence", c["orange"])], 1.0),
        ("Days each crossing is closed", f"days closed (of {horizon:g})", "horizon",
         [("days_closed_torkham", "Torkham", c["blue"]), ("days_closed_chaman", "Chaman", c["vermillion"])], 1.0),
        ("Trade lost to crossing closures", "trade loss (USD million)", "linear",
         [("trade_loss_usd", "USD million", c["green"])], 1e-6),
        ("Fatalities by category", "deaths per run", "log",
         [("fatalities_pak_military", "Pakistani military", c["blue"]),
          ("fatalities_afghan_forces", "Afghan forces", c["vermillion"]),
          ("fatalities_civilians", "civilians", c["purple"])], 1.0),
    ]
    with matplotlib.rc_context(STYLE):
        fig = new_figure(7.6, 11.0)
        axes = fig.subplots(2, 2).ravel()
        for ax, (title, xlabel, kind, series, factor) in zip(axes, panels):
            arrays = [_column(table, name) * factor for name, _, _ in series]
            note = _scale_x(ax, arrays, kind, horizon if kind == "horizon" else None)
            ax.axhline(0.5, color="#999999", lw=0.8, ls=":", zorder=0)
            for values, (_, label, color) in zip(arrays, series):
                _ecdf(ax, values, label, color)
            ax.set_title(title)
            ax.set_xlabel(xlabel + (f" — {note}" if note else ""))
            ax.set_ylabel("share of runs ≤ x (%)")
            ax.set_ylim(0.0, 1.02)
            ax.yaxis.set_major_formatter(percent_formatter())
            ax.grid(True, color="#E5E5E5", lw=0.7)
        fig.suptitle(figure_title("Outcome distributions (ECDFs; dots mark medians)", summary.get("scenario"),
                             table.num_rows, horizon, summary.get("n_runs")), fontsize=12)
        _place_legends(axes)
    return fig


def _cumulative_incidence(days: np.ndarray, horizon_days: float):
    """Step coordinates of 1 - S(t), its 95 % band and the event count, from first-event days (NaN = censored)."""
    observed = np.isfinite(days)
    km = analysis.kaplan_meier(np.where(observed, days, horizon_days), observed)
    keep = _thin(km.time.size)
    s = np.asarray(km.survival)[keep]
    s_lo = np.where(np.isnan(km.ci_low), km.survival, km.ci_low)[keep]
    s_hi = np.where(np.isnan(km.ci_high), km.survival, km.ci_high)[keep]
    last = lambda a: a[-1:] if a.size else np.ones(1)                # noqa: E731
    t = np.concatenate(([0.0], km.time[keep], [horizon_days]))
    s, s_lo, s_hi = (np.concatenate(([1.0], a, last(a))) for a in (s, s_lo, s_hi))
    return t, 1.0 - s, 1.0 - s_hi, 1.0 - s_lo, int(observed.sum())


def time_to_incursion(table: pa.Table, horizon_days: float, *, scenario: str | None = None,
                      total_runs: int | None = None, start_date: str | None = None) -> Figure:
    """Cumulative probability (1 - Kaplan-Meier survival) of a first incursion by day, 95 % CI band.

    First border clash and first regional war are drawn lighter for context; the y axis is zoomed
    on the incursion curve, so a context curve may leave the top (its legend entry says so).
    """
    n = table.num_rows
    c = OKABE_ITO
    with matplotlib.rc_context(STYLE):
        fig = new_figure(5.4)
        ax = fig.add_subplot()
        t, f, f_lo, f_hi, k = _cumulative_incidence(_column(table, "first_incursion_day"), horizon_days)
        curves = {column: _cumulative_incidence(_column(table, column), horizon_days)
                  for column in ("first_clash_day", "first_regional_war_day")}
        top = max(f_hi.max(), curves["first_regional_war_day"][1].max(), 0.08) * 1.25
        top = 1.0 if top > 0.6 else float(np.ceil(top * 20) / 20)  # zoom on the incursion curve
        for column, label, color in (("first_clash_day", "first border clash", c["sky"]),
                                     ("first_regional_war_day", "first regional war", c["purple"])):
            ct, cf = curves[column][:2]
            off = f" (leaves the scale on day {ct[np.argmax(cf > top)]:.0f})" if cf.max() > top else ""
            ax.step(ct, cf, where="post", color=color, lw=1.5, ls="--",
                    label=f"{label}: {wep.format_percent(cf[-1])} by day {horizon_days:g}{off}")
        if k:
            ax.fill_between(t, f_lo, f_hi, step="post", color=c["vermillion"], alpha=0.25, lw=0,
                            label="95 % CI of the incursion curve (Greenwood, log-log)")
            main = (f"first conventional incursion: {wep.format_percent(f[-1])} by day {horizon_days:g} "
                    f"(95 % CI {wep.format_percent(f_lo[-1])} – {wep.format_percent(f_hi[-1])})")
        else:
            upper = analysis.wilson_interval(0, n)[1]
            main = (f"first conventional incursion: none in {n:,} runs "
                    f"(95 % Wilson upper bound {wep.format_percent(upper)} by day {horizon_days:g})")
            ax.annotate(f"no incursion in {n:,} runs", xy=(horizon_days / 2, 0.0), xytext=(0, 6),
                        textcoords="offset points", ha="center", va="bottom", color=c["vermillion"])
        ax.step(t, f, where="post", color=c["vermillion"], lw=2.4, label=main)
        ax.set_xlim(0.0, horizon_days)
        ax.set_ylim(-0.005 * top, top)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 5, 10]))
        ax.yaxis.set_major_formatter(percent_formatter())
        ax.grid(True, color="#E5E5E5", lw=0.7)
        ax.set_xlabel("day of the simulation")
        calendar_axis(ax, start_date, horizon_days)
        ax.set_ylabel("P(first event by day t) = 1 − Kaplan–Meier survival")
        ax.set_title(figure_title("Time to first conventional incursion", scenario, n, horizon_days, total_runs))
        handles, labels = ax.get_legend_handles_labels()
        order = list(range(len(handles)))[2:][::-1] + [0, 1]       # incursion (and its CI), then context
        fig.legend([handles[i] for i in order], [labels[i] for i in order], loc="outside lower center",
                   ncol=1, frameon=False)
    return fig


def rung_shares(table: pa.Table) -> np.ndarray:
    """Share of runs on each rung of ``RUNGS`` at the end of each day, shape (days, rungs).

    Reads the ``rung_daily`` list column (equal-length lists); every row sums to 1.

    >>> import pyarrow as pa
    >>> rung_shares(pa.table({"rung_daily": [[0, 5], [2, 5]]})).sum(axis=1).tolist()
    [1.0, 1.0]
    """
    column = table.column("rung_daily").combine_chunks()
    lengths = np.asarray(pc.list_value_length(column).to_numpy(zero_copy_only=False), dtype=float)
    if lengths.size == 0 or not np.all(lengths == lengths[0]):
        raise ValueError("rung_daily: need one equal-length list of daily rungs per run (and at least one run)")
    daily = np.asarray(column.flatten().to_numpy(zero_copy_only=False)).reshape(len(column), int(lengths[0]))
    if daily.size and (daily.min() < 0 or daily.max() >= len(RUNGS)):
        raise ValueError(f"rung_daily: rung indices must be in 0..{len(RUNGS) - 1}")
    return np.stack([(daily == r).mean(axis=0) for r in range(len(RUNGS))], axis=1)


def _rung_colours() -> list:
    cmap = matplotlib.colormaps["YlOrRd"]
    return [cmap(x) for x in np.linspace(0.12, 0.95, len(RUNGS))]


def ladder_fan_chart(table: pa.Table | None, horizon_days: float, *, scenario: str | None = None,
                     shares: np.ndarray | None = None, n_runs: int | None = None,
                     start_date: str | None = None) -> Figure:
    """Stacked shares of runs on each escalation rung by day (calm at the bottom, severe on top).

    ``shares`` (days x rungs) may come from aggregated counts instead of a table of runs."""
    shares = rung_shares(table) if shares is None else np.asarray(shares, dtype=float)
    n_runs = table.num_rows if n_runs is None else n_runs
    days = np.arange(1, shares.shape[0] + 1)
    with matplotlib.rc_context(STYLE):
        fig = new_figure(5.4)
        ax = fig.add_subplot()
        labels = [f"{pretty_name(r)} ({wep.format_percent(share)})" for r, share in zip(RUNGS, shares[-1])]
        ax.stackplot(days, shares.T, labels=labels, colors=_rung_colours(),
                     edgecolor="white", linewidth=0.3)
        ax.set_xlim(days[0], days[-1] + (days.size == 1))
        ax.set_ylim(0.0, 1.0)
        ax.yaxis.set_major_formatter(percent_formatter())
        ax.set_xlabel("day of the simulation (rung in force at the end of the day)")
        calendar_axis(ax, start_date, horizon_days)
        ax.set_ylabel("share of runs on the rung (%)")
        ax.set_title(figure_title("Escalation ladder over time", scenario, n_runs, horizon_days))
        handles, labels = ax.get_legend_handles_labels()
        fig.legend(handles[::-1], labels[::-1], loc="outside right upper", frameon=False,
                   title=f"rung (share on day {days[-1]})")
    return fig


def save_all_plots(results, folder: str | Path) -> list[Path]:
    """Write the four figures of ``results`` as PNG and SVG under ``folder``; return the paths."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary, table = results.summary, results.table
    horizon, scenario = results.config.horizon_days, summary.get("scenario")
    stats = getattr(results, "stats", None)
    total = summary.get("n_runs", table.num_rows)
    start_date = summary.get("start_date")
    if stats is not None and stats.n_runs:  # the fan chart from every run's aggregated daily counts
        fan = lambda: ladder_fan_chart(None, horizon, scenario=scenario, start_date=start_date,  # noqa: E731
                                       shares=stats.rung_day_counts / stats.n_runs, n_runs=stats.n_runs)
    else:
        fan = lambda: ladder_fan_chart(table, horizon, scenario=scenario, start_date=start_date)  # noqa: E731
    builders = {
        "outcomes": lambda: outcome_probabilities(summary),
        "distributions": lambda: outcome_distributions(table, summary),
        "time_to_incursion": lambda: time_to_incursion(table, horizon, scenario=scenario, total_runs=total,
                                                       start_date=start_date),
        "ladder_fan": fan,
    }
    written = []
    for name, build in builders.items():
        written += save_figure(build(), folder, name)
    return written
