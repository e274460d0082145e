"""The ``discover`` command: PRIM and CART on a results folder, written as discover.json, figures
of the peeling trajectory and the chosen box, and a printed summary (see :mod:`sim.discovery`)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import matplotlib
import numpy as np
import yaml
from matplotlib.colors import BoundaryNorm, ListedColormap
from matplotlib.figure import Figure

from sim import wep
from sim.analysis import wilson_interval
from sim.commands import CommandParser, reports_errors, write_outputs
from sim.discovery import (DEFAULT_CASE, RUN_COLUMNS, Box, PrimResult, cart, case_labels, format_bound,
                           parameter_info, parameter_matrix, parse_case, prim, unit_suffix)
from sim.errors import ConfigError
from sim.plotting import OKABE_ITO, STYLE, new_figure, percent_formatter, wrap_label
from sim.results import CUMULATIVE, load_results

__all__ = ["peeling_trajectory_figure", "box_ranges_figure", "command"]


def _case_name(case: Sequence[str]) -> str:
    for name, classes in CUMULATIVE.items():
        if set(case) == set(classes):
            return name.replace("_", " ")
    return " or ".join(c.replace("_", " ") for c in case)


def peeling_trajectory_figure(result: PrimResult, *, case_name: str, threshold: float | None = None) -> Figure:
    """Coverage against density of every peeled box, coloured by how many parameters it restricts."""
    t = result.trajectory
    with matplotlib.rc_context(STYLE):
        fig = new_figure(5.6, 9.0)
        ax = fig.add_subplot()
        top = int(t.n_restricted.max())
        cmap = ListedColormap(matplotlib.colormaps["viridis"](np.linspace(0.0, 0.9, top + 1)))
        norm = BoundaryNorm(np.arange(-0.5, top + 1.5), cmap.N)
        ax.plot(t.coverage, t.density, color="#BBBBBB", lw=1, zorder=1)
        points = ax.scatter(t.coverage, t.density, c=t.n_restricted, cmap=cmap, norm=norm, s=22, zorder=2)
        bar = fig.colorbar(points, ax=ax, ticks=np.arange(0, top + 1, max(1, (top + 1) // 10)), pad=0.01)
        bar.set_label("parameters restricted by the box")
        base = t.total_cases / t.total_runs
        ax.axhline(base, color=OKABE_ITO["black"], ls="--", lw=1)
        ax.annotate(f"base rate {wep.format_percent(base)}", (0.01, base), xycoords=("axes fraction", "data"),
                    xytext=(0, 3), textcoords="offset points", fontsize=9)
        if threshold is not None:
            ax.axhline(threshold, color=OKABE_ITO["vermillion"], ls=":", lw=1.2)
            ax.annotate(f"density threshold {wep.format_percent(threshold)}", (0.01, threshold),
                        xycoords=("axes fraction", "data"), xytext=(0, 3), textcoords="offset points",
                        fontsize=9, color=OKABE_ITO["vermillion"])
        s = result.step
        ax.scatter([t.coverage[s]], [t.density[s]], s=160, facecolors="none", edgecolors=OKABE_ITO["vermillion"],
                   linewidths=2, zorder=3, label=f"chosen box (step {s}: {t.n_restricted[s]} restricted)")
        if result.pasted:
            ax.scatter([result.box.coverage], [result.box.density], marker="*", s=180, color=OKABE_ITO["orange"],
                       edgecolors="black", linewidths=0.6, zorder=4,
                       label=f"reported box, after pasting and pruning ({len(result.box.restrictions)} restricted)")
        ax.set_xlim(0, 1.02)
        ax.set_ylim(0, min(1.02, max(float(t.density.max()), threshold or 0) * 1.1 + 0.02))
        ax.xaxis.set_major_formatter(percent_formatter())
        ax.yaxis.set_major_formatter(percent_formatter())
        ax.set_xlabel("coverage (share of all case runs inside the box, %)")
        ax.set_ylabel("density (share of runs in the box that are cases, %)")
        ax.set_title(f"PRIM peeling trajectory — case: {case_name}, {t.total_runs:,} runs\n"
                     "(the full space at the right; each step peels a slice off one face)")
        ax.legend(loc="upper right", frameon=True, framealpha=0.9)
    return fig


def box_ranges_figure(box: Box, *, title: str, subtitle: str = "") -> Figure:
    """Each restricted parameter's range in the box (blue) against its range over all runs (grey)."""
    rows = box.restrictions
    with matplotlib.rc_context(STYLE):
        fig = new_figure(1.9 + 0.8 * max(1, len(rows)), 10.0)
        ax = fig.add_subplot()
        for i, r in enumerate(rows):
            yy = len(rows) - 1 - i
            lo_full, hi_full = r.full_range
            a = 0.0 if r.low is None else (r.low - lo_full) / (hi_full - lo_full)
            b = 1.0 if r.high is None else (r.high - lo_full) / (hi_full - lo_full)
            ax.barh(yy, 1.0, height=0.45, color="#DDDDDD", zorder=1)
            ax.barh(yy, b - a, left=a, height=0.45, color=OKABE_ITO["blue"], zorder=2)
            for v, x_at, ha in ((r.low, a, "center"), (r.high, b, "center")):
                if v is not None:
                    ax.text(x_at, yy + 0.27, format_bound(v), ha=ha, va="bottom", fontsize=9, color=OKABE_ITO["blue"],
                            fontweight="bold")
            ax.text(1.04, yy, f"without it: density {wep.format_percent(r.density_if_dropped)},\n"
                    f"coverage {wep.format_percent(r.coverage_if_dropped)}; quasi-p {r.quasi_p:.2g}",
                    ha="left", va="center", fontsize=8.5)
        ax.set_yticks(np.arange(len(rows))[::-1], [
            f"{r.name}\n{wrap_label(r.meaning, 50)}\n"
            f"sampled {format_bound(r.full_range[0])} – {format_bound(r.full_range[1])}{unit_suffix(r.unit)}"
            for r in rows], fontsize=8.5)
        ax.set_xlim(-0.02, 1.6)
        ax.set_ylim(-0.6, max(1, len(rows)) - 0.25)
        ax.set_xticks([0, 0.5, 1], ["lowest sampled", "middle", "highest sampled"])
        ax.spines["bottom"].set_bounds(0, 1)
        ax.tick_params(axis="y", length=0)
        ax.spines["left"].set_visible(False)
        ax.set_xlabel("range over all runs (grey) and inside the box (blue)", loc="left")
        if not rows:
            ax.text(0.5, 0, "the box restricts no parameter", ha="center", va="center")
        lines = [title, f"coverage {wep.format_percent(box.coverage)}, density {wep.format_percent(box.density)} "
                 f"(base rate {wep.format_percent(box.base_rate)}), {box.n_runs:,} runs in the box"]
        ax.set_title("\n".join(lines + ([wrap_label(subtitle, 120, 2)] if subtitle else [])), loc="left", fontsize=10)
    return fig


