"""Statistics for the run summary: proportions, metric summaries, survival curves.

Pure numpy/scipy. Bad input raises ``ValueError`` (these are programming
errors, not user mistakes).

>>> lo, hi = wilson_interval(5, 10)
>>> round(lo, 4), round(hi, 4)
(0.2366, 0.7634)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = [
    "wilson_interval",
    "ProportionEstimate",
    "estimate_proportions",
    "MetricSummary",
    "summarize_metric",
    "KaplanMeier",
    "kaplan_meier",
    "survival_at",
]


def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence={confidence!r}: must be strictly between 0 and 1")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def wilson_interval(successes, n, confidence: float = 0.95):
    """Wilson score interval for a binomial proportion ``successes / n``.

    Scalars give a tuple of floats; arrays (broadcast) give a tuple of arrays.
    The bounds are exactly 0 when ``successes == 0`` and exactly 1 when
    ``successes == n``.

    >>> wilson_interval(0, 10)[0], round(wilson_interval(0, 10)[1], 4)
    (0.0, 0.2775)
    """
    k = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    if np.any(~np.isfinite(m)) or np.any(m <= 0):
        raise ValueError(f"n={n!r}: must be > 0")
    if np.any(~np.isfinite(k)) or np.any(k < 0) or np.any(k > m):
        raise ValueError(f"successes={successes!r}: must be in [0, n]")
    z = _z(confidence)
    z2 = z * z
    phat = k / m
    denom = 1.0 + z2 / m
    centre = (phat + z2 / (2.0 * m)) / denom
    half = z * np.sqrt(phat * (1.0 - phat) / m + z2 / (4.0 * m * m)) / denom
    lo = np.where(k == 0, 0.0, np.clip(centre - half, 0.0, 1.0))
    hi = np.where(k == m, 1.0, np.clip(centre + half, 0.0, 1.0))
    if lo.ndim == 0:
        return (float(lo), float(hi))
    return (lo, hi)


@dataclass(frozen=True)
class ProportionEstimate:
    """Share of runs in one class, with its 95 % Wilson interval."""

    p: float
    ci95: tuple[float, float]
    n: int
    successes: int


def estimate_proportions(labels: np.ndarray, classes: Sequence[str]) -> dict[str, ProportionEstimate]:
    """Proportion of each class among ``labels`` (keys in ``classes`` order).

    >>> est = estimate_proportions(np.array(["a", "b", "a", "a"]), ["a", "b", "c"])
    >>> est["a"].p, est["c"].successes, est["c"].ci95[0]
    (0.75, 0, 0.0)
    """
    classes = list(classes)
    if len(set(classes)) != len(classes):
        raise ValueError(f"classes={classes!r}: must not contain duplicates")
    labels = np.asarray(labels).ravel()
    n = int(labels.size)
    if n == 0:
        raise ValueError("labels: must not be empty")
    uniq, counts = np.unique(labels, return_counts=True)
    found = {u.item() if hasattr(u, "item") else u: int(c) for u, c in zip(uniq, counts)}
    unknown = sorted(str(u) for u in found if u not in set(classes))
    if unknown:
        raise ValueError(f"labels contain {unknown!r}, not in classes {classes!r}")
    out = {}
    for name in classes:
        k = found.get(name, 0)
        out[name] = ProportionEstimate(k / n, wilson_interval(k, n), n, k)
    return out


@dataclass(frozen=True)
class MetricSummary:
    """Mean (with 95 % t interval), 5/50/95 % quantiles, n used and sample std."""

    mean: float
    p05: float
    p50: float
    p95: float
    ci95_mean: tuple[float, float]
    n: int
    std: float


def summarize_metric(values, nan_policy: str = "raise") -> MetricSummary:
    """Summarise a per-run metric.

    NaN raises unless ``nan_policy="omit"``, which drops NaNs (``n`` then
    counts the values used). Infinities always raise. ``std`` uses ddof=1;
    with a single value ``std`` and the mean interval are NaN.

    >>> s = summarize_metric([1.0, 2.0, 3.0, float("nan")], nan_policy="omit")
    >>> s.mean, s.p50, s.n, s.std
    (2.0, 2.0, 3, 1.0)
    """
    if nan_policy not in ("raise", "omit"):
        raise ValueError(f"nan_policy={nan_policy!r}: allowed 'raise', 'omit'")
    x = np.asarray(values, dtype=float).ravel()
    nan = np.isnan(x)
    if nan.any():
        if nan_policy == "raise":
            raise ValueError(f"values contain {int(nan.sum())} NaN; pass nan_policy='omit' to drop them")
        x = x[~nan]
    if np.isinf(x).any():
        raise ValueError("values contain infinities")
    n = int(x.size)
    if n == 0:
        raise ValueError("values: no finite values to summarise")
    mean = float(np.mean(x))
    p05, p50, p95 = (float(q) for q in np.quantile(x, [0.05, 0.5, 0.95]))
    if n == 1:
        std = float("nan")
        ci = (float("nan"), float("nan"))
    else:
        std = float(np.std(x, ddof=1))
        half = float(stats.t.ppf(0.975, n - 1)) * std / np.sqrt(n)
        ci = (mean - half, mean + half)
    return MetricSummary(mean, p05, p50, p95, ci, n, std)


@dataclass(frozen=True, eq=False)
class KaplanMeier:
    """Kaplan-Meier estimate at each distinct event time (read-only arrays).

    ``ci_low``/``ci_high`` are pointwise Greenwood intervals on the
    log(-log S) scale; they are NaN where the survival estimate is 0.
    """

    time: np.ndarray
    survival: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    n_at_risk: np.ndarray
    n_events: np.ndarray
    confidence: float = 0.95

    def survival_at(self, t):
        """Survival probability S(t); see :func:`survival_at`."""
        return survival_at(self, t)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def kaplan_meier(durations, observed, confidence: float = 0.95) -> KaplanMeier:
    """Kaplan-Meier survival curve; ``observed`` is False for right-censored runs.

    A censoring tied with an event time counts as still at risk at that time.

    >>> km = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1])
    >>> km.time.tolist(), km.survival.tolist(), km.n_at_risk.tolist()
    ([1.0, 2.0, 3.0], [0.75, 0.5, 0.0], [4, 3, 1])
    """
    z = _z(confidence)
    t = np.asarray(durations, dtype=float).ravel()
    obs = np.asarray(observed).ravel()
    if t.size == 0:
        raise ValueError("durations: must not be empty")
    if obs.shape != t.shape:
        raise ValueError(f"observed has {obs.size} values, durations {t.size}")
    if not np.isin(obs, (0, 1)).all():
        raise ValueError("observed: must be booleans or 0/1")
    if not np.isfinite(t).all() or (t < 0).any():
        raise ValueError("durations: must be finite and >= 0")
    obs = obs.astype(bool)
    uniq, inverse = np.unique(t, return_inverse=True)
    events = np.bincount(inverse, weights=obs, minlength=uniq.size).astype(np.int64)
    totals = np.bincount(inverse, minlength=uniq.size).astype(np.int64)
    at_risk = t.size - np.concatenate(([0], np.cumsum(totals)[:-1]))
    keep = events > 0
    time, d, r = uniq[keep], events[keep], at_risk[keep]
    surv = np.cumprod(1.0 - d / r)
    with np.errstate(divide="ignore", invalid="ignore"):
        gw = np.cumsum(d / (r * (r - d).astype(float)))
        log_s = np.log(surv)
        se = np.sqrt(gw) / np.abs(log_s)
        lo = surv ** np.exp(z * se)
        hi = surv ** np.exp(-z * se)
    dead = surv <= 0.0
    lo[dead] = np.nan
    hi[dead] = np.nan
    # An event time with S = 1 cannot happen (d > 0), so log_s < 0 elsewhere.
    return KaplanMeier(
        _readonly(time), _readonly(surv), _readonly(lo), _readonly(hi),
        _readonly(r.astype(np.int64)), _readonly(d), confidence,
    )


def survival_at(km: KaplanMeier, t):
    """Step-function value S(t): 1 before the first event, constant after the last.

    Scalars give a float, arrays an array.

    >>> km = kaplan_meier([1, 2, 2, 3], [1, 1, 0, 1])
    >>> survival_at(km, 0.5), survival_at(km, 2), km.survival_at(2.9)
    (1.0, 0.5, 0.5)
    """
    q = np.asarray(t, dtype=float)
    idx = np.searchsorted(km.time, q, side="right")
    values = np.concatenate(([1.0], km.survival))[idx]
    return float(values) if values.ndim == 0 else values
