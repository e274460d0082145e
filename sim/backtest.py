"""Backtests: run the ensemble from a dated origin and score it against what a timeline says followed.

A timeline is a CSV with columns ``date`` (YYYY-MM-DD), ``event_kind`` (one of EVENT_KINDS),
``details`` and ``source``, optionally ``fatalities`` (whole number; empty = unknown) and
``crossing`` (torkham, chaman or empty); rows starting with ``#`` are comments. It is taken to
cover every event from its first date to ``observed_until`` (default: its last date).

The as-of date is day 0 of the runs; an event dated d is on day d − as_of. Questions are defined
once: :data:`BINARY_QUESTIONS` (did an event of these kinds happen within W days — run column
``first_<event>_day`` <= W), :data:`COUNT_QUESTIONS` (events in the W days after — run totals from a
batch whose horizon is W), :data:`DURATION_EVENTS` (days to the first event: randomised PIT,
censored when it had not happened by the end). Each is scored beside naive baselines built from the
timeline before the as-of date and scored the same way. Until start states exist, every run starts
from the scenario's initial state (peace), not the observed situation: ``start_state`` is None.

>>> question = BINARY_QUESTIONS["ceasefire_14d"]
>>> question.text, question.window_days, question.run_column
('a ceasefire within 14 days', 14, 'first_ceasefire_day')
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from sim import scoring
from sim.commands import CommandParser, output_folder, reports_errors, write_outputs
from sim.errors import ConfigError

from sim.events import EVENT_KINDS      # the vocabulary of the event-data module (the contract)

__all__ = ["EVENT_KINDS", "Timeline", "read_timeline", "BinaryQuestion", "CountQuestion", "BINARY_QUESTIONS",
           "COUNT_QUESTIONS", "DURATION_EVENTS", "BinaryForecast", "CountForecast", "DurationPit", "OriginScores",
           "score_origin", "START_STATE_NOTE", "command"]

START_STATE_NOTE = ("runs start from the scenario's initial state (peace on day 0), not from the situation observed "
                    "on the as-of date: start states are not implemented yet, so these scores measure the scenario "
                    "as a forecast from peace")
_REQUIRED = ("date", "event_kind", "details", "source")
_CROSSINGS = ("", "torkham", "chaman")


@dataclass(frozen=True)
class Timeline:
    """The events of a timeline file, sorted by date; ``lines`` are file line numbers (1 = header)."""

    path: str
    dates: np.ndarray                 # datetime64[D]
    kinds: np.ndarray                 # str, each in EVENT_KINDS
    details: np.ndarray
    sources: np.ndarray
    fatalities: np.ndarray            # float: NaN = not given
    crossings: np.ndarray
    lines: np.ndarray
    notes: tuple[str, ...] = ()

    def between(self, after: np.datetime64, upto: np.datetime64, kinds: Sequence[str]) -> np.ndarray:
        """True for the events of ``kinds`` dated in (after, upto]."""
        return (self.dates > after) & (self.dates <= upto) & np.isin(self.kinds, list(kinds))


def _date(text: str, where: str) -> np.datetime64:
    try:
        if len(text.strip()) != 10:
            raise ValueError
        return np.datetime64(text.strip(), "D")
    except ValueError:
        raise ConfigError(f"{where}: date {text!r} is not YYYY-MM-DD") from None


def read_timeline(path: str | Path) -> Timeline:
    """Read and validate a timeline CSV; the first problem is one ConfigError naming file and line.

    >>> import tempfile, os
    >>> with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as f:
    ...     _ = f.write("date,event_kind,details,source\\n2025-10-12,border_clash,Kurram,Reuters\\n")
    >>> read_timeline(f.name).kinds.tolist(); os.remove(f.name)
    ['border_clash']
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the timeline ({error.strerror or error})") from None
    notes = []
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        text = raw.decode("latin-1")
        notes.append(f"{path}: not UTF-8 (byte {raw[error.start]:#x} at offset {error.start}); read as latin-1")
    reader = csv.reader(text.splitlines())
    rows = [(reader.line_num, row) for row in reader                # line_num: the record's last line
            if row and any(cell.strip() for cell in row) and not row[0].lstrip().startswith("#")]
    if not rows:
        raise ConfigError(f"{path}: empty timeline; expected a header {','.join(_REQUIRED)}")
    header_line, header = rows[0]
    names = [cell.strip().lower() for cell in header]
    missing = [name for name in _REQUIRED if name not in names]
    if missing:
        raise ConfigError(f"{path} line {header_line}: header lacks column {missing[0]!r}; "
                          f"required: {', '.join(_REQUIRED)} (optional: fatalities, crossing)")
    if len(rows) == 1:
        raise ConfigError(f"{path}: the timeline has a header but no events")
    column = {name: names.index(name) for name in (*_REQUIRED, "fatalities", "crossing") if name in names}
    events = []
    for number, row in rows[1:]:
        where = f"{path} line {number}"
        if len(row) != len(names):
            raise ConfigError(f"{where}: {len(row)} fields, the header has {len(names)} (quote commas in details)")
        get = lambda name: row[column[name]].strip() if name in column else ""  # noqa: E731
        kind = get("event_kind")
        if kind not in EVENT_KINDS:
            raise ConfigError(f"{where}: unknown event_kind {kind!r}; known: {', '.join(EVENT_KINDS)}")
        if not get("source"):
            raise ConfigError(f"{where}: empty source; say where the event is reported")
        deaths = get("fatalities")
        if deaths and not (deaths.isdigit()):
            raise ConfigError(f"{where}: fatalities {deaths!r} is not a whole number >= 0 (leave empty if unknown)")
        crossing = get("crossing").lower()
        if crossing not in _CROSSINGS:
            raise ConfigError(f"{where}: crossing {crossing!r}; known: torkham, chaman or empty")
        events.append((_date(get("date"), where), kind, get("details"), get("source"),
                       float(deaths) if deaths else math.nan, crossing, number))
    events.sort(key=lambda event: (event[0], event[-1]))
    columns = list(zip(*events))
    return Timeline(str(path), np.array(columns[0], dtype="datetime64[D]"),
                    *(np.array(c, dtype=object) for c in columns[1:4]), np.array(columns[4], dtype=float),
                    np.array(columns[5], dtype=object), np.array(columns[6], dtype=np.int64), tuple(notes))


