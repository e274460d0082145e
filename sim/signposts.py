"""Signposts: what an analyst can observe by day D, and what it says about the outcome.

Indicators are defined once, in :data:`INDICATORS`: a name, a description, the columns read and a
function of the runs table and the observation day D giving one boolean per run. Only what
happened by the end of day D counts (``first_<event>_day <= D``, the rung or the crossings at the
end of day D); the outcome is the run's class over the whole horizon. For each indicator and
outcome :func:`assess_signposts` gives P(outcome | indicator), P(outcome | not), the base rate and
the lift P(o | I) / P(o) with 95 % intervals; :func:`watch_list` ranks them; :func:`condition`
keeps the runs matching what has been observed ("given what happened so far, what now?").
Figures: :mod:`sim.signposts_plots`.

>>> import pyarrow as pa
>>> table = pa.table({"outcome": ["limited_war", "de_escalation", "limited_war", "de_escalation"],
...                   "first_clash_day": [3.5, float("nan"), 40.0, float("nan")]})
>>> result = condition(table, {"clash": True}, day=30)
>>> result.n_matched, result.conditional["limited_war"].p
(1, 1.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Callable, Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from sim import wep
from sim.analysis import ProportionEstimate, wilson_interval
from sim.commands import CommandParser, reports_errors, write_outputs
from sim.errors import ConfigError, ResultsError
from sim.model import OUTCOME_CLASSES, RUNG_INDEX
from sim.plotting import pretty_name
from sim.results import CUMULATIVE, load_results

__all__ = ["Indicator", "INDICATORS", "OUTCOMES", "Signpost", "SignpostReport", "ConditionResult",
           "indicator_values", "outcome_masks", "lift_interval", "risk_ratio_interval", "assess_signposts",
           "watch_list", "condition", "run_columns", "command", "condition_command"]

#: Outcomes assessed: the classes, then the cumulative tails.
OUTCOMES: tuple[str, ...] = OUTCOME_CLASSES + tuple(CUMULATIVE)
_TAILS = {"regional_war": ("regional_war",) + tuple(CUMULATIVE),
          "incursion": tuple(CUMULATIVE), "ground_operation": ("limited_war_or_worse",)}
#: Bits of ``crossings_closed_daily`` (one value a day: which crossings are shut to trade at its end;
#: bit c is crossing c of sim.model.CROSSINGS). Runs of an engine without the column skip these indicators.
TORKHAM_BIT, CHAMAN_BIT = 1, 2


@dataclass(frozen=True)
class Indicator:
    """Something an analyst can see by day D; ``observe(table, day)`` is True for the runs showing it."""

    name: str
    description: str                  # "{day}" stands for the observation day
    columns: tuple[str, ...]          # columns read; without them the indicator is skipped
    observe: Callable[[pa.Table, int], np.ndarray] = field(repr=False)
    implies: tuple[str, ...] = ()     # outcomes it makes certain: part of their definition

    def describe(self, day: int) -> str:
        return self.description.format(day=day)


def _numbers(table: pa.Table, column: str) -> np.ndarray:
    return np.asarray(table.column(column).to_numpy(zero_copy_only=False), dtype=float)


def _daily(table: pa.Table, column: str, day: int) -> np.ndarray:
    """Values of a per-day list column for days 1..day, shape (runs, day)."""
    lists = table.column(column).combine_chunks()
    if pc.min(pc.list_value_length(lists)).as_py() < day:
        raise ResultsError(f"{column}: some runs hold fewer than {day} days; the observation day is past the horizon")
    head = pc.list_slice(lists, 0, day)
    return np.asarray(head.flatten().to_numpy(zero_copy_only=False)).reshape(len(lists), day)


def _max_rung_by(table: pa.Table, day: int) -> np.ndarray:
    """Most severe rung entered by the end of ``day`` (from rung_path and its entry days)."""
    paths = table.column("rung_path").combine_chunks()
    rungs = np.asarray(paths.flatten().to_numpy(zero_copy_only=False), dtype=np.int16)
    days = np.asarray(table.column("rung_path_days").combine_chunks().flatten().to_numpy(zero_copy_only=False))
    offsets = np.asarray(paths.offsets.to_numpy())
    starts = offsets[:-1] - offsets[0]                                  # a sliced array keeps its offsets
    return np.maximum.reduceat(np.where(days <= day, rungs, -1), starts)


def _event(kind: str) -> Callable:
    return lambda table, day: _numbers(table, f"first_{kind}_day") <= day    # NaN (never) compares False


def _registry() -> Mapping[str, Indicator]:
    events = {
        "mass_casualty_attack": "a mass-casualty attack by day {day}",
        "decapitation_strike": "a decapitation strike hit a city by day {day}",
        "strike": "a Pakistani cross-border strike by day {day}",
        "retaliation": "Taliban retaliation on border posts by day {day}",
        "clash": "a border clash by day {day}",
        "seizure": "border posts seized by day {day}",
        "closure": "a crossing closed by day {day}",
        "ceasefire": "a ceasefire agreed by day {day}",
        "ceasefire_collapse": "a ceasefire collapsed by day {day}",
        "mediation_offer": "a third party offered mediation by day {day}",
        "china_mediation_offer": "China offered mediation by day {day}",
        "attack_on_chinese_nationals": "Chinese nationals attacked by day {day}",
        "incursion": "a conventional incursion began by day {day}",
        "regional_war": "a regional war began by day {day}",
    }
    items = [Indicator(kind, text, (f"first_{kind}_day",), _event(kind), _TAILS.get(kind, ()))
             for kind, text in events.items()]
    on_day = lambda rung: lambda t, d: _daily(t, "rung_daily", d)[:, -1] >= RUNG_INDEX[rung]  # noqa: E731
    items += [
        Indicator("calm_on_day", "back at (or still at) low intensity on day {day}", ("rung_daily",),
                  lambda t, d: _daily(t, "rung_daily", d)[:, -1] == 0),
        Indicator("clashes_on_day", "at border clashes or worse on day {day}", ("rung_daily",),
                  on_day("border_clashes")),
        Indicator("strike_cycle_on_day", "in a strike–retaliation cycle or worse on day {day}", ("rung_daily",),
                  on_day("strike_retaliation_cycle")),
        Indicator("ground_operation", "a limited ground operation (or worse) began by day {day}",
                  ("rung_path", "rung_path_days"),
                  lambda t, d: _max_rung_by(t, d) >= RUNG_INDEX["limited_ground_operation"],
                  _TAILS["ground_operation"]),
    ]
    shut = lambda bits: lambda t, d: (_daily(t, "crossings_closed_daily", d)[:, -1] & bits) != 0  # noqa: E731
    items += [
        Indicator("crossings_shut", "Torkham or Chaman shut to trade on day {day}", ("crossings_closed_daily",),
                  shut(TORKHAM_BIT | CHAMAN_BIT)),
        Indicator("torkham_shut", "Torkham shut to trade on day {day}", ("crossings_closed_daily",),
                  shut(TORKHAM_BIT)),
        Indicator("chaman_shut", "Chaman shut to trade on day {day}", ("crossings_closed_daily",), shut(CHAMAN_BIT)),
    ]
    return MappingProxyType({item.name: item for item in items})


#: The one registry of indicators, by name.
INDICATORS: Mapping[str, Indicator] = _registry()


def _check_day(table: pa.Table, day) -> int:
    if isinstance(day, bool) or not float(day).is_integer() or day < 1:
        raise ConfigError(f"day={day!r}: must be a whole number of days >= 1")
    if "rung_daily" in table.column_names and table.num_rows:
        _check_horizon(day, pc.max(pc.list_value_length(table.column("rung_daily"))).as_py())
    return int(day)


def _check_horizon(day: int, horizon: int) -> None:
    if day > horizon:
        raise ConfigError(f"day={day}: past the {horizon}-day horizon of these runs")


def run_columns(indicators: Sequence[str] | None = None, *, ladder: bool = True) -> tuple[str, ...]:
    """The run columns read to evaluate ``indicators`` (default: all): the outcome, each indicator's
    columns and, with ``ladder``, the ladder path (for what is already decided by the day).

    >>> run_columns(["clash"], ladder=False)
    ('outcome', 'first_clash_day')
    """
    names = list(INDICATORS) if indicators is None else list(indicators)
    unknown = [n for n in names if n not in INDICATORS]
    if unknown:
        raise ConfigError(f"unknown indicator {unknown[0]!r}; known: {', '.join(INDICATORS)}")
    ladder_columns = ("rung_path", "rung_path_days") if ladder else ()
    return tuple(dict.fromkeys(("outcome", *ladder_columns, *(c for n in names for c in INDICATORS[n].columns))))


def indicator_values(table: pa.Table, day: int, names: Sequence[str] | None = None
                     ) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Each available indicator's booleans per run on ``day``; and the skipped ones with the reason."""
    day = _check_day(table, day)
    names = list(INDICATORS) if names is None else list(names)
    unknown = [n for n in names if n not in INDICATORS]
    if unknown:
        raise ConfigError(f"unknown indicator {unknown[0]!r}; known: {', '.join(INDICATORS)}")
    values, skipped = {}, {}
    for name in names:
        missing = [c for c in INDICATORS[name].columns if c not in table.column_names]
        if missing:
            skipped[name] = f"column {missing[0]} is not in these runs (older engine?)"
        else:
            values[name] = np.asarray(INDICATORS[name].observe(table, day), dtype=bool)
    return values, skipped


