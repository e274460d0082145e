"""Calibration: the model's rates and probabilities estimated from a mapped event table, with uncertainty.

:func:`calibrate` turns a :class:`sim.events.MappedEvents` table (its window) into estimates
(:mod:`sim.calibration_fits`: gamma–Poisson, beta–binomial, censored exponential, Hawkes) and maps
them onto the model's parameters (``PARAMETER_MAP`` in the docs of :func:`calibrate`).
:func:`sim.calibration_command.scenario_yaml` writes a scenario derived from a base scenario whose
calibrated parameters carry provenance (``source: data:<file>``, a figure, the window, the fit,
posterior mean and 90 % interval). ``python -m sim calibrate <events.csv>`` does both
(:mod:`sim.calibration_command`).

>>> from types import SimpleNamespace
>>> days = np.array(["2024-01-01", "2024-01-01", "2024-01-05"], dtype="datetime64[D]")
>>> events = SimpleNamespace(dates=days, kinds=np.array(["ttp_attack", "mass_casualty_attack", "ttp_attack"]),
...     window=(np.datetime64("2024-01-01"), np.datetime64("2024-01-10")))
>>> estimate = attack_rate(events)
>>> estimate.figure, round(estimate.mean, 3)
('3 attacks in 10 days (2024-01-01 to 2024-01-10)', 0.35)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from sim import calibration_fits as fits

__all__ = ["ATTACK_KINDS", "STRIKE_KINDS", "CLASH_KINDS", "CalibrationSettings", "Estimate", "CalibratedParameter",
           "Calibration", "window_days", "attack_rate", "mass_casualty_share", "response_share",
           "closure_after_clash", "crossing_stages", "ceasefire_spells", "attack_clustering", "calibrate",
           "command"]

ATTACK_KINDS = ("ttp_attack", "mass_casualty_attack")          # a mass-casualty attack is an attack too
STRIKE_KINDS = ("cross_border_strike", "decapitation_strike")
CLASH_KINDS = ("border_clash", "taliban_retaliation")            # the model's clash() covers retaliation
NAMED_CROSSINGS = ("torkham", "chaman")


@dataclass(frozen=True)
class CalibrationSettings:
    """Windows of the response probabilities and the data needed before an estimate replaces a prior."""

    level: float = 0.9
    strike_window_days: int = 14         # P(strike within k days after a mass-casualty attack): diagnostic
    retaliation_window_days: int = 14    # P(retaliation within k days after a strike)
    closure_window_days: int = 2         # P(an open crossing closes within k days after a clash)
    collapse_window_days: int = 1        # a collapse within k days after a strike/clash counts as violation-caused
    min_events: int = 5                  # fewer events/trials: reported, but the parameter keeps its base range
    min_hawkes_events: int = 100         # fewer attacks: no Hawkes fit, branching and decay keep their base ranges


@dataclass(frozen=True)
class Estimate:
    """One quantity estimated from the events: posterior mean and interval, and what it rests on."""

    quantity: str
    fit: str
    figure: str
    mean: float
    interval: tuple[float, float]
    n: int                               # events or trials behind it
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CalibratedParameter:
    """A model parameter set from an estimate: point value, range and distribution, with provenance."""

    name: str
    value: float
    low: float
    high: float
    dist: str
    figure: str
    derivation: str
    estimate: str


@dataclass(frozen=True)
class Calibration:
    """Everything :func:`calibrate` found: estimates, calibrated parameters, and those kept at base (why)."""

    source_file: str
    source_format: str
    window: tuple[str, str]
    window_days: int
    base: str
    estimates: dict
    parameters: tuple
    kept: dict
    hawkes: object | None
    unmapped: dict
    settings: CalibrationSettings


# ------------------------------------------------------------------------------------ helpers
def window_days(events) -> int:
    """Days covered by the window, both ends included."""
    start, end = events.window
    return int((np.datetime64(end, "D") - np.datetime64(start, "D")).astype(int)) + 1


def _day_index(events, mask=None) -> np.ndarray:
    dates = events.dates if mask is None else events.dates[mask]
    return (dates.astype("datetime64[D]") - np.datetime64(events.window[0], "D")).astype(np.int64)


def _kind_mask(events, kinds: Sequence[str]) -> np.ndarray:
    return np.isin(np.asarray(events.kinds).astype(str), kinds)


def _window_text(events) -> str:
    return f"{np.datetime64(events.window[0], 'D')} to {np.datetime64(events.window[1], 'D')}"


# ------------------------------------------------------------------------------------ estimates
def attack_rate(events, *, dispersion: float = 1.0, level: float = 0.9) -> Estimate:
    """Attacks per day (ttp_attack + mass_casualty_attack): gamma–Poisson, counts tempered by ``dispersion``."""
    count, days = int(_kind_mask(events, ATTACK_KINDS).sum()), window_days(events)
    posterior = fits.gamma_poisson(count, float(days), dispersion=dispersion)
    return Estimate("TTP attacks per day", f"gamma–Poisson, Jeffreys prior Gamma(1/2, 0), dispersion {dispersion:.2f}",
                    f"{count} attacks in {days} days ({_window_text(events)})", posterior.mean,
                    posterior.interval(level), count, {"shape": posterior.shape, "rate": posterior.rate})


def mass_casualty_share(events, *, level: float = 0.9) -> Estimate:
    """Share of attacks that are mass-casualty: beta–binomial, Jeffreys prior Beta(1/2, 1/2)."""
    attacks = _kind_mask(events, ATTACK_KINDS)
    mass = int(_kind_mask(events, ("mass_casualty_attack",)).sum())
    posterior = fits.beta_binomial(mass, int(attacks.sum()))
    return Estimate("share of attacks that are mass-casualty", "beta–binomial, Jeffreys prior Beta(1/2, 1/2)",
                    f"{mass} mass-casualty attacks of {int(attacks.sum())} attacks ({_window_text(events)})",
                    posterior.mean, posterior.interval(level), int(attacks.sum()), {"a": posterior.a, "b": posterior.b})


def response_share(events, triggers: Sequence[str], responses: Sequence[str], window: int, *, level: float = 0.9,
                   label: str = "") -> Estimate:
    """P(a response within ``window`` days after a trigger, same day included): beta–binomial over the
    triggers whose whole window lies inside the data's window (later ones are censored, left out)."""
    trigger_days = _day_index(events, _kind_mask(events, triggers))
    response_days = np.sort(_day_index(events, _kind_mask(events, responses)))
    usable = trigger_days + window <= window_days(events) - 1
    first = np.searchsorted(response_days, trigger_days[usable], side="left")
    later = np.append(response_days, np.iinfo(np.int64).max)[first]
    hits = int(np.sum(later <= trigger_days[usable] + window))
    posterior = fits.beta_binomial(hits, int(usable.sum()))
    what = label or f"{'/'.join(responses)} within {window} days after {'/'.join(triggers)}"
    return Estimate(f"P({what})", "beta–binomial, Jeffreys prior Beta(1/2, 1/2)",
                    f"{hits} of {int(usable.sum())} {'/'.join(triggers)} events followed within {window} days "
                    f"({_window_text(events)}; {int((~usable).sum())} too late to tell)",
                    posterior.mean, posterior.interval(level), int(usable.sum()),
                    {"successes": hits, "trials": int(usable.sum()), "censored": int((~usable).sum())})