# ---------------------------------------------------------------- the questions

def _numbers(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=float)


def _first_within(column: str) -> Callable[[pa.Table, int], np.ndarray]:
    return lambda table, window: _numbers(table, column) <= window          # NaN (never) is False


def _reopened_within(table: pa.Table, window: int) -> np.ndarray:
    """A crossing shut to trade on one day (day 0: the start state, open) is open again on a later day <= window."""
    lists = table.column("crossings_closed_daily").combine_chunks()
    days = np.asarray(lists.flatten().to_numpy(zero_copy_only=False), dtype=np.int64).reshape(len(lists), -1)
    days = np.concatenate([np.zeros((len(lists), 1), np.int64), days[:, :window]], axis=1)
    return ((days[:, :-1] & ~days[:, 1:]) != 0).any(axis=1)


@dataclass(frozen=True)
class BinaryQuestion:
    """Did an event of ``kinds`` happen within ``window_days`` after the as-of date?"""

    name: str
    text: str
    kinds: tuple[str, ...]
    window_days: int
    run_column: str
    happened: Callable[[pa.Table, int], np.ndarray] = field(repr=False)   # per run, given the window


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
                 observed_until=None, trailing_days: int = 180, rng: np.random.Generator) -> OriginScores:
    """Score the ensemble (``runs_by_horizon``: a batch per horizon of :func:`horizons_needed`, day 0 =
    ``as_of``) and the baselines on every question that the timeline resolves after ``as_of``."""
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
        forecasts = {"model": _model_binary(np.asarray(q.happened(long_runs, q.window_days), bool), observed, rng)}
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
    return OriginScores(str(as_of), tuple(binary), tuple(counts), tuple(durations), tuple(skipped))


# ---------------------------------------------------------------- pooling origins, the command

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


def _as_of_dates(values: Sequence[str], timeline: Timeline, until: np.datetime64) -> list[np.datetime64]:
    dates = [_date(value, "--as-of") for value in values]
    for date in dates:
        if not timeline.dates[0] <= date < until:
            raise ConfigError(f"--as-of {date}: must lie in the timeline's span, from {timeline.dates[0]} to "
                              f"before {until}")
    return sorted(set(dates))


def _run_batches(scenario: str, overrides: Sequence[str], runs: int, workers: int | None) -> dict:
    """One ensemble per horizon of :func:`horizons_needed` (common seed), day 0 = the as-of date."""
    from sim.results import PLOT_ROWS, run

    for item in overrides:
        if item.split("=")[0].lstrip("+") in ("n_runs", "horizon_days"):
            raise ConfigError(f"{item}: set the runs with --runs; the horizons follow the questions' windows")
    if not 1 <= runs <= PLOT_ROWS:
        raise ConfigError(f"--runs {runs}: must be between 1 and {PLOT_ROWS:,}")
    return {h: run(scenario, overrides=["engine=fast", *overrides, f"n_runs={runs}", f"horizon_days={h}"],
                   workers=workers) for h in horizons_needed()}


def _fmt(value, digits: int = 3) -> str:
    return "—" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