def outcome_masks(table: pa.Table) -> dict[str, np.ndarray]:
    """For each of :data:`OUTCOMES`, True for the runs ending in it."""
    outcome = np.asarray(table.column("outcome").to_numpy(zero_copy_only=False))
    masks = {name: outcome == name for name in OUTCOME_CLASSES}
    masks.update({name: np.isin(outcome, classes) for name, classes in CUMULATIVE.items()})
    return masks


def lift_interval(with_case, with_total, case_total, n, confidence: float = 0.95):
    """Lift P(o | I) / P(o) and its CI: delta method for the log lift over the 2 x 2 multinomial.

    The indicator's runs are part of all runs, so the two proportions are not independent (the
    Katz interval for a ratio of independent proportions does not apply): with cells a = I and o,
    b = I not o, c = not I and o, d = the rest, log lift = log a - log(a+b) - log(a+c) + log N,
    whose delta-method variance is sum(g_i^2 x cell_i). No case under I: lift 0, upper bound
    from the Wilson upper bound of P(o | I). Arrays broadcast.

    >>> [round(v, 3) for v in lift_interval(30, 100, 60, 400)]
    [2.0, 1.584, 2.525]
    >>> lift_interval(40, 400, 40, 400)
    (1.0, 1.0, 1.0)
    """
    a, m, k, n = (np.asarray(v, dtype=float) for v in (with_case, with_total, case_total, n))
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    b, c = m - a, k - a
    d = n - a - b - c
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = (a / m) / (k / n)
        ga, gb, gc = 1 / a - 1 / m - 1 / k + 1 / n, 1 / n - 1 / m, 1 / n - 1 / k
        var = ga**2 * a + gb**2 * b + gc**2 * c + d / n**2
        var = np.where(m == n, 0.0, var)                              # every run shows it: exactly 1
        lo, hi = lift * np.exp(-z * np.sqrt(var)), lift * np.exp(z * np.sqrt(var))
        zero_hi = np.asarray(wilson_interval(a, np.maximum(m, 1), confidence)[1]) / (k / n)
    lo, hi = np.where(a == 0, 0.0, lo), np.where(a == 0, zero_hi, hi)
    nan = (m == 0) | (k == 0)
    out = [np.where(nan, np.nan, v) for v in (lift, lo, hi)]
    return tuple(float(v) for v in out) if out[0].ndim == 0 else tuple(out)


