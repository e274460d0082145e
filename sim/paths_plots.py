"""Figures of escalation paths: an alluvial chart of how runs move between rungs, and the most
frequent paths to each outcome (see :mod:`sim.paths`)."""

from __future__ import annotations

from typing import Sequence

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from sim import wep
from sim.model import RUNGS
from sim.paths import COLLAPSE_RULES, RUNG_CODES, OutcomePaths
from sim.plotting import OKABE_ITO, STYLE, figure_title, new_figure, percent_formatter, pretty_name

__all__ = ["RUNG_COLOURS", "alluvial_chart", "top_paths_chart"]

_CODE_OF = tuple(RUNG_CODES[rung] for rung in RUNGS)
#: Calm blue to hot red, so that crossing bands stay distinguishable (ColorBrewer RdYlBu, reversed).
RUNG_COLOURS = ("#4575B4", "#91BFDB", "#FEE090", "#FC8D59", "#D73027", "#7F0000")


def _spread(centres: Sequence[float], *, min_gap: float) -> list[float]:
    """Label positions near ``centres`` (ascending) pushed apart to at least ``min_gap``.

    >>> [round(y, 2) for y in _spread([0.5, 0.51, 0.9], min_gap=0.03)]
    [0.5, 0.53, 0.9]
    """
    spots: list[float] = []
    for centre in centres:
        spots.append(max(centre, spots[-1] + min_gap) if spots else centre)
    return spots


def _slice_label(day: float, horizon_days: float) -> str:
    return "day 0\n(start)" if day == 0 else f"day {day:g}\n(horizon)" if day == horizon_days else f"day {day:g}"


def alluvial_chart(states: np.ndarray, days: Sequence[float], *, horizon_days: float,
                   scenario: str | None = None) -> Figure:
    """Alluvial chart: columns = share of runs on each rung on the given days; bands = runs moving
    between consecutive days (width = share of runs), coloured by the rung they come from."""
    (n_runs, n_slices), n_rungs, width, gap = states.shape, len(RUNGS), 0.25, 0.012
    shares = np.stack([np.bincount(states[:, j], minlength=n_rungs) / n_runs for j in range(n_slices)])
    bottoms = np.cumsum(shares + gap * (shares > 0), axis=1) - shares - gap * (shares > 0)  # calm at the bottom
    ease = np.linspace(0.0, 1.0, 60) ** 2 * (3.0 - 2.0 * np.linspace(0.0, 1.0, 60))
    with matplotlib.rc_context(STYLE):
        fig = new_figure(6.2, 11.0)
        ax = fig.add_subplot()
        for j in range(n_slices - 1):
            moves = np.zeros((n_rungs, n_rungs))
            np.add.at(moves, (states[:, j], states[:, j + 1]), 1.0 / n_runs)
            out_level, in_level = bottoms[j].copy(), bottoms[j + 1].copy()
            for a, b in zip(*np.nonzero(moves)):                    # row-major: by source, then by target
                low = out_level[a] + (in_level[b] - out_level[a]) * ease
                ax.fill_between(j + width / 2 + (1.0 - width) * np.linspace(0.0, 1.0, 60), low, low + moves[a, b],
                                color=RUNG_COLOURS[a], alpha=0.62 if a != b else 0.42, lw=0, zorder=1)
                out_level[a] += moves[a, b]
                in_level[b] += moves[a, b]
        label_top = 0.0
        for j in range(n_slices):
            for r in np.flatnonzero(shares[j]):
                ax.bar(j, shares[j, r], width=width, bottom=bottoms[j, r], color=RUNG_COLOURS[r], edgecolor="#555555",
                       lw=0.6, zorder=2)
                if shares[j, r] >= 0.03:
                    ax.text(j, bottoms[j, r] + shares[j, r] / 2, f"{_CODE_OF[r]} {wep.format_percent(shares[j, r])}",
                            ha="center", va="center", fontsize=8.5, zorder=3, color="white" if r in (0, 4, 5) else "k")
            thin = [r for r in range(n_rungs) if 0 < shares[j, r] < 0.03]
            spots = _spread([bottoms[j, r] + shares[j, r] / 2 for r in thin], min_gap=0.03)
            label_top = max([label_top, *spots])
            for r, spot in zip(thin, spots):                        # too thin: label beside the node, apart
                ax.text(j + width / 2 + 0.02, spot, f"{_CODE_OF[r]} {wep.format_percent(shares[j, r])}", ha="left",
                        va="center", fontsize=7.5, zorder=3, bbox={"boxstyle": "square,pad=0.1", "fc": "white",
                                                                   "ec": "none", "alpha": 0.85})
        ax.set_xticks(range(n_slices), [_slice_label(d, horizon_days) for d in days])
        ax.set_xlim(-width, n_slices - 1 + width + 0.25)
        ax.set_ylim(0.0, max(1.0 + 5 * gap, label_top) + 0.02)
        ax.set_yticks([])
        ax.spines[["left", "top", "right"]].set_visible(False)
        handles = [Patch(color=RUNG_COLOURS[r], label=f"{RUNG_CODES[rung]}  {pretty_name(rung)}")
                   for r, rung in enumerate(RUNGS)][::-1]
        fig.legend(handles=handles, loc="outside right upper", frameon=False, title="rung (severe on top)")
        ax.set_title(figure_title("How runs move between rungs", scenario, n_runs, horizon_days))
        ax.set_xlabel("Columns: share of runs on each rung at the end of the day. Bands: runs going from one column's "
                      "rung to the next's\n(width = share of runs; coloured by the rung they leave). Moves in between "
                      "are not drawn: see the top paths.", fontsize=9, labelpad=8)
    return fig