def _crossing_changes(events) -> dict:
    """Per named crossing, its state changes [(day, state)] with state closed | partial | open.

    Dates have day resolution and an export's order within a day is not the order of events, so
    a crossing's changes on one day are put in the order in which each changes its state (a
    closure and a reopening on the same day: shut, then reopened, whichever row came first).

    >>> from sim.events import MappedEvents
    >>> events = MappedEvents(np.array(["2025-01-05", "2025-01-05"], "datetime64[D]"),
    ...     np.array(["trade_reopening", "closure"]), np.array([0, 0]), np.array(["torkham", "torkham"]),
    ...     np.array([2, 3]), "x.csv", "acled", (np.datetime64("2025-01-01"), np.datetime64("2025-01-31")), {})
    >>> _crossing_changes(events)["torkham"]
    [(4, 'closed'), (4, 'open')]
    """
    kinds, crossings = np.asarray(events.kinds).astype(str), np.asarray(events.crossings).astype(str)
    days = _day_index(events)
    states = {"closure": "closed", "partial_reopening": "partial", "trade_reopening": "open"}
    listed = {c: [] for c in NAMED_CROSSINGS}
    for day, kind, crossing in zip(days, kinds, crossings):
        if kind in states and crossing in listed:
            listed[crossing].append((int(day), states[kind]))
    changes = {}
    for crossing, found in listed.items():
        ordered, state = [], "open"
        for day in sorted({day for day, _ in found}):
            waiting = [new for d, new in found if d == day]
            while waiting:  # the first that changes the state, else the rest as they came
                pick = next((k for k, new in enumerate(waiting) if new != state), 0)
                state = waiting.pop(pick)
                ordered.append((day, state))
        changes[crossing] = ordered
    return changes