def risk_ratio_interval(with_case, with_total, without_case, without_total, confidence: float = 0.95):
    """Risk ratio P(o | I) / P(o | not I) with the Katz log interval (0.5 added to every cell if one is 0).

    >>> [round(v, 3) for v in risk_ratio_interval(30, 100, 30, 300)]
    [3.0, 1.908, 4.717]
    """
    a, m, c, w = (float(v) for v in (with_case, with_total, without_case, without_total))
    if m == 0 or w == 0:
        return (float("nan"),) * 3
    if a == 0 and c == 0:
        return (float("nan"),) * 3
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    ratio = (a / m) / (c / w) if c else float("nan")                  # infinite: no case without I
    if 0 in (a, c, m - a, w - c):
        a, c, m, w = a + 0.5, c + 0.5, m + 1, w + 1
    half = z * math.sqrt(1 / a - 1 / m + 1 / c - 1 / w)
    centre = (a / m) / (c / w)
    return ratio, centre * math.exp(-half), centre * math.exp(half)


@dataclass(frozen=True)
class Signpost:
    """One indicator against one outcome: conditional, complementary and base rates, lift (95 % CIs)."""

    indicator: str
    description: str
    outcome: str
    n_runs: int
    n_with: int                       # runs showing the indicator by the day
    n_cases_with: int                 # of those, runs ending in the outcome
    prevalence: float
    prevalence_ci95: tuple[float, float]
    p_given: float                    # P(outcome | indicator)
    p_given_ci95: tuple[float, float]
    p_given_not: float                # P(outcome | not indicator)
    p_given_not_ci95: tuple[float, float]
    base_rate: float
    base_rate_ci95: tuple[float, float]
    lift: float                       # P(o | I) / P(o), delta-method CI (see lift_interval)
    lift_ci95: tuple[float, float]
    risk_ratio: float                 # P(o | I) / P(o | not I), Katz CI
    risk_ratio_ci95: tuple[float, float]
    small_n: bool                     # too few runs or cases under the indicator to lean on
    part_of_outcome: bool             # the indicator makes the outcome certain (its definition)