def _parser() -> CommandParser:
    p = CommandParser(prog="python -m sim discover", description="Scenario discovery on a results folder: which "
                "regions of parameter space lead to the case (PRIM boxes and/or CART leaves, as rules).")
    p.add_argument("results", help="a finished results folder (run with uncertainty=sampled)")
    p.add_argument("--case", default=",".join(DEFAULT_CASE), help="outcome classes (comma-separated) or "
                   "incursion_or_worse / limited_war_or_worse (default: incursion or worse)")
    p.add_argument("--method", choices=("prim", "cart", "both"), default="both")
    p.add_argument("--threshold", type=float, default=None, help="PRIM: choose the biggest box with at least this "
                   "density (default: the biggest box whose density is within sampling error of the best)")
    p.add_argument("--step", type=int, default=None, help="PRIM: choose this trajectory step instead")
    p.add_argument("--max-dims", type=int, default=0, help="PRIM: choose among boxes restricting at most this "
                   "many parameters (default 0: no limit)")
    p.add_argument("--prune", type=float, default=0.05, help="PRIM: drop restrictions with a quasi-p-value above "
                   "this (default 0.05; 1 keeps all)")
    p.add_argument("--alpha", type=float, default=0.05, help="PRIM: share of the box peeled per step")
    p.add_argument("--min-support", type=float, default=0.05, help="PRIM: smallest box, as a share of runs")
    p.add_argument("--no-paste", action="store_true", help="PRIM: skip pasting")
    p.add_argument("--bootstrap", type=int, default=0, help="PRIM: resamples for the stability check")
    p.add_argument("--max-depth", type=int, default=3, help="CART: tree depth")
    p.add_argument("--min-leaf", type=int, default=None, help="CART: fewest runs per leaf (default 1 %%, >= 20)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the tree's tie-breaking")
    p.add_argument("--out", default=None, help="output folder (default results/discover_<time>_<token>)")
    return p