def _state_on(changes: list, day: int) -> str:
    """State just before ``day`` (open unless a change on an earlier day says otherwise)."""
    state = "open"
    for when, new in changes:
        if when >= day:
            break
        state = new
    return state


def closure_after_clash(events, window: int, *, level: float = 0.9) -> Estimate:
    """P(a crossing not already shut closes within ``window`` days of a clash), per clash and named crossing."""
    changes = _crossing_changes(events)
    clash_days = _day_index(events, _kind_mask(events, CLASH_KINDS))
    last = window_days(events) - 1
    hits = trials = 0
    for crossing, crossing_changes in changes.items():
        closures = np.array([d for d, s in crossing_changes if s == "closed"], dtype=np.int64)
        for day in clash_days:
            if day + window > last or _state_on(crossing_changes, day) == "closed":
                continue
            trials += 1
            hits += bool(np.any((closures >= day) & (closures <= day + window)))
    posterior = fits.beta_binomial(hits, trials)
    return Estimate("P(closure of an open crossing after a clash)", "beta–binomial, Jeffreys prior Beta(1/2, 1/2)",
                    f"{hits} closures in {trials} clash x open-crossing cases within {window} days ({_window_text(events)})",
                    posterior.mean, posterior.interval(level), trials, {"successes": hits, "trials": trials})


def crossing_stages(events) -> dict:
    """Exponential stage exposures per named crossing, censored at the window's end: ``closed`` (to
    partial reopening), ``partial`` (to trade), and ``shut`` (closure while open to trade reopening).
    Each maps to (durations, ended) arrays."""
    end = window_days(events)
    out = {stage: ([], []) for stage in ("closed", "partial", "shut")}
    for changes in _crossing_changes(events).values():
        state, since, shut_since = "open", None, None
        for day, new in changes:
            if new == "closed" and state == "open":
                shut_since = day
            if new == state or (new == "open" and state == "open"):
                continue
            if state in ("closed", "partial"):
                # memoryless stages: a re-closure during "partial" ends that stage censored
                out[state][0].append(day - since)
                out[state][1].append((state, new) in (("closed", "partial"), ("partial", "open"), ("closed", "open")))
            if new == "open" and shut_since is not None:
                out["shut"][0].append(day - shut_since)
                out["shut"][1].append(True)
                shut_since = None
            state, since = new, day
        if state in ("closed", "partial"):
            out[state][0].append(end - since)
            out[state][1].append(False)
        if shut_since is not None:
            out["shut"][0].append(end - shut_since)
            out["shut"][1].append(False)
    return {k: (np.asarray(d, dtype=float), np.asarray(e, dtype=bool)) for k, (d, e) in out.items()}


def ceasefire_spells(events, collapse_window: int) -> dict:
    """Ceasefire spells censored at the window's end; collapses split into spontaneous and
    violation-caused (a strike or clash during the ceasefire within ``collapse_window`` days before);
    and each violation during a ceasefire as a trial of 'did it collapse the ceasefire'."""
    kinds = np.asarray(events.kinds).astype(str)
    days = _day_index(events)
    violations = np.sort(days[np.isin(kinds, STRIKE_KINDS + CLASH_KINDS)])
    durations, spontaneous, trials, hits = [], [], 0, 0
    since = None
    for day, kind in zip(days, kinds):
        if kind == "ceasefire" and since is None:
            since = int(day)
        elif kind == "ceasefire_collapse" and since is not None:
            inside = violations[(violations >= since) & (violations <= day)]
            caused = bool(np.any(inside >= day - collapse_window))
            durations.append(day - since)
            spontaneous.append(not caused)
            trials, hits = trials + inside.size, hits + caused
            since = None
    if since is not None:
        durations.append(window_days(events) - since)
        spontaneous.append(False)
        trials += int(np.sum(violations >= since))
    return {"durations": np.asarray(durations, dtype=float), "spontaneous": np.asarray(spontaneous, dtype=bool),
            "violation_trials": trials, "violation_collapses": hits}