def _share(k: int, n: int) -> tuple[float, tuple[float, float]]:
    if n == 0:
        return float("nan"), (float("nan"), float("nan"))
    return k / n, wilson_interval(k, n)


def _signpost(indicator: Indicator, day: int, outcome: str, shown: np.ndarray, case: np.ndarray,
              min_runs: int, min_cases: int) -> Signpost:
    n, m, k = shown.size, int(shown.sum()), int(case.sum())
    a = int((shown & case).sum())
    lift, lift_lo, lift_hi = lift_interval(a, m, k, n)
    ratio, ratio_lo, ratio_hi = risk_ratio_interval(a, m, k - a, n - m)
    return Signpost(indicator.name, indicator.describe(day), outcome, n, m, a, *_share(m, n), *_share(a, m),
                    *_share(k - a, n - m), *_share(k, n), lift, (lift_lo, lift_hi), ratio, (ratio_lo, ratio_hi),
                    m < min_runs or a < min_cases, outcome in indicator.implies)


@dataclass(frozen=True)
class SignpostReport:
    """Every available indicator against every outcome on one observation day."""

    day: int
    n_runs: int
    signposts: tuple[Signpost, ...]
    skipped: dict                     # indicator -> why it could not be evaluated
    decided_by_day: dict              # outcome -> share of runs already certain to end in it by the day
    min_runs: int
    min_cases: int

    def get(self, indicator: str, outcome: str) -> Signpost:
        return next(s for s in self.signposts if s.indicator == indicator and s.outcome == outcome)


