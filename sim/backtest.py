"""Backtests: run the ensemble from a dated origin and score it against what a timeline says followed.

The timeline file and its format: :mod:`sim.timeline`; the ``backtest`` command, its JSON and
printout: :mod:`sim.backtest_command`.

The as-of date is day 0 of the runs; an event dated d is on day d − as_of. Questions are defined
once: :data:`BINARY_QUESTIONS` (did an event of these kinds happen within W days — run column
``first_<event>_day`` <= W), :data:`COUNT_QUESTIONS` (events in the W days after — run totals from a
batch whose horizon is W), :data:`DURATION_EVENTS` (days to the first event: randomised PIT,
censored when it had not happened by the end). Each is scored beside naive baselines built from the
timeline before the as-of date and scored the same way. Each as-of date's runs start from the situation
the timeline describes on that date (:func:`sim.timeline.start_state_at`, rules in :data:`START_RULES`).

>>> question = BINARY_QUESTIONS["ceasefire_14d"]
>>> question.text, question.window_days, question.run_column
('a ceasefire within 14 days', 14, 'first_ceasefire_day')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from sim import scoring
from sim.events import EVENT_KINDS      # the vocabulary of the event-data module (the contract)
from sim.start import PEACE, StartState, start_record
from sim.timeline import START_RULES, Timeline, read_timeline, start_state_at

__all__ = ["EVENT_KINDS", "Timeline", "read_timeline", "BinaryQuestion", "CountQuestion", "BINARY_QUESTIONS",
           "COUNT_QUESTIONS", "DURATION_EVENTS", "BinaryForecast", "CountForecast", "DurationPit", "OriginScores",
           "score_origin", "START_RULES", "START_STATE_NOTE", "start_state_at", "command"]

START_STATE_NOTE = ("each as-of date's runs start from the situation the timeline describes on that date (rung, "
                    "shut crossings, ceasefire in force, recent attacks, talks under way; day 0 = the as-of date), "
                    "derived by the rules in start_state_rules; the scores measure the scenario from that situation")


# ---------------------------------------------------------------- the questions

def _numbers(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=float)


def _first_within(column: str) -> Callable[..., np.ndarray]:
    return lambda table, window, shut_at_start=0: _numbers(table, column) <= window     # NaN (never) is False


def _shut_mask(start: StartState) -> int:
    """The start state's shut-to-trade bit mask (bit c: CROSSINGS[c] closed or partial), as in the run records."""
    return sum(1 << c for c, state in enumerate(start.crossings) if state != "open")


def _reopened_within(table: pa.Table, window: int, shut_at_start: int = 0) -> np.ndarray:
    """A crossing shut to trade on one day (day 0: the start state's mask) is open again on a later day <= window."""
    lists = table.column("crossings_closed_daily").combine_chunks()
    days = np.asarray(lists.flatten().to_numpy(zero_copy_only=False), dtype=np.int64).reshape(len(lists), -1)
    days = np.concatenate([np.full((len(lists), 1), shut_at_start, np.int64), days[:, :window]], axis=1)
    return ((days[:, :-1] & ~days[:, 1:]) != 0).any(axis=1)


@dataclass(frozen=True)
class BinaryQuestion:
    """Did an event of ``kinds`` happen within ``window_days`` after the as-of date?"""

    name: str
    text: str
    kinds: tuple[str, ...]
    window_days: int
    run_column: str
    happened: Callable[..., np.ndarray] = field(repr=False)   # per run: (table, window, shut-at-start mask)


@dataclass(frozen=True)
class CountQuestion:
    """How many events of ``kinds`` (or their fatalities) in the ``window_days`` after the as-of date?"""

    name: str
    text: str
    kinds: tuple[str, ...]
    window_days: int
    run_column: str                   # the run's total over a batch whose horizon is window_days
    fatalities: bool = False          # count the events' fatalities, not the events
    monthly: bool = True              # False: a total over a longer window (monthly counts not recoverable)