def _trajectory_rows(result: PrimResult, names: Sequence[str]) -> list[dict]:
    t = result.trajectory
    rows = []
    for s in range(t.n_runs.size):
        restricted = np.flatnonzero((t.lower[s] > t.full_lower) | (t.upper[s] < t.full_upper))
        rows.append({"step": s, "coverage": t.coverage[s], "density": t.density[s], "n_runs": t.n_runs[s],
                     "n_cases": t.n_cases[s], "n_restricted": len(restricted),
                     "bounds": {names[j]: [t.lower[s, j], t.upper[s, j]] for j in restricted}})
    return rows


def _rule_row(box: Box, label: str) -> dict:
    return {"text": f"{label}: {box.rule}", "coverage": box.coverage, "coverage_ci95": box.coverage_ci95,
            "density": box.density, "density_ci95": box.density_ci95, "n_runs": box.n_runs}


def _print_box(box: Box, indent: str = "  ") -> None:
    print(f"{indent}coverage {wep.format_percent(box.coverage)} [{wep.format_percent(box.coverage_ci95[0])}, "
          f"{wep.format_percent(box.coverage_ci95[1])}], density {wep.format_percent(box.density)} "
          f"[{wep.format_percent(box.density_ci95[0])}, {wep.format_percent(box.density_ci95[1])}], "
          f"{box.n_runs:,} runs in the box")
    for i, r in enumerate(box.restrictions):
        share = "" if r.bootstrap_share is None else f", in {wep.format_percent(r.bootstrap_share)} of bootstrap boxes"
        print(f"{indent}{'when' if i == 0 else ' and'} {r.text}\n{indent}       (dropped: density "
              f"{wep.format_percent(r.density_if_dropped)}, coverage {wep.format_percent(r.coverage_if_dropped)}; "
              f"quasi-p {r.quasi_p:.2g}{share})")