def assess_signposts(table: pa.Table, day: int = 30, *, outcomes: Sequence[str] = OUTCOMES,
                     indicators: Sequence[str] | None = None, min_runs: int = 100,
                     min_cases: int = 10) -> SignpostReport:
    """P(outcome | indicator seen by ``day``) against the base rate, for every indicator and outcome.

    A signpost is flagged ``small_n`` under ``min_runs`` runs or ``min_cases`` cases with the indicator."""
    unknown = [o for o in outcomes if o not in OUTCOMES]
    if unknown:
        raise ConfigError(f"unknown outcome {unknown[0]!r}; known: {', '.join(OUTCOMES)}")
    if table.num_rows == 0:
        raise ResultsError("no runs to assess")
    values, skipped = indicator_values(table, day, indicators)
    masks = outcome_masks(table)
    rows = tuple(_signpost(INDICATORS[name], int(day), outcome, shown, masks[outcome], min_runs, min_cases)
                 for name, shown in values.items() for outcome in outcomes)
    decided = {}
    if {"rung_path", "rung_path_days"} <= set(table.column_names):
        reached = _max_rung_by(table, int(day))
        decided = {"regional_war": float(np.mean(reached >= RUNG_INDEX["regional_war"])),
                   "incursion_or_worse": float(np.mean(reached >= RUNG_INDEX["conventional_incursion"])),
                   "limited_war_or_worse": float(np.mean(reached >= RUNG_INDEX["limited_ground_operation"]))}
    return SignpostReport(int(day), table.num_rows, rows, skipped, decided, min_runs, min_cases)


def watch_list(report: SignpostReport, outcome: str = "incursion_or_worse") -> list[Signpost]:
    """The "what to watch" ranking for ``outcome``: indicators with enough runs by lift (highest
    first), then those flagged small-n, then those that are part of the outcome's definition."""
    rows = [s for s in report.signposts if s.outcome == outcome and s.n_with > 0 and not math.isnan(s.lift)]
    if not rows and outcome not in OUTCOMES:
        raise ConfigError(f"unknown outcome {outcome!r}; known: {', '.join(OUTCOMES)}")
    return sorted(rows, key=lambda s: (s.part_of_outcome, s.small_n, -s.lift))


@dataclass(frozen=True)
class ConditionResult:
    """The outcome distribution of the runs matching what was observed by ``day``, against all runs."""

    day: int
    observed: dict
    n_runs: int
    n_matched: int
    conditional: dict                 # outcome -> ProportionEstimate among the matching runs
    unconditional: dict               # outcome -> ProportionEstimate among all runs
    lift: dict                        # outcome -> (lift, low, high)
    skipped: dict = field(default_factory=dict)


def _estimate(k: int, n: int) -> ProportionEstimate:
    return ProportionEstimate(k / n, wilson_interval(k, n), n, k)


def condition(table: pa.Table, observed: Mapping[str, bool], day: int) -> ConditionResult:
    """Keep the runs whose indicators on ``day`` match ``observed`` ({name: True/False}); their
    outcome distribution (95 % Wilson CIs) against the unconditional one, and the lift."""
    for name, value in observed.items():
        if name not in INDICATORS:
            raise ConfigError(f"unknown indicator {name!r}; known: {', '.join(INDICATORS)}")
        if not isinstance(value, (bool, np.bool_)):
            raise ConfigError(f"{name}={value!r}: observed values must be True or False")
    values, skipped = indicator_values(table, day, list(observed))
    if skipped:
        name = next(iter(skipped))
        raise ResultsError(f"{name}: cannot be evaluated on these runs: {skipped[name]}")
    match = np.ones(table.num_rows, bool)
    for name, value in observed.items():
        match &= values[name] == bool(value)
    n, m = table.num_rows, int(match.sum())
    if m == 0:
        raise ResultsError(f"no run of {n:,} matches {_observed_text(observed)} by day {day}: the model never "
                           "produced this combination, so there is nothing to condition on")
    masks = outcome_masks(table)
    cond = {o: _estimate(int((masks[o] & match).sum()), m) for o in OUTCOMES}
    base = {o: _estimate(int(masks[o].sum()), n) for o in OUTCOMES}
    lift = {o: lift_interval(cond[o].successes, m, base[o].successes, n) for o in OUTCOMES}
    return ConditionResult(int(day), {k: bool(v) for k, v in observed.items()}, n, m, cond, base, lift)