def attack_clustering(events, *, rng: np.random.Generator, level: float = 0.9) -> fits.HawkesFit:
    """Hawkes fit of the attack times; each attack placed uniformly at random within its day (dates
    have day resolution; ties at one instant would read as instant excitation)."""
    days = _day_index(events, _kind_mask(events, ATTACK_KINDS)).astype(float)
    return fits.fit_hawkes(np.sort(days + rng.uniform(0.0, 1.0, days.size)), float(window_days(events)), level=level)


# ------------------------------------------------------------------------------------ mapping
def _parameter(name, value, interval, dist, estimate_key, estimate: Estimate, how: str, events) -> CalibratedParameter:
    low, high = float(min(interval[0], value)), float(max(interval[1], value))
    derivation = (f"{estimate.fit}: {estimate.quantity} posterior mean {estimate.mean:.4g}, 90 % interval "
                  f"[{estimate.interval[0]:.4g}, {estimate.interval[1]:.4g}] over {_window_text(events)}. {how} "
                  f"Range = the 90 % interval, sampled {dist} (about the posterior's spread on that scale).")
    return CalibratedParameter(name, float(value), low, high, dist, estimate.figure, derivation, estimate_key)


def calibrate(events, base, *, rng: np.random.Generator, settings: CalibrationSettings = CalibrationSettings()
              ) -> Calibration:
    """Estimate from ``events`` and map onto ``base`` (a validated Scenario) parameters:

    ttp_attacks_per_year = 365 x attack rate (the observed volume includes excitation, as the
    parameter does; counts tempered by the Hawkes dispersion 1/(1-n)^2); p_mass_casualty_attack =
    share; ttp_branching_ratio, ttp_excitation_decay_days = Hawkes n and 1/beta (>= min_hawkes_events);
    p_retaliation_after_strike = share within k days / (P(delay <= k) x mean multiplier);
    p_closure_after_clash = per clash and open crossing; closure_days_to_partial_reopening,
    partial_days_to_trade_reopening = stage means (or the shut-to-trade mean split in the base's
    proportion); ceasefire_mean_duration_days = exposure / spontaneous collapses;
    p_collapse_on_violation = collapses per violation under ceasefire.
    """
    s, level = settings, settings.level
    value = lambda name: base.parameter(name).value  # noqa: E731
    estimates, params, kept = {}, [], {}
    n_attacks = int(_kind_mask(events, ATTACK_KINDS).sum())

    hawkes = None
    if n_attacks >= s.min_hawkes_events:
        hawkes = attack_clustering(events, rng=rng, level=level)
    else:
        kept["ttp_branching_ratio"] = kept["ttp_excitation_decay_days"] = (
            f"{n_attacks} attacks, fewer than the {s.min_hawkes_events} a Hawkes fit needs: base range kept")
    branching = hawkes.branching_ratio if hawkes else value("ttp_branching_ratio")
    dispersion = 1.0 / (1.0 - branching) ** 2

    rate = attack_rate(events, dispersion=dispersion, level=level)
    estimates["attack_rate"] = rate
    if n_attacks >= s.min_events:
        params.append(_parameter("ttp_attacks_per_year", 365 * rate.mean, [365 * v for v in rate.interval],
                                 "loguniform", "attack_rate", rate,
                                 f"x 365 = long-run volume (excitation included, as the parameter means); counts "
                                 f"treated as overdispersed by 1/(1-n)^2 = {dispersion:.2f} with n = {branching:.2f} "
                                 f"({'Hawkes fit' if hawkes else 'base value'}).", events))
    else:
        kept["ttp_attacks_per_year"] = f"{n_attacks} attacks, fewer than {s.min_events}"

    share = mass_casualty_share(events, level=level)
    estimates["mass_casualty_share"] = share
    if share.n >= s.min_events:
        params.append(_parameter("p_mass_casualty_attack", share.mean, share.interval, "uniform",
                                 "mass_casualty_share", share, "Mass casualty as defined by the event mapping's "
                                 "fatality threshold (the model's mass_casualty_min_fatalities).", events))
    else:
        kept["p_mass_casualty_attack"] = f"{share.n} attacks, fewer than {s.min_events}"

    if hawkes:
        est = Estimate("Hawkes branching ratio and decay",
                       f"Hawkes (exponential kernel) posterior on a grid: branching ratio uniform on "
                       f"{list(hawkes.branching_prior)}, decay log-uniform on {list(hawkes.decay_prior_days)} days, "
                       f"background log-uniform; the first {hawkes.history_days:g} days as history only",
                       f"{hawkes.n_events} attacks in {hawkes.window_days:g} days ({_window_text(events)})",
                       hawkes.branching_ratio, hawkes.branching_interval, hawkes.n_events,
                       {"background_per_day": hawkes.background_per_day, "sd_background": hawkes.sd_background,
                        "background_interval": hawkes.background_interval,
                        "branching_ratio": hawkes.branching_ratio, "sd_branching": hawkes.sd_branching,
                        "decay_days": hawkes.decay_days, "sd_decay_days": hawkes.sd_decay_days,
                        "decay_interval": hawkes.decay_interval})
        estimates["hawkes"] = est
        params.append(_parameter("ttp_branching_ratio", hawkes.branching_ratio,
                                 (hawkes.branching_interval[0], min(hawkes.branching_interval[1], 0.99)), "uniform",
                                 "hawkes", est, f"Posterior mean n = {hawkes.branching_ratio:.3f} (sd {hawkes.sd_branching:.3f}); "
                                 "upper end capped at 0.99.", events))
        decay_est = Estimate("Hawkes decay (kernel mean lifetime, days)", est.fit, est.figure, hawkes.decay_days,
                             hawkes.decay_interval, hawkes.n_events, est.details)
        estimates["hawkes_decay"] = decay_est
        params.append(_parameter("ttp_excitation_decay_days", hawkes.decay_days, hawkes.decay_interval, "loguniform",
                                 "hawkes_decay", decay_est, f"Posterior mean 1/beta = {hawkes.decay_days:.3g} days "
                                 f"(sd {hawkes.sd_decay_days:.3g}).", events))

    k = s.retaliation_window_days
    retaliation = response_share(events, STRIKE_KINDS, ("taliban_retaliation",), k, level=level)
    estimates["retaliation_after_strike"] = retaliation
    delay_share = 1.0 - math.exp(-k / value("retaliation_delay_days"))
    pc, pd = value("p_strike_civilian_harm"), value("p_decapitation_strike")
    multiplier = (1 - pc + pc * value("retaliation_multiplier_civilian_harm")) * (
        1 - pd + pd * value("retaliation_multiplier_decapitation"))
    if retaliation.n >= s.min_events:
        scale = 1.0 / (delay_share * multiplier)
        params.append(_parameter("p_retaliation_after_strike", min(retaliation.mean * scale, 1.0),
                                 [min(v * scale, 1.0) for v in retaliation.interval], "uniform",
                                 "retaliation_after_strike", retaliation,
                                 f"Divided by P(delay <= {k} d) = {delay_share:.3f} (base retaliation_delay_days) and "
                                 f"the mean multiplier {multiplier:.3f} (civilian harm, decapitation at base values); "
                                 "capped at 1.", events))
    else:
        kept["p_retaliation_after_strike"] = f"{retaliation.n} strikes with a full window, fewer than {s.min_events}"

    closure = closure_after_clash(events, s.closure_window_days, level=level)
    estimates["closure_after_clash"] = closure
    if closure.n >= s.min_events:
        params.append(_parameter("p_closure_after_clash", closure.mean, closure.interval, "uniform",
                                 "closure_after_clash", closure, "The model closes each crossing not already "
                                 "shut with this chance at a clash (retaliation included).", events))
    else:
        kept["p_closure_after_clash"] = f"{closure.n} clash x open-crossing cases, fewer than {s.min_events}"

    estimates["strike_after_mass_casualty"] = response_share(
        events, ("mass_casualty_attack",), STRIKE_KINDS, s.strike_window_days, level=level)

    _map_closures(events, base, s, estimates, params, kept)
    _map_ceasefires(events, s, estimates, params, kept)
    return Calibration(str(events.source_file), str(events.source_format),
                       tuple(str(np.datetime64(d, "D")) for d in events.window), window_days(events), base.name,
                       estimates, tuple(params), kept, hawkes, dict(events.unmapped), settings)


