"""Proper scores for probabilistic forecasts: binary events, counts and continuous values.

Every score here is negatively oriented (lower is better) and computed per forecast; average them
yourself. Binary events: :func:`brier_score` (p − o)², :func:`log_score` −ln p(o) with forecasts
clipped to [ε, 1 − ε]. Counts: :func:`ignorance_score` −log2 of the (smoothed) ensemble pmf at the
observed count, :func:`poisson_ignorance`; :func:`crps_ensemble` in the energy form
E|X − y| − ½E|X − X'| (exact, by sorting), :func:`crps_poisson` in closed form. Calibration: the
PIT (:func:`pit`, :func:`randomised_pit`, :func:`count_pit`, :func:`poisson_pit`,
:func:`censored_pit`) and the reliability table and diagram (:func:`reliability_table`,
:func:`reliability_figure`).

>>> brier_score([0.8, 0.3], [1, 0]).round(3).tolist()
[0.04, 0.09]
>>> float(crps_ensemble([3.0], 5.0))
2.0
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np
from scipy import special, stats

from sim.analysis import wilson_interval

__all__ = ["LOG_CLIP", "brier_score", "log_score", "smoothed_count_pmf", "ignorance_score", "poisson_ignorance",
           "crps_ensemble", "crps_poisson", "pit", "randomised_pit", "count_pit", "poisson_pit", "censored_pit",
           "ReliabilityTable", "reliability_table", "reliability_figure", "pit_histogram_figure"]

#: Binary forecasts are clipped to [LOG_CLIP, 1 − LOG_CLIP] in the log score: a forecast of 0 or 1
#: that turns out wrong costs −ln(1e-4) ≈ 9.2 nats instead of infinity.
LOG_CLIP = 1e-4


def _binary(p, outcome) -> tuple[np.ndarray, np.ndarray]:
    p, o = np.broadcast_arrays(np.asarray(p, dtype=float), np.asarray(outcome, dtype=float))
    if np.any((p < 0) | (p > 1)) or np.any(np.isnan(p)):
        raise ValueError("forecast probabilities must lie in [0, 1]")
    if np.any((o != 0) & (o != 1)):
        raise ValueError("binary outcomes must be 0 or 1")
    return p, o


def brier_score(p, outcome) -> np.ndarray:
    """(p − o)² per forecast; its expectation when o ~ Bernoulli(p) is p(1 − p).

    >>> float(brier_score(0.5, 1))
    0.25
    """
    p, o = _binary(p, outcome)
    return (p - o) ** 2


def log_score(p, outcome, *, clip: float = LOG_CLIP) -> np.ndarray:
    """−ln of the probability given to what happened (nats), p clipped to [clip, 1 − clip].

    >>> round(float(log_score(0.8, 1)), 4), round(float(log_score(0.0, 1)), 2)
    (0.2231, 9.21)
    """
    p, o = _binary(p, outcome)
    p = np.clip(p, clip, 1.0 - clip)
    return -np.where(o == 1, np.log(p), np.log1p(-p))


def _counts(values) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if np.any(np.isnan(x)) or np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("counts must be whole numbers >= 0")
    return x


def smoothed_count_pmf(ensemble, y, *, pseudo_runs: float = 1.0) -> np.ndarray:
    """P(Y = y) from an ensemble of counts, smoothed so that unseen counts keep a finite score.

    The rule: (#{members = y} + a·g(y)) / (n + a), with a = ``pseudo_runs`` pseudo-members spread as
    a geometric pmf g(k) = (1 − θ)θᵏ whose mean θ/(1 − θ) is the ensemble mean (at least 1). It sums
    to 1 over all counts. ``ensemble`` (n,) scores every y against one ensemble; (m, n) scores row i
    against y[i].

    >>> round(float(smoothed_count_pmf([0, 0, 1, 1], 0)), 4)     # (2 + 0.5) / 5: g mean 1, θ = 1/2
    0.5
    """
    x, y = _counts(ensemble), _counts(y)
    n = x.shape[-1]
    if n == 0:
        raise ValueError("empty ensemble")
    mean = np.maximum(x.mean(axis=-1), 1.0)
    theta = mean / (1.0 + mean)
    if x.ndim == 1:
        sorted_x = np.sort(x)
        hits = np.searchsorted(sorted_x, y, side="right") - np.searchsorted(sorted_x, y, side="left")
    else:
        hits = (x == np.asarray(y)[..., None]).sum(axis=-1)
    geometric = (1.0 - theta) * theta ** y
    return (hits + pseudo_runs * geometric) / (n + pseudo_runs)


def ignorance_score(ensemble, y, *, pseudo_runs: float = 1.0) -> np.ndarray:
    """−log2 of the smoothed ensemble pmf at the observed count (bits; see :func:`smoothed_count_pmf`).

    >>> float(ignorance_score([0, 0, 1, 1], 0))
    1.0
    """
    return -np.log2(smoothed_count_pmf(ensemble, y, pseudo_runs=pseudo_runs))


def poisson_ignorance(mu, y) -> np.ndarray:
    """−log2 P(Y = y) under Poisson(mu) (bits); its expectation under Poisson(mu) is the entropy.

    >>> round(float(poisson_ignorance(1.0, 0)), 4)           # −log2 e^{−1} = log2 e
    1.4427
    """
    return -stats.poisson.logpmf(_counts(y), np.asarray(mu, dtype=float)) / np.log(2.0)


def crps_ensemble(ensemble, y, *, fair: bool = False) -> np.ndarray:
    """CRPS of an ensemble: E|X − y| − ½E|X − X'|, exact, in O(n log n) by sorting.

    ``fair=False`` scores the ensemble's own empirical distribution (1/n² pairs); ``fair=True``
    divides the pair sum by n(n − 1), an unbiased estimate of the CRPS of the distribution the
    members were drawn from. ``ensemble`` (n,) scores every y against one ensemble; (m, n) row i
    against y[i].

    >>> crps_ensemble([0.0, 2.0], [1.0, 2.0]).tolist()            # ½E|X−X'| = ½
    [0.5, 0.5]
    """
    x = np.sort(np.asarray(ensemble, dtype=float), axis=-1)
    y = np.asarray(y, dtype=float)
    n = x.shape[-1]
    if n == 0 or (fair and n == 1):
        raise ValueError("the ensemble needs at least one member (two with fair=True)")
    rank = np.arange(1, n + 1, dtype=float)
    pair_sum = 2.0 * ((2.0 * rank - n - 1.0) * x).sum(axis=-1)          # Σ_i Σ_j |x_i − x_j|
    spread = pair_sum / (n * (n - 1.0) if fair else n * n)
    if x.ndim == 1:                     # one ensemble, many y: prefix sums, O((n + m) log n)
        prefix = np.concatenate([[0.0], np.cumsum(x)])
        below = np.searchsorted(x, y, side="right")
        distance = (below * y - prefix[below] + (prefix[-1] - prefix[below]) - (n - below) * y) / n
    else:
        distance = np.abs(x - y[..., None]).mean(axis=-1)
    return distance - 0.5 * spread


def crps_poisson(mu, y) -> np.ndarray:
    """CRPS of Poisson(mu) at count y, closed form (Wei & Held 2014):
    (y − μ)(2F(y) − 1) + 2μ f(y) − μ e^{−2μ}(I₀(2μ) + I₁(2μ)).

    >>> k = np.arange(80)                                   # against Σ_k (F(k) − 1{y <= k})²
    >>> bool(np.isclose(crps_poisson(2.0, 3), ((stats.poisson.cdf(k, 2.0) - (k >= 3)) ** 2).sum()))
    True
    """
    mu, y = np.asarray(mu, dtype=float), _counts(y)
    return ((y - mu) * (2.0 * stats.poisson.cdf(y, mu) - 1.0) + 2.0 * mu * stats.poisson.pmf(y, mu)
            - mu * (special.i0e(2.0 * mu) + special.i1e(2.0 * mu)))


def pit(ensemble, y) -> np.ndarray:
    """Probability integral transform of a continuous value: the ensemble's share at or below y.

    >>> pit([1.0, 2.0, 3.0, 4.0], [2.5, 5.0]).tolist()
    [0.5, 1.0]
    """
    x = np.sort(np.asarray(ensemble, dtype=float))
    return np.searchsorted(x, np.asarray(y, dtype=float), side="right") / x.size


def randomised_pit(lower_cdf, upper_cdf, *, rng: np.random.Generator) -> np.ndarray:
    """u ~ Uniform(lower, upper): the PIT when the forecast puts mass on the observed value (ties,
    counts: lower = F(y − 1), upper = F(y)) or only an interval is known (censoring)."""
    lower, upper = np.broadcast_arrays(np.asarray(lower_cdf, dtype=float), np.asarray(upper_cdf, dtype=float))
    return lower + (upper - lower) * rng.random(lower.shape)


def count_pit(ensemble, y, *, rng: np.random.Generator) -> np.ndarray:
    """Randomised PIT of counts against an ensemble: u ~ U(F̂(y − 1), F̂(y)).

    >>> float(count_pit([0, 1, 2, 3], 1, rng=np.random.default_rng(0))) // 0.25   # in [0.25, 0.5)
    1.0
    """
    x, y = np.sort(_counts(ensemble)), _counts(y)
    below = np.searchsorted(x, y, side="left") / x.size
    upto = np.searchsorted(x, y, side="right") / x.size
    return randomised_pit(below, upto, rng=rng)


def poisson_pit(mu, y, *, rng: np.random.Generator) -> np.ndarray:
    """Randomised PIT of counts under Poisson(mu): u ~ U(F(y − 1), F(y))."""
    y = _counts(y)
    return randomised_pit(stats.poisson.cdf(y - 1, mu), stats.poisson.cdf(y, mu), rng=rng)


def censored_pit(ensemble, censored_at, *, rng: np.random.Generator) -> np.ndarray:
    """PIT of a time known only to exceed ``censored_at`` (the event had not happened yet):
    u ~ U(F̂(c), 1). NaN members (never within the horizon) count as later than any c.

    >>> float(censored_pit([1.0, 2.0, np.nan, np.nan], 2.0, rng=np.random.default_rng(0))) >= 0.5
    True
    """
    x = np.asarray(ensemble, dtype=float)
    below = pit(np.where(np.isnan(x), np.inf, x), censored_at)
    return randomised_pit(below, 1.0, rng=rng)


@dataclass(frozen=True)
class ReliabilityTable:
    """Binned forecasts: per bin the number of forecasts, their mean probability, the observed
    frequency and its 95 % Wilson interval (NaN for an empty bin)."""

    edges: np.ndarray
    n: np.ndarray
    mean_forecast: np.ndarray
    observed: np.ndarray
    observed_ci95: tuple[np.ndarray, np.ndarray]

    def as_rows(self) -> list[dict]:
        """Non-empty bins as JSON-ready rows."""
        return [{"bin": [float(self.edges[i]), float(self.edges[i + 1])], "n": int(self.n[i]),
                 "mean_forecast": float(self.mean_forecast[i]), "observed": float(self.observed[i]),
                 "ci95": [float(self.observed_ci95[0][i]), float(self.observed_ci95[1][i])]}
                for i in range(self.n.size) if self.n[i]]


def reliability_table(p, outcome, *, bins: int = 10) -> ReliabilityTable:
    """Forecasts in ``bins`` equal-width bins of [0, 1] (the last closed): mean forecast against
    observed frequency with Wilson 95 % intervals.

    >>> table = reliability_table([0.1, 0.15, 0.9], [0, 1, 1], bins=2)
    >>> table.n.tolist(), table.observed.tolist()
    ([2, 1], [0.5, 1.0])
    """
    p, o = _binary(p, outcome)
    p, o = p.ravel(), o.ravel()
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, bins - 1)
    n = np.bincount(which, minlength=bins)
    hits = np.bincount(which, weights=o, minlength=bins)
    total = np.bincount(which, weights=p, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean, observed = total / n, hits / n
    low, high = wilson_interval(hits, np.maximum(n, 1))
    empty = n == 0
    return ReliabilityTable(edges, n, mean, observed, (np.where(empty, np.nan, low), np.where(empty, np.nan, high)))


def reliability_figure(tables: Mapping[str, ReliabilityTable], *, title: str = "Reliability diagram"):
    """Observed frequency (95 % Wilson CI) against mean forecast per bin, one series per forecaster,
    with the diagonal of perfect calibration and the number of forecasts per bin beneath."""
    import matplotlib

    from sim.plotting import OKABE_ITO, STYLE, new_figure, percent_formatter

    colours = [OKABE_ITO[c] for c in ("blue", "orange", "green", "purple", "vermillion")]
    markers = "osD^v"
    with matplotlib.rc_context(STYLE):
        fig = new_figure(6.4, 9.6)
        top, bottom = fig.subplots(2, 1, height_ratios=(4, 1.3), sharex=True)
        top.plot([0, 1], [0, 1], color="#888888", lw=0.9, ls="--", label="perfectly calibrated")
        width = 1.0 / max(1, max(t.n.size for t in tables.values())) / (len(tables) + 1)
        for i, (name, table) in enumerate(tables.items()):
            keep = table.n > 0
            shift = (i - (len(tables) - 1) / 2) * 0.006          # keep overlapping error bars apart
            x = table.mean_forecast[keep] + shift
            y, lo, hi = table.observed[keep], table.observed_ci95[0][keep], table.observed_ci95[1][keep]
            top.errorbar(x, y, yerr=[y - lo, hi - y], fmt=markers[i % 5], color=colours[i % 5], ms=6, capsize=3,
                         lw=1.2, label=f"{name} ({int(table.n.sum())} forecasts)")
            centres = (table.edges[:-1] + table.edges[1:]) / 2
            bottom.bar(centres + (i - (len(tables) - 1) / 2) * width, table.n, width=width, color=colours[i % 5])
        top.set_xlim(-0.02, 1.02)
        top.set_ylim(-0.02, 1.02)
        top.set_ylabel("observed frequency (95 % Wilson CI)")
        top.yaxis.set_major_formatter(percent_formatter())
        top.set_title(title)
        top.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0)
        top.grid(color="#EEEEEE")
        bottom.set_ylabel("forecasts")
        bottom.set_xlabel("forecast probability (bin mean)")
        bottom.xaxis.set_major_formatter(percent_formatter())
    return fig


def pit_histogram_figure(pit_values: Mapping[str, np.ndarray], *, bins: int = 10, title: str = "PIT histogram"):
    """Histogram of PIT values per forecaster (density; 1 = uniform = calibrated), with the 95 %
    band of a bin's density under uniformity (binomial) and the KS p-value in the legend."""
    import matplotlib

    from sim.plotting import OKABE_ITO, STYLE, new_figure

    colours = [OKABE_ITO[c] for c in ("blue", "orange", "green", "purple")]
    names = [name for name, values in pit_values.items() if np.size(values)]
    with matplotlib.rc_context(STYLE):
        fig = new_figure(3.6, 4.2 * max(1, len(names)) + 0.6)
        axes = np.atleast_1d(fig.subplots(1, max(1, len(names)), sharey=True, squeeze=False)[0])
        edges = np.linspace(0.0, 1.0, bins + 1)
        for i, (ax, name) in enumerate(zip(axes, names)):
            u = np.asarray(pit_values[name], dtype=float)
            n = u.size
            lo, hi = stats.binom.ppf([0.025, 0.975], n, 1.0 / bins) * bins / n
            ax.axhspan(lo, hi, color="#EEEEEE", label="95 % band if uniform")
            ax.hist(u, bins=edges, density=True, color=colours[i % 4], edgecolor="white")
            ax.axhline(1.0, color="#555555", lw=0.9, ls="--")
            ks = stats.kstest(u, "uniform").pvalue if n else float("nan")
            ax.set_title(f"{name}:\n{n} values, KS test of uniformity p = {ks:.2g}", fontsize=10)
            ax.set_xlabel("PIT value")
            ax.set_xlim(0, 1)
        axes[0].set_ylabel("density (1 = uniform)")
        axes[0].legend(loc="upper right", fontsize=8)
        fig.suptitle(title)
    return fig
