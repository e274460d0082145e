"""The figure of a sensitivity analysis: one output's Sobol' indices or Morris mu*, ranked, with
CI whiskers and the noise floor (see :mod:`sim.sensitivity`)."""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from sim.plotting import OKABE_ITO, STYLE, new_figure
from sim.sensitivity import SensitivityResult, SobolIndices

__all__ = ["sensitivity_figure"]

_LABELS = {"incursion_or_worse": "P(conventional incursion or worse)", "trade_loss_usd": "expected trade loss (USD)",
           "days_under_ceasefire": "expected days under ceasefire",
           "limited_war_or_worse": "P(limited war or worse)"}


def _pct(share: float, decimals: int = 0) -> str:
    return f"{100.0 * share:.{decimals}f} %"


def _label(output: str) -> str:
    if output in _LABELS:
        return _LABELS[output]
    if output.startswith("p_"):
        return f"P({output[2:].replace('_', ' ')})"
    return f"mean {output.replace('_', ' ')} per run"


def sensitivity_figure(result: SensitivityResult, output: str, top: int = 15) -> Figure:
    """Ranked horizontal bars of one output's indices (top ``top``) with CI whiskers and the noise floor."""
    indices, effect = result.indices[output], result.noise_effect(output)
    order = indices.ranked()[:top]
    omitted = len(result.names) - len(order)
    with matplotlib.rc_context(STYLE):
        fig = new_figure(1.6 + 0.36 * len(order))
        ax = fig.add_subplot()
        y = np.arange(len(order))[::-1].astype(float)
        conf = f"{_pct(indices.confidence)} bootstrap CI"
        if isinstance(indices, SobolIndices):
            for shift, values, errors, colour, label in (
                    (0.19, indices.st, indices.st_conf, OKABE_ITO["blue"], "total order ST"),
                    (-0.19, indices.s1, indices.s1_conf, OKABE_ITO["orange"], "first order S1")):
                ax.barh(y + shift, values[order], height=0.36, color=colour, label=label, zorder=2)
                ax.errorbar(values[order], y + shift, xerr=errors[order], fmt="none", ecolor="black", elinewidth=0.9,
                            capsize=2.5, zorder=3)
            floor, floor_label = effect["st_floor"], f"noise floor of ST ({effect['st_floor']:.3f})"
            ax.set_xlabel("Sobol' index (share of the variance of the point means)")
            what = f"Sobol' indices, N={result.config.sensitivity.base_samples}"
        else:
            ax.barh(y, indices.mu_star[order], height=0.55, color=OKABE_ITO["blue"], label="mu* (mean |effect|)", zorder=2)
            ax.errorbar(indices.mu_star[order], y, xerr=indices.mu_star_conf[order], fmt="none", ecolor="black",
                        elinewidth=0.9, capsize=2.5, zorder=3)
            ax.plot(indices.sigma[order], y, "D", color=OKABE_ITO["vermillion"], ms=5, label="sigma (interactions)", zorder=4)
            floor, floor_label = effect["mu_star_floor"], f"noise floor of mu* ({effect['mu_star_floor']:.3g})"
            ax.set_xlabel(f"change in {_label(output)} across a parameter's whole range (quantile 0 → 1)")
            what = f"Morris screening, {result.config.sensitivity.base_samples} trajectories"
        ax.axvline(floor, color="#555555", ls="--", lw=1.0, zorder=1, label=floor_label)
        ax.axvline(0.0, color="black", lw=0.8, zorder=1)
        ax.set_yticks(y, [indices.names[j] for j in order], fontsize=9)
        ax.set_ylim(-0.7, len(order) - 0.3)
        ax.tick_params(axis="y", length=0)
        ax.grid(axis="x", color="#DDDDDD", lw=0.6, zorder=0)
        handles, labels = ax.get_legend_handles_labels()
        first = sorted(range(len(labels)), key=lambda k: labels[k].startswith("noise floor"))  # the floor last;
        # lower right: bars are ranked, so the smallest (and their whiskers) are at the bottom
        ax.legend([handles[k] for k in first], [labels[k] for k in first], loc="lower right", frameon=True,
                  framealpha=0.9, title=f"whiskers: {conf}", title_fontsize=8.5)
        ax.set_title(f"{_label(output)} — {what}, scenario '{result.config.scenario.name}'\n"
                     f"{result.design_points:,} points x {result.replications} runs each; run-to-run noise is "
                     f"{_pct(effect['noise_share'], 1)} of the point means' variance", fontsize=10.5)
        ranked_by = "ST" if result.method == "sobol" else "mu*"
        shown = (f"Top {len(order)} of {len(result.names)} parameters by {ranked_by}; {omitted} smaller ones omitted "
                 "(all in sensitivity.json).\n" if omitted else f"All {len(order)} parameters, ranked by {ranked_by}.\n")
        bias = (f"Noise adds about {effect['st_floor']:.3f} to every ST and scales S1 by about {effect['s1_scale']:.2f}."
                if result.method == "sobol" else
                f"Noise alone gives an inert parameter mu* of about {effect['mu_star_floor']:.3g}.")
        ax.annotate(shown + bias, xy=(0, 0), xycoords="axes fraction", xytext=(0, -34), textcoords="offset points",
                    ha="left", va="top", fontsize=8.5, color="#444444")
    return fig