_ATTACKS = ("ttp_attack", "mass_casualty_attack")       # a mass-casualty attack is also an attack
_STRIKES = ("cross_border_strike", "decapitation_strike")
_BINARY = [
    BinaryQuestion("ceasefire_14d", "a ceasefire within 14 days", ("ceasefire",), 14, "first_ceasefire_day",
                   _first_within("first_ceasefire_day")),
    BinaryQuestion("trade_reopening_60d", "crossings reopened for trade within 60 days", ("trade_reopening",), 60,
                   "crossings_closed_daily", _reopened_within),
    BinaryQuestion("incursion_180d", "a conventional incursion within 180 days", ("incursion",), 180,
                   "first_incursion_day", _first_within("first_incursion_day")),
    BinaryQuestion("strike_30d", "a Pakistani cross-border strike within 30 days", _STRIKES, 30, "first_strike_day",
                   _first_within("first_strike_day")),
    BinaryQuestion("clash_30d", "a border clash within 30 days", ("border_clash",), 30, "first_clash_day",
                   _first_within("first_clash_day")),
    BinaryQuestion("closure_30d", "a crossing closed within 30 days", ("closure",), 30, "first_closure_day",
                   _first_within("first_closure_day")),
    BinaryQuestion("mass_casualty_30d", "a mass-casualty attack within 30 days", ("mass_casualty_attack",), 30,
                   "first_mass_casualty_attack_day", _first_within("first_mass_casualty_attack_day")),
]
#: The binary questions, by name.
BINARY_QUESTIONS: Mapping[str, BinaryQuestion] = MappingProxyType({q.name: q for q in _BINARY})
_COUNTS = [
    CountQuestion("attacks_30d", "TTP attacks in the 30 days after", _ATTACKS, 30, "attacks"),
    CountQuestion("mass_casualty_attacks_30d", "mass-casualty attacks in the 30 days after",
                  ("mass_casualty_attack",), 30, "mass_casualty_attacks"),
    CountQuestion("strikes_30d", "cross-border strikes in the 30 days after", _STRIKES, 30, "strikes"),
    CountQuestion("clashes_30d", "border clashes in the 30 days after", ("border_clash",), 30, "clashes"),
    CountQuestion("attack_fatalities_30d", "deaths in TTP attacks in the 30 days after", _ATTACKS, 30,
                  "fatalities_ttp_violence", fatalities=True),
    CountQuestion("attacks_180d", "TTP attacks in the 180 days after (total)", _ATTACKS, 180, "attacks", monthly=False),
]
#: The count questions, by name.
COUNT_QUESTIONS: Mapping[str, CountQuestion] = MappingProxyType({q.name: q for q in _COUNTS})
#: Days to the first event: timeline kinds -> run column (for the PIT of observed durations).
DURATION_EVENTS: Mapping[str, tuple[tuple[str, ...], str]] = MappingProxyType({
    "ceasefire": (("ceasefire",), "first_ceasefire_day"), "strike": (_STRIKES, "first_strike_day"),
    "clash": (("border_clash",), "first_clash_day"), "closure": (("closure",), "first_closure_day"),
    "mass_casualty_attack": (("mass_casualty_attack",), "first_mass_casualty_attack_day"),
    "incursion": (("incursion",), "first_incursion_day"),
})


def horizons_needed() -> tuple[int, ...]:
    """The run horizons the questions need: the longest window, and each count window."""
    return tuple(sorted({max(q.window_days for q in _BINARY), *(q.window_days for q in _COUNTS)}))


# ---------------------------------------------------------------- forecasts and scores of one origin

@dataclass(frozen=True)
class BinaryForecast:
    """One binary question at one origin: what happened, and each forecaster's p and scores."""

    question: str
    text: str
    as_of: str
    window_end: str
    observed: int | None              # None: unresolved (window not over and no event yet)
    forecasts: dict                   # forecaster -> {"p", "brier", "log", ...}; absent if unavailable


@dataclass(frozen=True)
class CountForecast:
    question: str
    text: str
    as_of: str
    window_end: str
    observed: int | None
    monthly: bool
    forecasts: dict                   # forecaster -> {"mean", "crps", "ignorance", "pit", ...}


@dataclass(frozen=True)
class DurationPit:
    event: str
    as_of: str
    observed_day: int | None          # None: censored at ``censored_day``
    censored_day: int | None
    pit: float


@dataclass(frozen=True)
class OriginScores:
    as_of: str
    binary: tuple[BinaryForecast, ...]
    counts: tuple[CountForecast, ...]
    durations: tuple[DurationPit, ...]
    skipped: tuple[str, ...]
    start_state: dict | None = None   # sim.start.start_record of the runs' start state


def _share_by(values: np.ndarray, day: float) -> float:
    return float(np.mean(values <= day))             # NaN (never within the horizon) counts as later


def _binary_scores(p: float, observed: int) -> dict:
    return {"p": p, "brier": float(scoring.brier_score(p, observed)), "log": float(scoring.log_score(p, observed))}


_BOOTSTRAP = 100     # resamples of the runs for the Monte Carlo standard error of the model's scores


def _model_binary(happened: np.ndarray, observed: int, rng: np.random.Generator) -> dict:
    """The ensemble's p with its Wilson CI, its scores, and their Monte Carlo SE (binomial resampling)."""
    from sim.analysis import wilson_interval

    n, k = happened.size, int(happened.sum())
    redrawn = rng.binomial(n, k / n, _BOOTSTRAP) / n
    return {**_binary_scores(k / n, observed), "ci95": wilson_interval(k, n), "n_runs": n,
            "brier_mc_se": float(np.std(scoring.brier_score(redrawn, observed), ddof=1)),
            "log_mc_se": float(np.std(scoring.log_score(redrawn, observed), ddof=1))}