@reports_errors
def command(argv: Sequence[str]) -> int:
    """``python -m sim backtest <timeline.csv> --as-of DATE [--as-of DATE ...] [--runs N] [--scenario NAME]
    [--observed-until DATE] [--trailing-days 180] [--workers N] [--out DIR] [-- overrides]``."""
    parser = CommandParser(prog="python -m sim backtest", description="Run the ensemble from an as-of date and "
                           "score it, beside naive baselines, against what the timeline says followed.")
    parser.add_argument("timeline", help="timeline CSV: date,event_kind,details,source[,fatalities,crossing]")
    parser.add_argument("--as-of", action="append", required=True, help="origin date YYYY-MM-DD (repeatable)")
    parser.add_argument("--runs", type=int, default=10_000, help="runs per ensemble (default 10,000)")
    parser.add_argument("--scenario", default="baseline", help="scenario to run (default baseline)")
    parser.add_argument("--observed-until", default=None, help="last day the timeline covers (default its last date)")
    parser.add_argument("--trailing-days", type=int, default=180, help="history for the Poisson baseline's rate")
    parser.add_argument("--workers", type=int, default=1, help="processes per ensemble (default 1)")
    parser.add_argument("--out", default=None, help="output folder (default results/backtest_<time>_<token>)")
    argv = list(argv)
    split = argv.index("--") if "--" in argv else len(argv)
    args = parser.parse_args(argv[:split])
    overrides = argv[split + 1:]
    if args.trailing_days < 1:
        raise ConfigError(f"--trailing-days {args.trailing_days}: must be >= 1")
    timeline = read_timeline(args.timeline)
    until = _date(args.observed_until, "--observed-until") if args.observed_until else timeline.dates[-1]
    if until < timeline.dates[-1]:
        raise ConfigError(f"--observed-until {until}: before the timeline's last event ({timeline.dates[-1]})")
    origins_at = _as_of_dates(args.as_of, timeline, until)
    output_folder("backtest", args.out)                      # a bad --out fails before the runs
    batches = _run_batches(args.scenario, overrides, args.runs, args.workers)
    config = batches[max(batches)].config
    rng = np.random.default_rng([config.seed, 6])            # the randomised PITs and the bootstrap
    tables = {h: results.table for h, results in batches.items()}
    origins = [score_origin(timeline, at, tables, observed_until=until, trailing_days=args.trailing_days, rng=rng)
               for at in origins_at]
    pooled = summarise(origins)
    payload = _payload(args, timeline, until, config, overrides, origins, pooled)
    folder = write_outputs("backtest", args.out, payload, {
        "backtest_reliability": lambda: scoring.reliability_figure(
            pooled["reliability"], title=f"Reliability of {sum(len(o.binary) for o in origins)} binary forecasts "
                                         f"(scenario '{config.scenario.name}', {config.n_runs:,} runs)"),
        "backtest_pit": lambda: scoring.pit_histogram_figure(
            {"model (counts and durations)": pooled["pit"]["model"],
             "Poisson at the trailing rate (counts)": pooled["pit"]["poisson_trailing"]},
            title="PIT of what followed (randomised for counts and censored durations)")})
    _print_table(origins, pooled, config, folder)
    return 0


_NOTES = [
    START_STATE_NOTE,
    "scores are negatively oriented (lower is better): Brier (p − o)²; log score −ln p(o) in nats with forecasts "
    f"clipped to [{scoring.LOG_CLIP:g}, 1 − {scoring.LOG_CLIP:g}]; CRPS = E|X − y| − ½E|X − X'| (ensemble, exact) or "
    "the Poisson closed form; ignorance −log2 P(y) in bits, the ensemble pmf smoothed with one pseudo-run spread "
    "as a geometric pmf with the ensemble mean (at least 1)",
    "baselines from the timeline up to the as-of date: climatology = share of the W-day stretches of the history "
    "holding the event; persistence = what happened in the last W days (binary: 0 or 1; counts: the count, scored "
    "as a one-member ensemble); Poisson at the trailing rate = (events + ½) / days over the trailing days, times W",
    "counts over 30 days come from a batch whose horizon is 30 days (the run record keeps totals and first days, "
    "so later months are not recoverable); the 180-day attack count is scored as the total over the window",
    "PIT of durations: an event on day k after the as-of date gives u ~ U(F(k − 1), F(k)); one that had not "
    "happened by the end of the timeline (or of the runs) gives u ~ U(F(c), 1)",
    "model MC error: per forecast by resampling the runs; for a mean over forecasts the bound assumes perfect "
    "correlation (the forecasts share the runs). The difference from a baseline has its SE across forecasts",
]