def top_paths_chart(per_outcome: Sequence[OutcomePaths], *, collapse: str, horizon_days: float,
                    scenario: str | None = None) -> Figure:
    """One panel per outcome class: its most frequent paths as shares of its runs, with 95 % Wilson CIs."""
    panels = [entry for entry in per_outcome if entry.outcome != "all runs" and entry.top]
    total = max(entry.n_runs for entry in per_outcome)
    heights = [len(entry.top) + 0.6 for entry in panels]
    with matplotlib.rc_context(STYLE):
        fig = new_figure(1.6 + 0.3 * sum(heights), 10.5)
        axes = fig.subplots(len(panels), 1, sharex=True, gridspec_kw={"height_ratios": heights})
        for ax, entry in zip(np.atleast_1d(axes), panels):
            y = np.arange(len(entry.top))[::-1]
            share = np.array([p.share_of_outcome for p in entry.top])
            lo, hi = (np.array([p.share_of_outcome_ci95[k] for p in entry.top]) for k in (0, 1))
            ax.barh(y, share, height=0.65, color=OKABE_ITO["blue"], zorder=2)
            ax.errorbar(share, y, xerr=[share - lo, hi - share], fmt="none", ecolor="black", elinewidth=1,
                        capsize=3, zorder=3)
            for yy, p, top in zip(y, entry.top, hi):
                ax.text(top + 0.005, yy, f"{wep.format_percent(p.share_of_outcome)} ({p.count:,} runs)",
                        va="center", fontsize=8.5)
            ax.set_yticks(y, [p.path for p in entry.top], fontsize=9.5)
            ax.tick_params(axis="y", length=0)
            ax.grid(True, axis="x", color="#E5E5E5", lw=0.7, zorder=0)
            ax.set_title(f"{pretty_name(entry.outcome)}: {entry.n_runs:,} runs ({wep.format_percent(entry.share_of_runs)}"
                         f" of all); these {len(entry.top)} paths cover {wep.format_percent(1 - entry.other_share)}"
                         f" of them ({entry.n_distinct_paths:,} distinct paths)", loc="left", fontsize=10)
        last = np.atleast_1d(axes)[-1]
        last.xaxis.set_major_locator(MaxNLocator(nbins=10, steps=[1, 2, 5, 10]))
        last.xaxis.set_major_formatter(percent_formatter())
        last.set_xlim(0.0, min(1.0, max(p.share_of_outcome_ci95[1] for e in panels for p in e.top) * 1.25 + 0.02))
        last.set_xlabel("share of the outcome's runs that took the path (bars; whiskers: 95 % Wilson CI)")
        legend = ", ".join(f"{code} {pretty_name(rung)}" for rung, code in RUNG_CODES.items())
        fig.suptitle(figure_title("Most frequent escalation paths to each outcome", scenario, total, horizon_days),
                     fontsize=11.5)
        fig.text(0.01, 0.0, f"Rungs: {legend}.\nGrouping: {COLLAPSE_RULES[collapse]}.", fontsize=8.5,
                 va="bottom", ha="left", wrap=True)
        fig.get_layout_engine().set(rect=(0, 0.05, 1, 0.95))
    return fig