def _model_count(ensemble: np.ndarray, y: int, rng: np.random.Generator) -> dict:
    """The ensemble's count forecast, its CRPS, ignorance and PIT, and the scores' Monte Carlo SE (bootstrap)."""
    redrawn = ensemble[rng.integers(0, ensemble.size, (_BOOTSTRAP, ensemble.size))]
    targets = np.full(_BOOTSTRAP, y)
    return {"mean": float(ensemble.mean()), "q05_q50_q95": np.quantile(ensemble, [0.05, 0.5, 0.95]),
            "crps": float(scoring.crps_ensemble(ensemble, y)), "ignorance": float(scoring.ignorance_score(ensemble, y)),
            "pit": float(scoring.count_pit(ensemble, y, rng=rng)), "n_runs": ensemble.size,
            "crps_mc_se": float(np.std(scoring.crps_ensemble(redrawn, targets), ddof=1)),
            "ignorance_mc_se": float(np.std(scoring.ignorance_score(redrawn, targets), ddof=1))}


def _history(timeline: Timeline, as_of: np.datetime64, kinds, days: int, fatalities: bool = False):
    """Events (or deaths) of ``kinds`` in the ``days`` up to and including the as-of date; None if not covered."""
    if timeline.dates[0] > as_of - days + 1:
        return None
    chosen = timeline.between(as_of - days, as_of, kinds)
    if fatalities:
        deaths = timeline.fatalities[chosen]
        return None if np.isnan(deaths).any() else float(deaths.sum())
    return float(chosen.sum())


def _climatology(timeline: Timeline, as_of: np.datetime64, kinds, window: int) -> float | None:
    """Share of the window-long stretches (d, d + W] inside the history before as-of holding an event."""
    start, days = timeline.dates[0] - 1, int((as_of - timeline.dates[0]).astype(int)) + 1
    if days < window:
        return None
    hit_days = np.unique((timeline.dates[np.isin(timeline.kinds, list(kinds)) & (timeline.dates <= as_of)]
                          - start).astype(int))          # day numbers 1..days
    ends = np.arange(window, days + 1)               # stretch (e − W, e]
    inside = np.searchsorted(hit_days, ends, side="right") - np.searchsorted(hit_days, ends - window, side="right")
    return float(np.mean(inside > 0))


def score_origin(timeline: Timeline, as_of, runs_by_horizon: Mapping[int, pa.Table], *,
                 observed_until=None, trailing_days: int = 180, start: StartState = PEACE,
                 rng: np.random.Generator) -> OriginScores:
    """Score the ensemble (``runs_by_horizon``: a batch per horizon of :func:`horizons_needed`, day 0 =
    ``as_of``, started from ``start``) and the baselines on every question the timeline resolves after ``as_of``."""

    as_of = np.datetime64(as_of, "D")
    until = np.datetime64(observed_until, "D") if observed_until is not None else timeline.dates[-1]
    long_runs = runs_by_horizon[max(runs_by_horizon)]
    binary, counts, durations, skipped = [], [], [], []
    for q in _BINARY:
        end = as_of + q.window_days
        happened = bool(timeline.between(as_of, min(end, until), q.kinds).any())
        observed = 1 if happened else 0 if end <= until else None
        if observed is None:
            skipped.append(f"{q.name} from {as_of}: unresolved (window ends {end}, timeline observed to {until})")
            continue
        forecasts = {"model": _model_binary(np.asarray(q.happened(long_runs, q.window_days, _shut_mask(start)), bool), observed, rng)}
        clim = _climatology(timeline, as_of, q.kinds, q.window_days)
        last = _history(timeline, as_of, q.kinds, q.window_days)
        if clim is not None:
            forecasts["climatology"] = _binary_scores(clim, observed)
        if last is not None:
            forecasts["persistence"] = _binary_scores(float(last > 0), observed)
        binary.append(BinaryForecast(q.name, q.text, str(as_of), str(end), observed, forecasts))
    for q in _COUNTS:
        end = as_of + q.window_days
        if end > until:
            skipped.append(f"{q.name} from {as_of}: window ends {end}, after the timeline's end {until}")
            continue
        chosen = timeline.between(as_of, end, q.kinds)
        if q.fatalities and (not np.isfinite(timeline.fatalities).any() or np.isnan(timeline.fatalities[chosen]).any()):
            skipped.append(f"{q.name} from {as_of}: fatalities not given for every event in the window")
            continue
        y = int(timeline.fatalities[chosen].sum()) if q.fatalities else int(chosen.sum())
        ensemble = _numbers(runs_by_horizon[q.window_days], q.run_column)
        forecasts = {"model": _model_count(ensemble, y, rng)}
        last = _history(timeline, as_of, q.kinds, q.window_days, q.fatalities)
        if last is not None:
            forecasts["persistence"] = {"mean": last, "crps": float(scoring.crps_ensemble([last], y)),
                                        "ignorance": float(scoring.ignorance_score([last], y))}
        span = min(trailing_days, int((as_of - timeline.dates[0]).astype(int)) + 1)
        trailing = _history(timeline, as_of, q.kinds, span, q.fatalities)
        if trailing is not None:
            mu = (trailing + 0.5) / span * q.window_days
            forecasts["poisson_trailing"] = {"mean": mu, "trailing_days": span, "crps": float(scoring.crps_poisson(mu, y)),
                                             "ignorance": float(scoring.poisson_ignorance(mu, y)),
                                             "pit": float(scoring.poisson_pit(mu, y, rng=rng))}
        counts.append(CountForecast(q.name, q.text, str(as_of), str(end), y, q.monthly, forecasts))
    horizon = int(max(runs_by_horizon))
    for event, (kinds, column) in DURATION_EVENTS.items():
        days = _numbers(long_runs, column)
        after = timeline.dates[timeline.between(as_of, until, kinds)]
        seen = int((after[0] - as_of).astype(int)) if after.size else None
        if seen is not None and seen <= horizon:         # happened during day `seen`: time in (seen − 1, seen]
            u = scoring.randomised_pit(_share_by(days, seen - 1), _share_by(days, seen), rng=rng)
            durations.append(DurationPit(event, str(as_of), seen, None, float(u)))
        else:                                             # not by the end of the timeline (or of the runs)
            censored = min(horizon, int((until - as_of).astype(int)))
            u = scoring.randomised_pit(_share_by(days, censored), 1.0, rng=rng)
            durations.append(DurationPit(event, str(as_of), None, censored, float(u)))
    return OriginScores(str(as_of), tuple(binary), tuple(counts), tuple(durations), tuple(skipped),
                        start_record(start))


