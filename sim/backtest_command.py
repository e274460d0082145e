"""The ``backtest`` command: for each as-of date, ensembles run per horizon from the situation the timeline
describes on that date, scored with :mod:`sim.backtest`; then ``backtest.json``, the reliability and PIT
figures and a printed table.

>>> _fmt(float("nan")), _fmt(0.12345), _fmt(0.5, 2)
('—', '0.123', '0.50')
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from sim import scoring
from sim.backtest import (BINARY_QUESTIONS, COUNT_QUESTIONS, DURATION_EVENTS, START_RULES, START_STATE_NOTE,
                          horizons_needed, score_origin, summarise)
from sim.commands import CommandParser, output_folder, reports_errors, write_outputs
from sim.errors import ConfigError
from sim.timeline import Timeline, parse_date, read_timeline, start_mapping_at, start_overrides

__all__ = ["command", "describe_start"]


def _as_of_dates(values: Sequence[str], timeline: Timeline, until: np.datetime64) -> list[np.datetime64]:
    dates = [parse_date(value, "--as-of") for value in values]
    for date in dates:
        if not timeline.dates[0] <= date < until:
            raise ConfigError(f"--as-of {date}: must lie in the timeline's span, from {timeline.dates[0]} to "
                              f"before {until}")
    return sorted(set(dates))


def _check_overrides(overrides: Sequence[str], runs: int) -> None:
    from sim.results import PLOT_ROWS

    for item in overrides:
        key = item.split("=")[0].lstrip("+~")
        if key in ("n_runs", "horizon_days"):
            raise ConfigError(f"{item}: set the runs with --runs; the horizons follow the questions' windows")
        if key == "start" or key.startswith("start."):
            raise ConfigError(f"{item}: the start state follows the timeline on each --as-of date; do not set it")
    if not 1 <= runs <= PLOT_ROWS:
        raise ConfigError(f"--runs {runs}: must be between 1 and {PLOT_ROWS:,}")


def _run_batches(scenario: str, overrides: Sequence[str], runs: int, workers: int | None) -> dict:
    """One ensemble per horizon of :func:`horizons_needed` (common seed), day 0 = the as-of date."""
    from sim.results import run

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
    until = parse_date(args.observed_until, "--observed-until") if args.observed_until else timeline.dates[-1]
    if until < timeline.dates[-1]:
        raise ConfigError(f"--observed-until {until}: before the timeline's last event ({timeline.dates[-1]})")
    origins_at = _as_of_dates(args.as_of, timeline, until)
    _check_overrides(overrides, args.runs)
    output_folder("backtest", args.out)                      # a bad --out fails before the runs
    origins, rng = [], None
    for at in origins_at:                                    # one batch per horizon from each date's situation
        batches = _run_batches(args.scenario, [*overrides, *start_overrides(start_mapping_at(timeline, at))],
                               args.runs, args.workers)
        config = batches[max(batches)].config
        if rng is None:
            rng = np.random.default_rng([config.seed, 6])    # the randomised PITs and the bootstrap
        origins.append(score_origin(timeline, at, {h: results.table for h, results in batches.items()},
                                    observed_until=until, trailing_days=args.trailing_days, start=config.start,
                                    rng=rng))
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
    "the crossings-reopened question counts, in the runs, a crossing shut on day 0 (the start state) or later "
    "that is open again within the window",
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
               f"{timeline.path}; mean Brier of the model {_fmt(model.get('brier'))}. Each as-of date's runs start "
               "from the situation the timeline describes on that date (start_state).")
    return {
        "kind": "backtest", "schema_version": 1, "title": "Backtest: scored against what followed", "summary": summary,
        "start_state": {o.as_of: o.start_state for o in origins}, "start_state_note": START_STATE_NOTE,
        "start_state_rules": list(START_RULES),
        "timeline": {"file": timeline.path, "n_events": int(timeline.dates.size), "first_date": str(timeline.dates[0]),
                     "last_date": str(timeline.dates[-1]), "observed_until": str(until),
                     "kinds": dict(zip(kinds.tolist(), counts.tolist())), "notes": list(timeline.notes)},
        "scenario": config.scenario.name, "overrides": list(overrides), "n_runs": config.n_runs, "seed": config.seed,
        "engine": config.engine, "horizons_days": list(horizons_needed()),
        "as_of": [o.as_of for o in origins], "trailing_days": args.trailing_days,
        "questions": {"binary": {q.name: {"text": q.text, "kinds": q.kinds, "window_days": q.window_days,
                                          "run_column": q.run_column} for q in BINARY_QUESTIONS.values()},
                      "counts": {q.name: {"text": q.text, "kinds": q.kinds, "window_days": q.window_days,
                                          "run_column": q.run_column, "fatalities": q.fatalities,
                                          "monthly": q.monthly} for q in COUNT_QUESTIONS.values()},
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


def describe_start(record) -> str:
    """One line for a :func:`sim.start.start_record`.

    >>> describe_start({"rung": "border_clashes", "crossings": {"torkham": {"state": "closed", "since_days": 3.0}},
    ...     "ceasefire_since_days": None, "recent_attack_days_ago": [1.0, 4.0], "mediation": None})
    'border_clashes; torkham closed 3 d; no ceasefire; 2 attacks in the look-back'
    """
    shut = ", ".join(f"{c} {s['state']} {s['since_days']:g} d" for c, s in (record.get("crossings") or {}).items())
    ceasefire = record.get("ceasefire_since_days")
    talks = record.get("mediation")
    return "; ".join([record["rung"], shut or "crossings open",
                      "no ceasefire" if ceasefire is None else f"ceasefire for {ceasefire:g} d",
                      f"{len(record.get('recent_attack_days_ago') or [])} attacks in the look-back",
                      *([f"talks under way ({talks['mediator']})"] if talks else [])])


def _print_table(origins, pooled, config, folder) -> None:
    print(f"backtest of scenario '{config.scenario.name}' ({config.n_runs:,} runs, engine {config.engine}) from "
          f"{', '.join(o.as_of for o in origins)}")
    for o in origins:
        print(f"  start {o.as_of}: {describe_start(o.start_state)}")
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