@reports_errors
def command(argv: Sequence[str]) -> int:
    """``python -m sim discover <results dir> [options]``: write discover.json and figures; exit code."""
    args = _parser().parse_args(list(argv))
    case = parse_case(args.case)
    if args.threshold is not None and not 0 < args.threshold <= 1:
        raise ConfigError(f"--threshold {args.threshold}: must be in (0, 1]")
    if min(args.bootstrap, args.max_dims) < 0 or args.max_depth < 1 or not 0 < args.prune <= 1:
        raise ConfigError("--bootstrap and --max-dims must be >= 0, --max-depth >= 1, --prune in (0, 1]")
    summary, table, _ = load_results(args.results, columns=RUN_COLUMNS)
    config = yaml.safe_load((Path(args.results) / "config.yaml").read_text(encoding="utf-8")) or {}
    names, x = parameter_matrix(table)
    y = case_labels(table, case)
    infos = parameter_info(names, (config.get("scenario") or {}).get("ladder"))
    rng = np.random.default_rng(args.seed)
    case_name = _case_name(case)
    base = int(y.sum())
    report = {"kind": "discover", "method": args.method, "results": str(Path(args.results).resolve()),
              "scenario": summary.get("scenario"), "n_runs": int(y.size), "case": list(case),
              "n_parameters": len(names), "n_cases": base, "base_rate": base / y.size,
              "base_rate_ci95": wilson_interval(base, y.size), "rules": [], "figures": [],
              "title": f"Scenario discovery: which parameters lead to {case_name}",
              "notes": ["coverage = share of all case runs inside the box; density = share of the box's runs "
                        "that are cases; 95 % Wilson CIs, in-sample (the box was fitted to these runs, so "
                        "densities are optimistic)",
                        "quasi-p: binomial chance of at least the box's cases if a restriction added nothing "
                        "(the box's runs at the density it has without that restriction); small = it matters"]}
    figures = {}
    prim_result = cart_result = None
    if args.method in ("prim", "both"):
        prim_result = prim(x, y, names, alpha=args.alpha, min_support=args.min_support, threshold=args.threshold,
                           step=args.step, pasting=not args.no_paste, max_restricted=args.max_dims or None,
                           prune=None if args.prune >= 1 else args.prune,
                           bootstrap=args.bootstrap, infos=infos, rng=rng)
        report["prim"] = {"alpha": args.alpha, "min_support": args.min_support, "threshold": args.threshold,
                          "max_restricted": args.max_dims or None, "step": prim_result.step,
                          "rule": prim_result.rule, "threshold_met": prim_result.threshold_met,
                          "pasted": prim_result.pasted, "pruned": prim_result.pruned, "box": prim_result.box,
                          "n_bootstrap": prim_result.n_bootstrap, "bootstrap_shares": prim_result.bootstrap_shares,
                          "trajectory": _trajectory_rows(prim_result, names)}
        report["rules"].append({"method": "prim", **_rule_row(prim_result.box, "PRIM box")})
        report["figures"] += [
            {"file": "prim_trajectory.png", "alt": "PRIM peeling trajectory: coverage against density",
             "caption": "Each dot a box from peeling; the ring the box chosen, the star the box reported."},
            {"file": "prim_box.png", "alt": "Ranges of the restricted parameters in the PRIM box",
             "caption": "Each restricted parameter's range in the box (blue) within its sampled range."}]
        figures["prim_trajectory"] = lambda: peeling_trajectory_figure(prim_result, case_name=case_name,
                                                                       threshold=args.threshold)
        figures["prim_box"] = lambda: box_ranges_figure(prim_result.box, title=f"PRIM box for {case_name}",
                                                        subtitle=f"chosen: {prim_result.rule}")
    if args.method in ("cart", "both"):
        cart_result = cart(x, y, names, max_depth=args.max_depth, min_samples_leaf=args.min_leaf, infos=infos,
                           rng=rng)
        report["cart"] = cart_result
        report["rules"] += [{"method": "cart", **_rule_row(box, f"CART leaf {i}")}
                            for i, box in enumerate(cart_result.boxes, 1)]
    best = prim_result.box if prim_result is not None else (cart_result.boxes[0] if cart_result.boxes else None)
    report["summary"] = (f"{wep.format_percent(base / y.size)} of {y.size:,} runs end in {case_name}. " + (
        f"The clearest region: {best.text}." if best is not None and best.restrictions else
        "No region of parameter space stands out."))
    folder = write_outputs("discover", args.out, report, figures)
    print(f"discover: case {case_name}, {y.size:,} runs, {len(names)} varying parameters, base rate "
          f"{wep.format_percent(base / y.size)}")
    if prim_result is not None:
        pruned = f"; {len(prim_result.pruned)} weak restrictions pruned" if prim_result.pruned else ""
        print(f"PRIM box (step {prim_result.step} of {prim_result.trajectory.n_runs.size - 1}: {prim_result.rule}"
              f"{'; pasted' if prim_result.pasted else ''}{pruned}):")
        _print_box(prim_result.box)
    if cart_result is not None:
        print(f"CART (depth {cart_result.max_depth}, balanced class weights, >= {cart_result.min_samples_leaf} runs "
              f"per leaf): {len(cart_result.boxes)} case leaves clearly denser than the base rate, together coverage "
              f"{wep.format_percent(cart_result.coverage)}, density {wep.format_percent(cart_result.density)}"
              f"{f' ({cart_result.n_weak_leaves} weaker leaves left out)' if cart_result.n_weak_leaves else ''}")
        for i, box in enumerate(cart_result.boxes, 1):
            print(f" {i}.")
            _print_box(box, "    ")
    print(f"output: {folder}")
    return 0