# ---------------------------------------------------------------- pooling origins

def _mean(values) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


def _pooled(rows: Sequence[dict], scores: Sequence[str]) -> dict:
    """Each forecaster's mean scores over the forecasts it made, and its paired difference from the model
    (mean, SE across forecasts) over the forecasts both made."""
    names = list(dict.fromkeys(name for row in rows for name in row))
    out = {}
    for name in names:
        made = [row for row in rows if name in row]
        entry = {"n": len(made), **{s: _mean([row[name][s] for row in made]) for s in scores}}
        if name == "model":
            entry.update({f"{s}_mc_se_bound": _mean([row[name][f"{s}_mc_se"] for row in made]) for s in scores})
        else:
            for s in scores:
                diff = np.array([row["model"][s] - row[name][s] for row in made if "model" in row])
                entry[f"model_minus_this_{s}"] = {
                    "mean": _mean(diff), "se": float(diff.std(ddof=1) / math.sqrt(diff.size)) if diff.size > 1 else None,
                    "n": int(diff.size)}
        out[name] = entry
    return out


def summarise(origins: Sequence[OriginScores]) -> dict:
    """Pooled scores (binary: Brier, log; counts per question: CRPS, ignorance), reliability rows and PIT values."""
    binary = [f for o in origins for f in o.binary]
    counts = [f for o in origins for f in o.counts]
    by_question = {name: _pooled([f.forecasts for f in counts if f.question == name], ("crps", "ignorance"))
                   for name in dict.fromkeys(f.question for f in counts)}
    reliability = {}
    for name in ("model", "climatology", "persistence"):
        made = [f for f in binary if name in f.forecasts]
        if made:
            reliability[name] = scoring.reliability_table([f.forecasts[name]["p"] for f in made],
                                                          [f.observed for f in made])
    pit = {"model": [f.forecasts["model"]["pit"] for f in counts] + [d.pit for o in origins for d in o.durations],
           "poisson_trailing": [f.forecasts["poisson_trailing"]["pit"] for f in counts
                                if "poisson_trailing" in f.forecasts]}
    return {"binary": _pooled([f.forecasts for f in binary], ("brier", "log")),
            "ignorance_all_counts": _pooled([f.forecasts for f in counts], ("ignorance",)),
            "counts": by_question, "reliability": reliability, "pit": pit}


def command(argv: Sequence[str]) -> int:
    """``python -m sim backtest <timeline.csv> --as-of DATE [options]``: see :func:`sim.backtest_command.command`."""
    from sim.backtest_command import command as backtest_command

    return backtest_command(argv)
