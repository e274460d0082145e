"""The estimators behind calibration: conjugate posteriors, censored exponential fits, a Hawkes fit.

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
from scipy import optimize, special, stats

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
def _hawkes_terms(times: list, beta: float) -> tuple[np.ndarray, np.ndarray]:
    """A_i = sum_{j<i} exp(-beta (t_i - t_j)) and its derivative in beta, by the O(N) recursion."""
    a_values, b_values = [0.0] * len(times), [0.0] * len(times)
    a = b = 0.0
    exp = math.exp
    for i in range(1, len(times)):
        gap = times[i] - times[i - 1]
        decay = exp(-beta * gap)
        a, b = decay * (1.0 + a), decay * (b - gap * (1.0 + a))
        a_values[i], b_values[i] = a, b
    return np.asarray(a_values), np.asarray(b_values)


def _hawkes_value_and_gradient(theta: np.ndarray, times: list, window: float) -> tuple[float, np.ndarray]:
    """Log-likelihood and its gradient in theta = (log mu, logit n, log beta); kernel n beta e^(-beta t)."""
    mu, n, beta = math.exp(theta[0]), special.expit(theta[1]), math.exp(theta[2])
    a, b = _hawkes_terms(times, beta)
    t = np.asarray(times)
    intensity = mu + n * beta * a
    remaining = window - t
    tail = np.exp(-beta * remaining)
    loglik = float(np.sum(np.log(intensity)) - mu * window - n * np.sum(1.0 - tail))
    d_mu = np.sum(1.0 / intensity) - window
    d_n = np.sum(beta * a / intensity) - np.sum(1.0 - tail)
    d_beta = np.sum(n * (a + beta * b) / intensity) - n * np.sum(remaining * tail)
    return loglik, np.array([mu * d_mu, n * (1.0 - n) * d_n, beta * d_beta])


def hawkes_log_likelihood(times, window: float, background: float, branching: float, decay_days: float) -> float:
    """Log-likelihood of event times on [0, window] under a Hawkes process with kernel
    (branching / decay_days) exp(-t / decay_days) and constant background rate.

    >>> round(hawkes_log_likelihood([1.0, 2.0], 10.0, 0.2, 0.0, 5.0), 4)   # Poisson: 2 log 0.2 - 2
    -5.2189
    """
    theta = np.array([math.log(background), special.logit(branching) if branching > 0 else -745.0,
                      -math.log(decay_days)])
    return _hawkes_value_and_gradient(theta, sorted(float(x) for x in times), float(window))[0]


@dataclass(frozen=True)
class HawkesFit:
    """Maximum-likelihood Hawkes fit with Wald intervals on the log / logit scale (from the observed
    Fisher information), mapped back: background per day, branching ratio n, decay (kernel mean
    lifetime) in days. ``se_*`` are delta-method standard errors on the natural scale."""

    n_events: int
    window_days: float
    background_per_day: float
    branching_ratio: float
    decay_days: float
    se_background: float
    se_branching: float
    se_decay_days: float
    background_interval: tuple[float, float]
    branching_interval: tuple[float, float]
    decay_interval: tuple[float, float]
    log_likelihood: float
    level: float
    converged: bool

    @property
    def long_run_rate_per_day(self) -> float:
        """Stationary event rate background / (1 - n)."""
        return self.background_per_day / (1.0 - self.branching_ratio)


def fit_hawkes(times, window: float, *, level: float = 0.9) -> HawkesFit:
    """Fit an exponential-kernel Hawkes process to event times on [0, window] by maximum likelihood.

    Optimised (BFGS, analytic gradient) on theta = (log mu, logit n, log beta) from two starting decays (the likelihood can
    have a second mode in the decay); the covariance is the inverse of the observed information
    (central differences of the analytic gradient). Measured coverage of the 90 % Wald intervals
    (200 fits, n = 0.4): nominal when the decay is ~1/365 of the window (~600 events); with the decay
    3/365 of it the decay interval covers ~76 %, and with 14 days over 1-2 years the background
    ~56-67 % and the decay ~69-83 % (the branching ratio ~90 % throughout): read them as too narrow there.
    """
    times = sorted(float(x) for x in times)
    count = len(times)
    if count < 2 or not window > 0 or times[0] < 0 or times[-1] > window:
        raise ValueError(f"need at least 2 event times inside [0, {window}]")
    objective = lambda theta: tuple(-v for v in _hawkes_value_and_gradient(theta, times, window))  # noqa: E731
    gap = window / count
    best = None
    for start_decay in (5.0 * gap, window / 20.0):
        start = np.array([math.log(0.5 * count / window), 0.0, -math.log(start_decay)])
        found = optimize.minimize(objective, start, jac=True, method="BFGS")
        if best is None or found.fun < best.fun:
            best = found
    theta = best.x
    step = 1e-4
    hessian = np.empty((3, 3))
    for k in range(3):
        shift = np.zeros(3)
        shift[k] = step
        hessian[k] = (objective(theta + shift)[1] - objective(theta - shift)[1]) / (2 * step)
    hessian = (hessian + hessian.T) / 2
    try:
        covariance = np.linalg.inv(hessian)
        se = np.sqrt(np.clip(np.diag(covariance), 0.0, None))
        if not np.all(np.isfinite(se)) or np.any(np.diag(covariance) < 0):
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        se = np.full(3, np.inf)
    z = float(stats.norm.ppf(_tails(level)[1]))
    mu, n, beta = math.exp(theta[0]), float(special.expit(theta[1])), math.exp(theta[2])
    with np.errstate(over="ignore"):
        lo, hi = np.exp(theta - z * se), np.exp(theta + z * se)       # log mu, logit n (as odds), log beta
    odds = lambda v: float(v / (1.0 + v)) if np.isfinite(v) else 1.0  # noqa: E731
    return HawkesFit(
        n_events=count, window_days=float(window), background_per_day=mu, branching_ratio=n, decay_days=1.0 / beta,
        se_background=float(mu * se[0]), se_branching=float(n * (1 - n) * se[1]), se_decay_days=float(se[2] / beta),
        background_interval=(float(lo[0]), float(hi[0])), branching_interval=(odds(lo[1]), odds(hi[1])),
        decay_interval=(float(1.0 / hi[2]), float(1.0 / lo[2]) if lo[2] > 0 else math.inf),
        log_likelihood=-float(best.fun), level=level, converged=bool(best.success))


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