def _duration_estimate(quantity: str, durations, ended, events, level: float) -> Estimate | None:
    """The censored-exponential estimate, or None: the mean needs 2 ended spells (Jeffreys'
    Gamma(0, 0)) and some exposure (dates have day resolution: spells ended the day they began
    count 0 days; summed over spells the whole days are unbiased for the time, unless all are 0)."""
    if int(np.sum(ended)) < 2 or float(np.sum(durations)) <= 0.0:
        return None
    fit = fits.censored_exponential(durations, ended)
    return Estimate(quantity, "censored exponential, Jeffreys prior on the rate (1/rate); rate posterior "
                    "Gamma(events, exposure)", f"{fit.events} ended and {fit.censored} still running after "
                    f"{fit.exposure:g} days in all ({_window_text(events)})", fit.mean_duration,
                    fit.duration_interval(level), fit.events, {"exposure": fit.exposure, "mle_rate": fit.mle})


def _map_closures(events, base, s, estimates, params, kept) -> None:
    stages = crossing_stages(events)
    names = {"closed": "closure_days_to_partial_reopening", "partial": "partial_days_to_trade_reopening"}
    found = {stage: _duration_estimate(f"days {stage} (to the next stage)", *stages[stage], events, s.level)
             for stage in ("closed", "partial", "shut")}
    for stage, est in found.items():
        if est is not None:
            estimates[f"crossing_{stage}_days"] = est
    staged = all(found[st] is not None and found[st].n >= s.min_events for st in names)
    if staged:
        for stage, name in names.items():
            params.append(_parameter(name, found[stage].mean, found[stage].interval, "loguniform",
                                     f"crossing_{stage}_days", found[stage], "Mean of the exponential stage.", events))
        return
    total = found["shut"]
    if total is not None and total.n >= s.min_events:
        b1, b2 = (base.parameter(n).value for n in names.values())
        for stage, name, share in (("closed", names["closed"], b1 / (b1 + b2)), ("partial", names["partial"], b2 / (b1 + b2))):
            params.append(_parameter(name, total.mean * share, [v * share for v in total.interval], "loguniform",
                                     "crossing_shut_days", total, f"Too few partial reopenings to fit the stages: "
                                     f"the shut-to-trade mean is split {share:.2f} to this stage as in the base "
                                     "scenario (two exponential stages' means add up).", events))
        return
    for name in names.values():
        kept[name] = f"fewer than {s.min_events} closures ended in the window"