def _payload(args, timeline: Timeline, until, config, overrides, origins, pooled) -> dict:
    kinds, counts = np.unique(timeline.kinds.astype(str), return_counts=True)
    n_binary, n_counts = sum(len(o.binary) for o in origins), sum(len(o.counts) for o in origins)
    model = pooled["binary"].get("model", {})
    summary = (f"{n_binary} binary and {n_counts} count forecasts from {len(origins)} as-of date(s), scored against "
               f"{timeline.path}; mean Brier of the model {_fmt(model.get('brier'))}. The runs start from the "
               "scenario's initial state, not the observed situation (start_state: null).")
    return {
        "kind": "backtest", "schema_version": 1, "title": "Backtest: scored against what followed", "summary": summary,
        "start_state": None, "start_state_note": START_STATE_NOTE,
        "timeline": {"file": timeline.path, "n_events": int(timeline.dates.size), "first_date": str(timeline.dates[0]),
                     "last_date": str(timeline.dates[-1]), "observed_until": str(until),
                     "kinds": dict(zip(kinds.tolist(), counts.tolist())), "notes": list(timeline.notes)},
        "scenario": config.scenario.name, "overrides": list(overrides), "n_runs": config.n_runs, "seed": config.seed,
        "engine": config.engine, "horizons_days": list(horizons_needed()),
        "as_of": [o.as_of for o in origins], "trailing_days": args.trailing_days,
        "questions": {"binary": {q.name: {"text": q.text, "kinds": q.kinds, "window_days": q.window_days,
                                          "run_column": q.run_column} for q in _BINARY},
                      "counts": {q.name: {"text": q.text, "kinds": q.kinds, "window_days": q.window_days,
                                          "run_column": q.run_column, "fatalities": q.fatalities,
                                          "monthly": q.monthly} for q in _COUNTS},
                      "durations": {e: {"kinds": k, "run_column": c} for e, (k, c) in DURATION_EVENTS.items()}},
        "binary": [f for o in origins for f in o.binary], "counts": [f for o in origins for f in o.counts],
        "durations": [d for o in origins for d in o.durations],
        "scores": {"binary": pooled["binary"], "counts": pooled["counts"],
                   "ignorance_all_counts": pooled["ignorance_all_counts"]},
        "reliability": {name: table.as_rows() for name, table in pooled["reliability"].items()},
        "pit": {name: {"values": values, "n": len(values),
                       "ks_p": float(scoring.stats.kstest(values, "uniform").pvalue) if values else None}
                for name, values in pooled["pit"].items()},
        "skipped": [item for o in origins for item in o.skipped], "notes": _NOTES,
        "figures": [{"file": "backtest_reliability.png", "alt": "Reliability diagram of the binary forecasts",
                     "caption": "Observed frequency against forecast probability (95 % Wilson CIs), model and "
                                "baselines; few forecasts give wide intervals."},
                    {"file": "backtest_pit.png", "alt": "PIT histograms of the model and the Poisson baseline",
                     "caption": "Calibrated forecasts give a flat PIT histogram; the grey band is the 95 % range "
                                "of a bin under uniformity."}],
    }


def _print_table(origins, pooled, config, folder) -> None:
    print(f"backtest of scenario '{config.scenario.name}' ({config.n_runs:,} runs, engine {config.engine}) from "
          f"{', '.join(o.as_of for o in origins)}")
    print(f"  NOTE: {START_STATE_NOTE}")
    print(f"  {'binary question':<48} {'as of':<11} {'seen':>4}  {'model p':>8} {'climat.':>8} {'persist.':>8}")
    for o in origins:
        for f in o.binary:
            p = lambda name: _fmt(f.forecasts[name]["p"], 2) if name in f.forecasts else "—"  # noqa: E731
            print(f"  {f.text:<48} {f.as_of:<11} {f.observed:>4}  {p('model'):>8} {p('climatology'):>8} "
                  f"{p('persistence'):>8}")
    print(f"  {'forecaster':<20} {'n':>3} {'Brier':>7} {'log':>7}   (lower is better)")
    for name, entry in pooled["binary"].items():
        print(f"  {name:<20} {entry['n']:>3} {_fmt(entry['brier']):>7} {_fmt(entry['log']):>7}")
    print(f"  {'count question':<42} {'as of':<11} {'seen':>5}  {'CRPS model / persist. / Poisson':<34} "
          f"ignorance (bits)")
    for o in origins:
        for f in o.counts:
            get = lambda name, s: _fmt(f.forecasts[name][s], 2) if name in f.forecasts else "—"  # noqa: E731
            names = ("model", "persistence", "poisson_trailing")
            print(f"  {f.text:<42} {f.as_of:<11} {f.observed:>5}  {' / '.join(get(n, 'crps') for n in names):<34} "
                  f"{' / '.join(get(n, 'ignorance') for n in names)}")
    skipped = [item for o in origins for item in o.skipped]
    if skipped:
        print(f"  not scored: {len(skipped)} (see backtest.json 'skipped'), e.g. {skipped[0]}")
    print(f"output: {folder}")