def _observed_text(observed: Mapping[str, bool]) -> str:
    return ", ".join(f"{k}={'yes' if v else 'no'}" for k, v in observed.items()) or "nothing"


def _parser(prog: str, what: str) -> CommandParser:
    p = CommandParser(prog=prog, description=what)
    p.add_argument("results", help="a finished results folder")
    p.add_argument("--day", type=int, default=30, help="observation day D: what happened by the end of day D")
    p.add_argument("--out", default=None, help="output folder (default results/<command>_<time>_<token>)")
    return p


def _pct_ci(p: float, ci) -> str:
    return f"{wep.format_percent(p)} [{wep.format_percent(ci[0])}, {wep.format_percent(ci[1])}]"


def _watch_row(s: Signpost) -> dict:
    return {"name": s.indicator, "description": s.description, "prevalence": s.prevalence, "n": s.n_with,
            "p_given": s.p_given, "ci95_given": s.p_given_ci95, "p_given_not": s.p_given_not, "lift": s.lift,
            "ci95_lift": s.lift_ci95, "small_n": s.small_n, "part_of_outcome": s.part_of_outcome}


@reports_errors
def command(argv: Sequence[str]) -> int:
    """``python -m sim signposts <results dir> [--day 30]``: the what-to-watch table, JSON and plot."""
    parser = _parser("python -m sim signposts", "What to watch: how indicators seen by day D move the odds of "
                     "each outcome (lift with 95 % CIs), ranked.")
    parser.add_argument("--outcome", default="incursion_or_worse", help=f"outcome to rank by; one of "
                        f"{', '.join(OUTCOMES)}")
    parser.add_argument("--min-runs", type=int, default=100, help="runs an indicator needs to be ranked with "
                        "the others (fewer: flagged small n)")
    args = parser.parse_args(list(argv))
    if args.outcome not in OUTCOMES:
        raise ConfigError(f"--outcome: unknown outcome {args.outcome!r}; known: {', '.join(OUTCOMES)}")
    summary, table, _ = load_results(args.results, columns=run_columns())
    report = assess_signposts(table, args.day, min_runs=args.min_runs)
    ranked = watch_list(report, args.outcome)
    second = "limited_war_or_worse" if args.outcome != "limited_war_or_worse" else "incursion_or_worse"
    base = next(s for s in report.signposts if s.outcome == args.outcome) if report.signposts else None
    payload = {"kind": "signposts", "results": args.results, "scenario": summary.get("scenario"),
               "day": report.day, "n_runs": report.n_runs, "outcome": args.outcome,
               "title": f"Signposts: what to watch by day {report.day}",
               "base_rate": {"p": base.base_rate, "ci95": base.base_rate_ci95} if base else {},
               "indicators": [_watch_row(s) for s in ranked], "signposts": report.signposts,
               "skipped": report.skipped, "decided_by_day": report.decided_by_day,
               "indicator_descriptions": {n: INDICATORS[n].describe(report.day) for n in INDICATORS},
               "figures": [{"file": "signposts_lift.png", "alt": "Lift of each indicator with 95 % CIs",
                            "caption": f"How much each indicator seen by day {report.day} multiplies the chance "
                                       f"of {pretty_name(args.outcome)} and of {pretty_name(second)} (log scale)."}],
               "notes": ["an indicator counts if it happened by the end of day D; outcomes are over the whole "
                         "horizon, so some are partly decided by day D (decided_by_day)",
                         "lift = P(o | I) / P(o): 95 % CI by the delta method on the log lift over the 2x2 "
                         "multinomial (the indicator's runs are part of all runs); proportions: Wilson",
                         f"small_n: fewer than {report.min_runs} runs or {report.min_cases} cases with the "
                         "indicator; part_of_outcome: the indicator makes the outcome certain"]}
    from sim.signposts_plots import lift_figure

    folder = write_outputs("signposts", args.out, payload, {
        "signposts_lift": lambda: lift_figure(report, (args.outcome, second), scenario=summary.get("scenario"))})
    base = ranked[0].base_rate if ranked else float("nan")
    print(f"what to watch by day {report.day} for {pretty_name(args.outcome)} (base rate {wep.format_percent(base)}, "
          f"{report.n_runs:,} runs):")
    print(f"  {'indicator':<28} {'seen in':>8}  {'P(outcome | seen) [95 % CI]':<30} {'if not seen':>11}  "
          f"{'lift [95 % CI]':<20} flags")
    for s in ranked:
        flags = ", ".join(f for f, on in (("small n", s.small_n), ("part of the outcome", s.part_of_outcome)) if on)
        print(f"  {s.indicator:<28} {wep.format_percent(s.prevalence):>8}  {_pct_ci(s.p_given, s.p_given_ci95):<30} "
              f"{wep.format_percent(s.p_given_not) if s.n_with < s.n_runs else '—':>11}  "
              f"{s.lift:5.2f} [{s.lift_ci95[0]:.2f}, {s.lift_ci95[1]:.2f}]{'':<4} {flags}")
    for name, why in report.skipped.items():
        print(f"  skipped {name}: {why}")
    if args.outcome in report.decided_by_day:
        print(f"  by day {report.day}, {wep.format_percent(report.decided_by_day[args.outcome])} of runs are already "
              f"{pretty_name(args.outcome)}")
    print(f"output: {folder}")
    return 0


