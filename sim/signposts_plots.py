"""Figures of signposts: how much each indicator seen by day D moves the odds (lift), and the
outcome distribution of the runs matching what was observed (see :mod:`sim.signposts`)."""

from __future__ import annotations

import math
from typing import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from sim import wep
from sim.plotting import OKABE_ITO, STYLE, new_figure, percent_formatter, pretty_name, wrap_label
from sim.results import CUMULATIVE
from sim.signposts import INDICATORS, OUTCOMES, ConditionResult, SignpostReport, watch_list

__all__ = ["lift_figure", "condition_figure"]

_LIFT_TICKS = (0.1, 0.2, 0.3, 0.5, 0.7, 1, 1.5, 2, 3, 5, 7, 10, 20, 50, 100)
_WIDE_LIFT_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)   # lifts over > 20x: no crowding


def lift_figure(report: SignpostReport, outcomes: Sequence[str] = ("incursion_or_worse", "limited_war_or_worse"),
                *, scenario: str | None = None) -> Figure:
    """Lift (95 % CI, log scale) of each indicator, one panel per outcome, ranked as in the watch list."""
    order = [s.indicator for s in watch_list(report, outcomes[0])]
    colours = {"ok": OKABE_ITO["blue"], "small": "#999999", "part": OKABE_ITO["orange"]}
    with matplotlib.rc_context(STYLE):
        fig = new_figure(1.9 + 0.36 * len(order), 11.0)
        axes = fig.subplots(1, len(outcomes), sharey=True, squeeze=False)[0]
        y = np.arange(len(order))[::-1]
        for ax, outcome in zip(axes, outcomes):
            rows = {s.indicator: s for s in report.signposts if s.outcome == outcome}
            for yy, name in zip(y, order):
                s = rows.get(name)
                if s is None or math.isnan(s.lift):
                    continue
                kind = "part" if s.part_of_outcome else "small" if s.small_n else "ok"
                lo, hi = max(s.lift_ci95[0], 1e-3), s.lift_ci95[1]
                ax.plot([lo, hi], [yy, yy], color=colours[kind], lw=1.6)
                ax.plot([max(s.lift, 1e-3)], [yy], "D" if kind == "part" else "o", color=colours[kind],
                        mfc="white" if kind == "small" else colours[kind], ms=5.5)
                ax.annotate(f"{wep.format_percent(s.p_given)}", (1.0, yy), xycoords=("axes fraction", "data"),
                            xytext=(4, 0), textcoords="offset points", va="center", fontsize=8, color="#444444")
            ax.axvline(1.0, color="black", lw=0.8)
            ax.set_xscale("log")
            low, high = ax.get_xlim()
            ticks = [v for v in (_WIDE_LIFT_TICKS if high / low > 20 else _LIFT_TICKS) if low <= v <= high]
            ax.set_xticks(ticks, [f"{v:g}×" for v in ticks])
            ax.xaxis.set_minor_formatter(NullFormatter())
            base = next(iter(rows.values())).base_rate if rows else float("nan")
            ax.set_title(f"{pretty_name(outcome)}\n(base rate {wep.format_percent(base)}; "
                         "right: P(outcome | indicator))", fontsize=10)
            ax.set_xlabel("lift = P(outcome | indicator) / P(outcome), 95 % CI")
            ax.grid(axis="x", color="#EEEEEE", which="both")
            ax.set_ylim(-0.7, len(order) - 0.3)
        shares = {s.indicator: s.prevalence for s in report.signposts}
        axes[0].set_yticks(y, [f"{wrap_label(INDICATORS[n].describe(report.day), 52, 2)} ({wep.format_percent(shares[n])})"
                               for n in order], fontsize=8.5)
        axes[0].tick_params(axis="y", length=0)
        handles = [Line2D([], [], color=colours["ok"], marker="o", label=f"≥ {report.min_runs} runs and "
                          f"≥ {report.min_cases} cases with the indicator"),
                   Line2D([], [], color=colours["small"], marker="o", mfc="white", label="small n: read with care"),
                   Line2D([], [], color=colours["part"], marker="D", label="part of the outcome's definition")]
        fig.legend(handles=handles, loc="outside lower center", ncols=3, frameon=False)
        name = f"scenario '{scenario}', " if scenario else ""
        fig.suptitle(f"What to watch by day {report.day}: how each indicator moves the odds\n{name}"
                     f"{report.n_runs:,} runs; in brackets: share of runs showing the indicator", fontsize=11)
    return fig


def condition_figure(result: ConditionResult) -> Figure:
    """Outcome distribution of the matching runs against all runs (95 % Wilson CIs)."""
    names = list(OUTCOMES)
    with matplotlib.rc_context(STYLE):
        fig = new_figure(4.8, 10.0)
        ax = fig.add_subplot()
        y = np.arange(len(names))[::-1].astype(float)
        for offset, data, colour, label in (
                (0.18, result.unconditional, "#AAAAAA", f"all {result.n_runs:,} runs"),
                (-0.18, result.conditional, OKABE_ITO["blue"], f"the {result.n_matched:,} runs matching")):
            p = np.array([data[o].p for o in names])
            lo, hi = (np.array([data[o].ci95[i] for o in names]) for i in (0, 1))
            ax.barh(y + offset, p, height=0.34, color=colour, label=label)
            ax.errorbar(p, y + offset, xerr=[p - lo, hi - p], fmt="none", ecolor="black", elinewidth=1, capsize=3)
            for yy, value, top in zip(y + offset, p, hi):
                ax.text(top + 0.01, yy, wep.format_percent(value), va="center", fontsize=8.5)
        ax.axhline(len(CUMULATIVE) - 0.5, color="#999999", lw=0.8, ls="--")
        ax.set_yticks(y, [pretty_name(o) + (" (total)" if o in CUMULATIVE else "") for o in names])
        ax.tick_params(axis="y", length=0)
        ax.set_xlim(0, 1.08)
        ax.xaxis.set_major_formatter(percent_formatter())
        ax.set_xlabel("share of runs ending in the outcome over the whole horizon (95 % Wilson CI)")
        seen = "; ".join(INDICATORS[k].describe(result.day).replace(f" by day {result.day}", "").replace(
            f" on day {result.day}", "") if v else "not: " + INDICATORS[k].describe(result.day).replace(
            f" by day {result.day}", "").replace(f" on day {result.day}", "") for k, v in result.observed.items())
        ax.set_title(wrap_label(f"Outcomes given what was seen by day {result.day} — {seen or 'nothing'} "
                           f"({result.n_matched:,} of {result.n_runs:,} runs match)", 95, 3), loc="left")
        ax.legend(loc="lower right", frameon=True, framealpha=0.9)
    return fig
