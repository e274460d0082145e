"""The estimators behind calibration: conjugate posteriors, censored exponential fits, a Hawkes posterior.

Each returns a small frozen dataclass. Priors are weak and stated: Jeffreys' prior for a Poisson
rate (Gamma(1/2, 0)), a binomial share (Beta(1/2, 1/2)) and an exponential rate (Gamma(0, 0),
i.e. 1/rate), chosen because their equal-tailed intervals have close to nominal frequentist
coverage. Intervals are equal-tailed posterior intervals (90 % unless told otherwise).

>>> rate = gamma_poisson(events=412, exposure=180.0)
>>> round(rate.mean, 4), [round(v, 3) for v in rate.interval()]
(2.2917, [2.109, 2.48])
>>> share = beta_binomial(successes=3, trials=20)
>>> round(share.mean, 4)
0.1667
>>> censored_exponential(durations=[2.0, 4.0, 6.0], ended=[True, True, False]).mle
0.16666666666666666
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["GammaPosterior", "BetaPosterior", "DurationFit", "HawkesFit", "gamma_poisson", "beta_binomial",
           "censored_exponential", "hawkes_log_likelihood", "fit_hawkes", "simulate_hawkes"]

#: Jeffreys' priors (shape, rate) / (a, b): weak, stated, near-nominal coverage.
POISSON_RATE_PRIOR = (0.5, 0.0)
SHARE_PRIOR = (0.5, 0.5)
EXPONENTIAL_RATE_PRIOR = (0.0, 0.0)


def _tails(level: float) -> tuple[float, float]:
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie strictly between 0 and 1, got {level!r}")
    return (1.0 - level) / 2.0, (1.0 + level) / 2.0


@dataclass(frozen=True)
class GammaPosterior:
    """Posterior Gamma(shape, rate) of a rate per unit exposure, from ``events`` over ``exposure``."""

    shape: float
    rate: float
    events: float
    exposure: float
    prior: tuple[float, float]
    dispersion: float = 1.0           # likelihood tempered by 1/dispersion (overdispersed counts)

    @property
    def mean(self) -> float:
        return self.shape / self.rate

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        lo, hi = _tails(level)
        return tuple(float(v) for v in stats.gamma.ppf([lo, hi], self.shape, scale=1.0 / self.rate))


def gamma_poisson(events: int, exposure: float, *, prior: tuple[float, float] = POISSON_RATE_PRIOR,
                  dispersion: float = 1.0) -> GammaPosterior:
    """Posterior of a Poisson rate: Gamma(a0 + n/φ, b0 + T/φ); φ = 1 is the plain conjugate update.

    With φ > 1 (counts overdispersed by a factor φ, e.g. 1/(1 - n)^2 for a Hawkes process with
    branching ratio n) the mean is unchanged and the variance is φ times larger.

    >>> gamma_poisson(10, 5.0, prior=(1.0, 1.0))
    GammaPosterior(shape=11.0, rate=6.0, events=10, exposure=5.0, prior=(1.0, 1.0), dispersion=1.0)
    """
    if events < 0 or not exposure > 0 or not dispersion >= 1.0:
        raise ValueError(f"need events >= 0, exposure > 0 and dispersion >= 1; got {events}, {exposure}, {dispersion}")
    a0, b0 = prior
    return GammaPosterior(a0 + events / dispersion, b0 + exposure / dispersion, events, exposure, prior, dispersion)


@dataclass(frozen=True)
class BetaPosterior:
    """Posterior Beta(a, b) of a probability from ``successes`` of ``trials``."""

    a: float
    b: float
    successes: int
    trials: int
    prior: tuple[float, float]

    @property
    def mean(self) -> float:
        return self.a / (self.a + self.b)

    def interval(self, level: float = 0.9) -> tuple[float, float]:
        lo, hi = _tails(level)
        return tuple(float(v) for v in stats.beta.ppf([lo, hi], self.a, self.b))


def beta_binomial(successes: int, trials: int, *, prior: tuple[float, float] = SHARE_PRIOR) -> BetaPosterior:
    """Posterior of a probability: Beta(a0 + k, b0 + n - k).

    >>> beta_binomial(7, 10, prior=(1.0, 1.0))
    BetaPosterior(a=8.0, b=4.0, successes=7, trials=10, prior=(1.0, 1.0))
    """
    if not 0 <= successes <= trials:
        raise ValueError(f"need 0 <= successes <= trials, got {successes} of {trials}")
    a0, b0 = prior
    return BetaPosterior(a0 + successes, b0 + trials - successes, int(successes), int(trials), prior)


@dataclass(frozen=True)
class DurationFit:
    """Exponential durations with right censoring: ``events`` ended over ``exposure`` days in all.

    The posterior of the ending rate is Gamma(a0 + events, b0 + exposure); the mean duration is
    its reciprocal (posterior mean (b0 + exposure) / (a0 + events - 1), defined for a0 + events > 1).
    """

    events: int
    censored: int
    exposure: float
    posterior: GammaPosterior

    @property
    def mle(self) -> float:
        """Maximum-likelihood rate: events / exposure."""
        return self.events / self.exposure

    @property
    def mean_duration(self) -> float:
        shape, rate = self.posterior.shape, self.posterior.rate
        return rate / (shape - 1.0) if shape > 1.0 else math.inf

    def duration_interval(self, level: float = 0.9) -> tuple[float, float]:
        lo, hi = self.posterior.interval(level)
        return 1.0 / hi, (1.0 / lo if lo > 0 else math.inf)


def censored_exponential(durations, ended, *, prior: tuple[float, float] = EXPONENTIAL_RATE_PRIOR) -> DurationFit:
    """Fit exponential durations, ``ended[i]`` False where episode i was still going at the window's end.

    >>> fit = censored_exponential([10.0, 30.0], [True, False])
    >>> fit.events, fit.exposure, fit.mle
    (1, 40.0, 0.025)
    """
    durations = np.asarray(durations, dtype=float)
    ended = np.asarray(ended, dtype=bool)
    if durations.shape != ended.shape or np.any(durations < 0):
        raise ValueError("durations must be >= 0 and match ended in length")
    events, exposure = int(ended.sum()), float(durations.sum())
    if events + prior[0] <= 0 or exposure + prior[1] <= 0:
        raise ValueError(f"an exponential fit needs at least one ended episode and some exposure "
                         f"(got {events} ended over {exposure:g} days)")
    posterior = GammaPosterior(prior[0] + events, prior[1] + exposure, events, exposure, prior)
    return DurationFit(events, int(durations.size - events), exposure, posterior)


# ------------------------------------------------------------------------------------ Hawkes
def _hawkes_terms(times: list, beta: float) -> np.ndarray:
    """A_i = sum_{j<i} exp(-beta (t_i - t_j)), by the O(N) recursion A_i = e^(-beta gap) (1 + A_(i-1))."""
    values = [0.0] * len(times)
    a = 0.0
    exp = math.exp
    for i in range(1, len(times)):
        a = exp(-beta * (times[i] - times[i - 1])) * (1.0 + a)
        values[i] = a
    return np.asarray(values)


def hawkes_log_likelihood(times, window: float, background: float, branching: float, decay_days: float) -> float:
    """Log-likelihood of event times on [0, window] under a Hawkes process with kernel
    (branching / decay_days) exp(-t / decay_days), constant background rate and no events before 0.

    >>> round(hawkes_log_likelihood([1.0, 2.0], 10.0, 0.2, 0.0, 5.0), 4)   # Poisson: 2 log 0.2 - 2
    -5.2189
    """
    t = np.sort(np.asarray(times, dtype=float))
    beta = 1.0 / decay_days
    a = _hawkes_terms(list(t), beta)
    intensity = background + branching * beta * a
    return float(np.sum(np.log(intensity)) - background * window
                 - branching * np.sum(1.0 - np.exp(-beta * (window - t))))


#: Default priors of the Hawkes fit: branching ratio uniform, decay (days) log-uniform.
HAWKES_BRANCHING_PRIOR = (0.0, 0.95)
HAWKES_DECAY_PRIOR_DAYS = (1.0, 120.0)


@dataclass(frozen=True)
class HawkesFit:
    """Posterior of an exponential-kernel Hawkes process: background rate per day, branching ratio
    n, decay (kernel mean lifetime) in days -- posterior means, standard deviations and
    equal-tailed intervals at ``level``, with the priors they rest on."""

    n_events: int
    window_days: float
    background_per_day: float
    branching_ratio: float
    decay_days: float
    sd_background: float
    sd_branching: float
    sd_decay_days: float
    background_interval: tuple[float, float]
    branching_interval: tuple[float, float]
    decay_interval: tuple[float, float]
    level: float
    branching_prior: tuple[float, float]
    decay_prior_days: tuple[float, float]
    history_days: float       # the record's first days, used only as history

    @property
    def long_run_rate_per_day(self) -> float:
        """Stationary event rate background / (1 - n), at the posterior means."""
        return self.background_per_day / (1.0 - self.branching_ratio)


def _weighted_summary(values: np.ndarray, weights: np.ndarray, widths: np.ndarray, level: float):
    """Mean, sd and equal-tailed interval of a distribution given on grid cells (centre, mass,
    width): the CDF runs linearly across each cell."""
    order = np.argsort(values)
    values, weights, widths = values[order], weights[order], widths[order]
    weights = weights / weights.sum()
    mean = float(np.sum(weights * values))
    sd = float(math.sqrt(max(np.sum(weights * (values - mean) ** 2), 0.0)))
    edges = np.concatenate([values - widths / 2, values[-1:] + widths[-1:] / 2])
    cdf = np.concatenate([[0.0], np.cumsum(weights)])
    lo, hi = (float(np.interp(q, cdf, edges)) for q in _tails(level))
    return mean, sd, (lo, hi)


def fit_hawkes(times, window: float, *, level: float = 0.9,
               branching_prior: tuple[float, float] = HAWKES_BRANCHING_PRIOR,
               decay_prior_days: tuple[float, float] = HAWKES_DECAY_PRIOR_DAYS,
               background_prior: tuple[float, float] | None = None, history_days: float | None = None,
               grid: tuple[int, int] = (40, 36)) -> HawkesFit:
    """Posterior of an exponential-kernel Hawkes process from event times on [0, window].

    Priors: branching ratio uniform on ``branching_prior``, decay log-uniform on ``decay_prior_days``,
    background log-uniform (on ``background_prior`` when given, else unbounded). The posterior is
    computed on a grid of ``grid`` = (branching, decay) cells; within each cell the background is
    integrated out numerically on 25 points spanning +/- 6 standard deviations around its
    conditional maximum. Why not maximum likelihood: with excitation spread over weeks (a decay of
    14 days, n = 0.4, a year or three of attacks) the likelihood is nearly flat in the decay and
    the MLE runs to the edges, and Wald intervals covered the truth in only 43-75 % of simulated
    data sets at a nominal 90 %; the posterior's intervals have their nominal coverage whatever the
    truth, when the truth is drawn from the prior (the test checks exactly that).

    The record starts in the middle of a process with a past: the first ``history_days`` (default
    60, at most a quarter of the window) serve only as history -- their events excite the later
    ones, but the likelihood is that of the events after them, given them. Ignoring the past
    instead (a likelihood from an empty start) read the past's clusters as background: 57 % and
    60 % coverage of the background and n at a nominal 90 % (one year, n = 0.4, decay 14 days).

    >>> times = simulate_hawkes(1.0, 0.5, 2.0, 400.0, rng=np.random.default_rng(4), burn_in=0.0)
    >>> fit = fit_hawkes(times, 400.0)
    >>> fit.branching_interval[0] < 0.5 < fit.branching_interval[1], fit.decay_interval[0] < 2.0 < fit.decay_interval[1]
    (True, True)
    """
    times = np.sort(np.asarray(times, dtype=float))
    count = times.size
    if count < 2 or not window > 0 or times[0] < 0 or times[-1] > window:
        raise ValueError(f"need at least 2 event times inside [0, {window}]")
    (n_lo, n_hi), (d_lo, d_hi) = branching_prior, decay_prior_days
    if not (0.0 <= n_lo < n_hi < 1.0 and 0.0 < d_lo < d_hi):
        raise ValueError("priors: need 0 <= branching low < high < 1 and 0 < decay low < high")
    n_step = (n_hi - n_lo) / grid[0]
    branching = n_lo + n_step * (np.arange(grid[0]) + 0.5)
    log_step = math.log(d_hi / d_lo) / grid[1]
    decays = d_lo * np.exp(log_step * (np.arange(grid[1]) + 0.5))
    history = min(60.0, window / 4.0) if history_days is None else float(history_days)
    if not 0.0 <= history < window:
        raise ValueError(f"history_days must lie in [0, {window})")
    scored = times >= history           # the events whose likelihood counts (the rest: history)
    n_scored = int(scored.sum())
    if n_scored < 2:
        raise ValueError(f"need at least 2 event times after the first {history:g} days")
    span = window - history
    z = np.linspace(-6.0, 6.0, 25)
    log_mass = np.empty((grid[0], grid[1]))
    log_background = np.empty((grid[0], grid[1], z.size))
    background_weight = np.empty_like(log_background)
    listed = list(times)
    for j, decay in enumerate(decays):
        beta = 1.0 / decay
        a = _hawkes_terms(listed, beta)[scored]
        excitation = (branching * beta)[:, None] * a[None, :]              # (branching, scored events)
        # each event's kernel mass inside [history, window]
        inside = np.exp(-beta * np.maximum(history - times, 0.0)) - np.exp(-beta * (window - times))
        compensator = branching * np.sum(inside)
        mu = np.maximum(n_scored * (1.0 - branching) / span, 1e-12)  # Newton on the score in mu
        for _ in range(30):
            inverse = 1.0 / (mu[:, None] + excitation)
            score, slope = inverse.sum(1) - span, -(inverse ** 2).sum(1)
            mu = np.maximum(mu - score / slope, mu / 10.0)
        inverse = 1.0 / (mu[:, None] + excitation)
        sd_log = 1.0 / (mu * np.sqrt((inverse ** 2).sum(1)))              # curvature in log mu
        log_mu = np.log(mu)[:, None] + sd_log[:, None] * z[None, :]        # (branching, points)
        values = np.exp(log_mu)
        loglik = np.log(values[:, :, None] + excitation[:, None, :]).sum(2) - values * span - compensator[:, None]
        if background_prior is not None:
            loglik = np.where((values >= background_prior[0]) & (values <= background_prior[1]), loglik, -np.inf)
        peak = np.max(loglik, axis=1, keepdims=True)
        peak = np.where(np.isfinite(peak), peak, 0.0)
        weight = np.exp(loglik - peak)
        # flat prior in log mu: the cell's mass is the integral over log mu (trapezoid rule)
        mass = np.trapezoid(weight, log_mu, axis=1)
        with np.errstate(divide="ignore"):
            log_mass[:, j] = np.log(mass) + peak[:, 0]
        log_background[:, j] = log_mu
        background_weight[:, j] = weight / np.where(mass > 0, mass, 1.0)[:, None] * np.gradient(log_mu, axis=1)
    if not np.isfinite(log_mass).any():
        raise ValueError("the data have no likelihood under the priors given")
    posterior = np.exp(log_mass - np.max(log_mass[np.isfinite(log_mass)]))
    posterior /= posterior.sum()
    n_mean, n_sd, n_interval = _weighted_summary(branching, posterior.sum(1), np.full(grid[0], n_step), level)
    d_weights = posterior.sum(0)
    _, _, (ld_lo, ld_hi) = _weighted_summary(np.log(decays), d_weights, np.full(grid[1], log_step), level)
    d_mean = float(np.sum(d_weights * decays))
    d_sd = float(math.sqrt(max(np.sum(d_weights * (decays - d_mean) ** 2), 0.0)))
    cells = (posterior[:, :, None] * background_weight).ravel()
    values = np.exp(log_background).ravel()
    widths = np.gradient(log_background, axis=2).ravel() * values   # d mu = mu d log mu
    keep = cells > 0
    mu_mean, mu_sd, mu_interval = _weighted_summary(values[keep], cells[keep], np.abs(widths[keep]), level)
    return HawkesFit(
        n_events=int(count), window_days=float(window), background_per_day=mu_mean, branching_ratio=n_mean,
        decay_days=d_mean, sd_background=mu_sd, sd_branching=n_sd, sd_decay_days=d_sd,
        background_interval=mu_interval, branching_interval=n_interval,
        decay_interval=(float(math.exp(ld_lo)), float(math.exp(ld_hi))), level=level,
        branching_prior=(float(n_lo), float(n_hi)), decay_prior_days=(float(d_lo), float(d_hi)),
        history_days=history)


def simulate_hawkes(background_per_day: float, branching_ratio: float, decay_days: float, window: float, *,
                    rng: np.random.Generator, burn_in: float | None = None) -> np.ndarray:
    """Event times on [0, window] of a stationary exponential-kernel Hawkes process (cluster
    representation: Poisson immigrants from ``-burn_in``, each event begets Poisson(n) children
    at Exponential(decay) delays), sorted.

    >>> times = simulate_hawkes(1.0, 0.5, 2.0, 1000.0, rng=np.random.default_rng(1))
    >>> 1500 < times.size < 2500, bool(np.all(np.diff(times) >= 0))
    (True, True)
    """
    if not 0.0 <= branching_ratio < 1.0:
        raise ValueError("branching_ratio must lie in [0, 1)")
    if burn_in is None:
        burn_in = 10.0 * decay_days / (1.0 - branching_ratio)
    span = window + burn_in
    generation = rng.uniform(-burn_in, window, rng.poisson(background_per_day * span))
    found = [generation]
    while generation.size:
        children = rng.poisson(branching_ratio, generation.size)
        parents = np.repeat(generation, children)
        generation = parents + rng.exponential(decay_days, parents.size)
        generation = generation[generation <= window]
        found.append(generation)
    times = np.concatenate(found)
    return np.sort(times[times >= 0.0])