_YES, _NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}


@reports_errors
def condition_command(argv: Sequence[str]) -> int:
    """``python -m sim condition <results dir> --day 30 name=yes ...``: outcomes given what was seen."""
    parser = _parser("python -m sim condition", "Given what has been observed by day D, the outcome distribution "
                     "of the matching runs against all runs.")
    parser.add_argument("observed", nargs="*", metavar="indicator=yes|no",
                        help=f"observed indicators; known: {', '.join(INDICATORS)}")
    args = parser.parse_intermixed_args(list(argv))
    observed = {}
    for item in args.observed:
        name, _, value = item.partition("=")
        if name not in INDICATORS:
            raise ConfigError(f"unknown indicator {name!r}; known: {', '.join(INDICATORS)}")
        if value.lower() not in _YES | _NO:
            raise ConfigError(f"{item}: give {name}=yes or {name}=no")
        observed[name] = value.lower() in _YES
    summary, table, _ = load_results(args.results, columns=run_columns(observed, ladder=False))
    if "rung_daily" not in table.column_names:                     # the horizon check _check_day cannot do
        _check_horizon(args.day, math.ceil(summary["horizon_days"]))
    result = condition(table, observed, args.day)
    payload = {"kind": "condition", "results": args.results, "scenario": summary.get("scenario"),
               "day": result.day, "observed": result.observed,
               "described": {n: INDICATORS[n].describe(result.day) for n in result.observed},
               "n_runs": result.n_runs, "n_matched": result.n_matched, "conditional": result.conditional,
               "unconditional": result.unconditional, "lift": result.lift,
               "notes": ["outcomes over the whole horizon; 95 % Wilson CIs; lift CI by the delta method"]}
    from sim.signposts_plots import condition_figure

    folder = write_outputs("condition", args.out, payload, {"condition": lambda: condition_figure(result)})
    print(f"given by day {result.day}: {_observed_text(result.observed)} — {result.n_matched:,} of "
          f"{result.n_runs:,} runs match ({wep.format_percent(result.n_matched / result.n_runs)})")
    print(f"  {'outcome':<26} {'given this [95 % CI]':<30} {'all runs [95 % CI]':<30} lift")
    for o in OUTCOMES:
        c, u, (lift, lo, hi) = result.conditional[o], result.unconditional[o], result.lift[o]
        print(f"  {pretty_name(o):<26} {_pct_ci(c.p, c.ci95):<30} {_pct_ci(u.p, u.ci95):<30} "
              + ("—" if math.isnan(lift) else f"{lift:.2f} [{lo:.2f}, {hi:.2f}]"))
    if result.n_matched < 100:
        print(f"  only {result.n_matched} runs match: wide intervals; run more runs for a sharper answer")
    print(f"output: {folder}")
    return 0