def _map_ceasefires(events, s, estimates, params, kept) -> None:
    spells = ceasefire_spells(events, s.collapse_window_days)
    est = _duration_estimate("ceasefire days to spontaneous collapse", spells["durations"], spells["spontaneous"],
                             events, s.level)
    if est is not None:
        estimates["ceasefire_spontaneous_days"] = est
    if est is not None and est.n >= s.min_events:
        params.append(_parameter("ceasefire_mean_duration_days", est.mean, est.interval, "loguniform",
                                 "ceasefire_spontaneous_days", est, f"Collapses within {s.collapse_window_days} day(s) "
                                 "after a strike or clash count as violation-caused (competing risk: censored here).",
                                 events))
    else:
        kept["ceasefire_mean_duration_days"] = f"fewer than {s.min_events} spontaneous ceasefire collapses"
    trials, hits = spells["violation_trials"], spells["violation_collapses"]
    posterior = fits.beta_binomial(min(hits, trials), trials)
    violation = Estimate("P(collapse after a violation under ceasefire)", "beta–binomial, Jeffreys prior Beta(1/2, 1/2)",
                         f"{hits} collapses after {trials} strikes/clashes under ceasefire ({_window_text(events)})",
                         posterior.mean, posterior.interval(s.level), trials)
    estimates["collapse_on_violation"] = violation
    if trials >= s.min_events:
        params.append(_parameter("p_collapse_on_violation", violation.mean, violation.interval, "uniform",
                                 "collapse_on_violation", violation, "", events))
    else:
        kept["p_collapse_on_violation"] = f"{trials} violations under ceasefire, fewer than {s.min_events}"


def command(argv: Sequence[str]) -> int:
    """``python -m sim calibrate <events.csv> [options]``: see :func:`sim.calibration_command.command`."""
    from sim.calibration_command import command as calibrate_command

    return calibrate_command(argv)
