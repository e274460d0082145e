"""Escalation paths: each run's ladder moves and key events in compact form, the most frequent paths
to each outcome, time spent on each rung, and an alluvial chart of how runs move between rungs.

A run's story writes the rungs it entered (codes in :data:`RUNG_CODES`) joined by "→"; the first of
each key event (codes in :data:`EVENT_CODES`) sits in parentheses after the rung the run was on when
it happened (an event on the instant it moved the ladder counts on the rung it moved from).
Figures: :mod:`sim.paths_plots`.

>>> run_story([0, 2, 1], [0.0, 10.0, 40.0], {"strike": 9.0, "retaliation": 10.0, "ceasefire": 40.0})
'L(s r)→C(f)→B'
>>> path_code([0, 1, 0, 1, 2, 1, 2, 1, 3]), path_code([0, 1, 0, 1, 2, 1, 3], "escalation")
('L⇄B→C⇄B→G', 'L→B→C→G')
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sim import analysis, io, wep
from sim.commands import CommandParser, output_folder, publish, reports_errors
from sim.errors import ConfigError, ResultsError
from sim.model import OUTCOME_CLASSES, RUNGS

__all__ = ["RUNG_CODES", "EVENT_CODES", "COLLAPSE_RULES", "run_story", "path_code", "LadderPaths",
           "ladder_paths", "visit_lengths", "days_on_rungs", "max_rungs", "first_entry_days", "rungs_at",
           "PathShare", "OutcomePaths", "top_paths", "RungTime", "time_on_rungs", "RUN_COLUMNS", "command"]

#: One letter per rung of :data:`sim.model.RUNGS` (the legend of every path string).
RUNG_CODES: dict[str, str] = {
    "low_intensity": "L", "border_clashes": "B", "strike_retaliation_cycle": "C",
    "limited_ground_operation": "G", "conventional_incursion": "I", "regional_war": "R",
}
#: Key events (first occurrence, from the ``first_<event>_day`` columns), lower case so they never
#: read as rungs; listed in the order used for events on the same instant (cause before effect).
#: First incursion and first regional war are not listed: they are the rung entries I and R.
EVENT_CODES: dict[str, str] = {
    "mass_casualty_attack": "m", "attack_on_chinese_nationals": "a", "strike": "s", "decapitation_strike": "d",
    "retaliation": "r", "clash": "k", "seizure": "z", "closure": "c", "mediation_offer": "o",
    "china_mediation_offer": "n", "ceasefire": "f", "ceasefire_collapse": "x",
}
#: How path strings are grouped when counting paths (see :func:`path_code`).
COLLAPSE_RULES: dict[str, str] = {
    "exact": "every rung entered, in order",
    "cycles": "a run of 4 or more visits alternating between two rungs (A→B→A→B…) is written once as A⇄B",
    "escalation": "only the entries that set a new highest rung (the staircase of escalation)",
}
#: The run columns the paths command reads.
RUN_COLUMNS: tuple[str, ...] = ("run_index", "outcome", "rung_path", "rung_path_days",
                                *(f"first_{kind}_day" for kind in EVENT_CODES))
_CODE_OF = tuple(RUNG_CODES[rung] for rung in RUNGS)
_OSCILLATION_MIN_VISITS = 4
SCHEMA_VERSION = 1


def run_story(rungs: Sequence[int], days: Sequence[float], first_days: Mapping[str, float]) -> str:
    """One run's compact story: rung codes joined by "→", key events in parentheses on their rung."""
    entry_days = [float(np.float32(day)) for day in days]            # event days rounded alike: ties stay ties
    events = sorted((float(np.float32(first_days[kind])), order, code)
                    for order, (kind, code) in enumerate(EVENT_CODES.items())
                    if kind in first_days and math.isfinite(first_days[kind]))
    on_visit: list[list[str]] = [[] for _ in entry_days]
    for day, _, code in events:
        on_visit[max(bisect.bisect_left(entry_days, day) - 1, 0)].append(code)
    return "→".join(_CODE_OF[rung] + (f"({' '.join(codes)})" if codes else "")
                    for rung, codes in zip(rungs, on_visit))


def path_code(rungs: Sequence[int], collapse: str = "cycles") -> str:
    """The rung sequence as a string of codes, grouped by one of :data:`COLLAPSE_RULES`.

    >>> path_code([0, 2, 1, 2, 1, 2, 1, 0, 1]), path_code([0, 1, 0, 2], "exact")
    ('L→C⇄B→L→B', 'L→B→L→C')
    """
    if collapse not in COLLAPSE_RULES:
        raise ConfigError(f"collapse: {collapse!r} is not one of {', '.join(COLLAPSE_RULES)}")
    seq = [int(r) for r in rungs]
    if collapse == "exact":
        return "→".join(_CODE_OF[r] for r in seq)
    if collapse == "escalation":
        highs = [r for r, before in zip(seq, [-1, *np.maximum.accumulate(seq)[:-1]]) if r > before]
        return "→".join(_CODE_OF[r] for r in highs)
    tokens, i = [], 0
    while i < len(seq):
        end = i + 1
        while end < len(seq) and (end - i < 2 or seq[end] == seq[end - 2]):
            end += 1                                   # the alternating run starting at i ends before `end`
        if end - i >= _OSCILLATION_MIN_VISITS:
            tokens.append(f"{_CODE_OF[seq[i]]}⇄{_CODE_OF[seq[i + 1]]}")
            i = end
        else:
            tokens.append(_CODE_OF[seq[i]])
            i += 1
    return "→".join(tokens)


@dataclass(frozen=True, eq=False)
class LadderPaths:
    """Every run's ladder path, flattened: run i entered ``rungs[offsets[i]:offsets[i+1]]`` on those ``days``."""

    run_index: np.ndarray
    outcome: np.ndarray
    rungs: np.ndarray
    days: np.ndarray
    offsets: np.ndarray
    horizon_days: float
    first_days: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_runs(self) -> int:
        return int(self.run_index.size)

    @property
    def entry_run(self) -> np.ndarray:
        """The run (row position) of each flat entry."""
        return np.repeat(np.arange(self.n_runs), np.diff(self.offsets))

    def path(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        start, stop = self.offsets[row], self.offsets[row + 1]
        return self.rungs[start:stop], self.days[start:stop]

    def stories(self) -> list[str]:
        """Every run's :func:`run_story`, in row order."""
        rungs, days = self.rungs.tolist(), self.days.tolist()
        events = {kind: values.tolist() for kind, values in self.first_days.items()}
        bounds = self.offsets.tolist()
        return [run_story(rungs[start:stop], days[start:stop], {kind: values[row] for kind, values in events.items()})
                for row, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:]))]


def _flat(table: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    column = table.column(name).combine_chunks()
    lengths = np.asarray(pc.list_value_length(column).to_numpy(zero_copy_only=False))
    return np.asarray(pc.list_flatten(column).to_numpy(zero_copy_only=False)), lengths


def ladder_paths(table: pa.Table, horizon_days: float) -> LadderPaths:
    """Read the ``rung_path``/``rung_path_days`` (and ``first_<event>_day``) columns of a runs table.

    >>> paths = ladder_paths(pa.table({"run_index": [0], "outcome": ["limited_war"],
    ...     "rung_path": [[0, 3]], "rung_path_days": [[0.0, 5.5]]}), horizon_days=10)
    >>> days_on_rungs(paths)[0].tolist()
    [5.5, 0.0, 0.0, 4.5, 0.0, 0.0]
    """
    missing = [name for name in ("run_index", "outcome", "rung_path", "rung_path_days")
               if name not in table.column_names]
    if missing:
        raise ResultsError(f"runs table lacks the column(s) {', '.join(missing)}: not a table of run records")
    if table.num_rows == 0:
        raise ResultsError("runs table is empty: no paths to analyse")
    rungs, lengths = _flat(table, "rung_path")
    days, day_lengths = _flat(table, "rung_path_days")
    if not np.array_equal(lengths, day_lengths) or (lengths < 1).any():
        raise ResultsError("rung_path and rung_path_days: each run needs one entry day per rung, at least one")
    if rungs.min() < 0 or rungs.max() >= len(RUNGS):
        raise ResultsError(f"rung_path: rung indices must be in 0..{len(RUNGS) - 1}")
    days = days.astype(float)
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    steps = np.diff(days)
    steps[offsets[1:-1] - 1] = 0.0                                  # no order across runs
    if (days < 0).any() or (days > horizon_days).any() or (steps < 0).any():
        raise ResultsError(f"rung_path_days: entry days must rise within a run and lie in 0..{horizon_days:g}")
    first_days = {kind: np.asarray(table.column(f"first_{kind}_day").to_numpy(zero_copy_only=False), dtype=float)
                  for kind in EVENT_CODES if f"first_{kind}_day" in table.column_names}
    return LadderPaths(np.asarray(table.column("run_index").to_numpy(zero_copy_only=False)),
                       np.asarray(table.column("outcome").to_pylist(), dtype=object), rungs.astype(np.int64),
                       days, offsets, float(horizon_days), first_days)


def visit_lengths(paths: LadderPaths) -> np.ndarray:
    """Days spent on each flat entry (visit): to the next entry, or to the horizon for a run's last."""
    ends = np.empty_like(paths.days)
    ends[:-1] = paths.days[1:]
    ends[paths.offsets[1:] - 1] = paths.horizon_days
    return ends - paths.days


def days_on_rungs(paths: LadderPaths) -> np.ndarray:
    """Total days on each rung per run, shape (runs, rungs): the ``days_at_<rung>`` columns, from paths."""
    cells = paths.entry_run * len(RUNGS) + paths.rungs
    totals = np.bincount(cells, weights=visit_lengths(paths), minlength=paths.n_runs * len(RUNGS))
    return totals.reshape(paths.n_runs, len(RUNGS))


def max_rungs(paths: LadderPaths) -> np.ndarray:
    """Highest rung each run entered."""
    return np.maximum.reduceat(paths.rungs, paths.offsets[:-1])


def first_entry_days(paths: LadderPaths) -> np.ndarray:
    """Day each run first entered each rung, shape (runs, rungs); NaN = never (censored at the horizon)."""
    first = np.full((paths.n_runs, len(RUNGS)), np.inf)
    np.minimum.at(first, (paths.entry_run, paths.rungs), paths.days)
    return np.where(np.isfinite(first), first, np.nan)


def rungs_at(paths: LadderPaths, days: Sequence[float]) -> np.ndarray:
    """Rung in force at each time (after that instant's moves), shape (runs, times); day d = end of day d.

    >>> paths = ladder_paths(pa.table({"run_index": [0], "outcome": ["limited_war"],
    ...     "rung_path": [[0, 1, 3]], "rung_path_days": [[0.0, 2.0, 2.0]]}), horizon_days=10)
    >>> rungs_at(paths, [0, 1, 2, 10]).tolist()
    [[0, 0, 3, 3]]
    """
    columns = []
    for day in days:
        if not 0 <= day <= paths.horizon_days:
            raise ConfigError(f"days: {day:g} is outside the horizon 0..{paths.horizon_days:g}")
        entered = np.bincount(paths.entry_run[paths.days <= day], minlength=paths.n_runs)
        columns.append(paths.rungs[paths.offsets[:-1] + np.maximum(entered, 1) - 1])
    return np.stack(columns, axis=1)


@dataclass(frozen=True)
class PathShare:
    """One path, how many runs took it, and its share of the outcome's runs and of all runs (Wilson CIs)."""

    path: str
    count: int
    share_of_outcome: float
    share_of_outcome_ci95: tuple[float, float]
    share_of_runs: float
    share_of_runs_ci95: tuple[float, float]


@dataclass(frozen=True)
class OutcomePaths:
    """The most frequent paths among runs ending in one outcome class (``"all runs"``: every run)."""

    outcome: str
    n_runs: int
    share_of_runs: float
    n_distinct_paths: int
    top: tuple[PathShare, ...]

    @property
    def other_share(self) -> float:
        """Share of the outcome's runs on paths outside the top list."""
        return 1.0 - sum(entry.share_of_outcome for entry in self.top) if self.n_runs else 0.0


def top_paths(paths: LadderPaths, *, top: int = 5, collapse: str = "cycles") -> tuple[OutcomePaths, ...]:
    """Most frequent paths per outcome class (in OUTCOME_CLASSES order), then over all runs."""
    if top < 1:
        raise ConfigError(f"top: must be at least 1, got {top}")
    codes = np.array([path_code(paths.path(row)[0], collapse) for row in range(paths.n_runs)], dtype=object)
    total, out = paths.n_runs, []
    for outcome in (*OUTCOME_CLASSES, "all runs"):
        mine = codes if outcome == "all runs" else codes[paths.outcome == outcome]
        names, counts = np.unique(mine.astype(str), return_counts=True) if mine.size else ([], np.zeros(0, int))
        order = sorted(range(len(names)), key=lambda i: (-counts[i], names[i]))[:top]
        entries = tuple(PathShare(str(names[i]), int(counts[i]), counts[i] / mine.size,
                                  analysis.wilson_interval(int(counts[i]), mine.size), counts[i] / total,
                                  analysis.wilson_interval(int(counts[i]), total)) for i in order)
        out.append(OutcomePaths(outcome, int(mine.size), mine.size / total, len(names), entries))
    return tuple(out)


@dataclass(frozen=True)
class RungTime:
    """How runs reach a rung and how long they stay (days; None where undefined).

    ``first_reach_*``: Kaplan-Meier median day of first entry (runs that never enter are censored at
    the horizon) with the 95 % CI read off the Greenwood band. Visit statistics use visits of positive
    length (``pass_throughs`` counts entries left at the same instant); a visit still under way at the
    horizon counts as cut there in ``visit_median``/``visit_iqr`` and as censored in ``visit_km_median``.
    ``total_*``: days on the rung per run, among runs that entered it.
    """

    rung: str
    code: str
    runs_reaching: int
    p_reach: float
    p_reach_ci95: tuple[float, float]
    first_reach_median: float | None
    first_reach_median_ci95: tuple[float | None, float | None]
    visits: int
    pass_throughs: int
    visit_median: float | None
    visit_iqr: tuple[float | None, float | None]
    visit_km_median: float | None
    total_median: float | None
    total_iqr: tuple[float | None, float | None]


def _km_median(durations: np.ndarray, observed: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """Kaplan-Meier median and its 95 % CI (first times the curve and its band reach 0.5)."""
    if durations.size == 0 or not observed.any():
        return None, None, None
    km = analysis.kaplan_meier(durations, observed)

    def first_at_half(curve: np.ndarray) -> float | None:
        below = np.nan_to_num(curve, nan=0.0) <= 0.5
        return float(km.time[np.argmax(below)]) if below.any() else None

    return first_at_half(km.survival), first_at_half(km.ci_low), first_at_half(km.ci_high)


def _median_iqr(values: np.ndarray) -> tuple[float | None, tuple[float | None, float | None]]:
    if values.size == 0:
        return None, (None, None)
    q25, q50, q75 = (float(q) for q in np.quantile(values, [0.25, 0.5, 0.75]))
    return q50, (q25, q75)


def time_on_rungs(paths: LadderPaths) -> tuple[RungTime, ...]:
    """Reach, time to first reach, visit length and total time for each rung (see :class:`RungTime`)."""
    lengths, first, totals = visit_lengths(paths), first_entry_days(paths), days_on_rungs(paths)
    last_visit = np.zeros(paths.rungs.size, dtype=bool)
    last_visit[paths.offsets[1:] - 1] = True
    out = []
    for index, rung in enumerate(RUNGS):
        reached = np.isfinite(first[:, index])
        on_rung = paths.rungs == index
        stays = on_rung & (lengths > 0)
        median, lo, hi = _km_median(np.where(reached, first[:, index], paths.horizon_days), reached)
        visit_median, visit_iqr = _median_iqr(lengths[stays])
        total_median, total_iqr = _median_iqr(totals[reached, index])
        out.append(RungTime(rung, RUNG_CODES[rung], int(reached.sum()), float(reached.mean()),
                            analysis.wilson_interval(int(reached.sum()), paths.n_runs), median, (lo, hi),
                            int(on_rung.sum()), int((on_rung & (lengths == 0)).sum()), visit_median, visit_iqr,
                            _km_median(lengths[stays], ~last_visit[stays])[0], total_median, total_iqr))
    return tuple(out)


def _slice_days(text: str | None, horizon_days: float) -> list[float]:
    if text is None:
        return sorted({0.0, *(d for d in (30.0, 90.0, 180.0) if d < horizon_days), float(horizon_days)})
    try:
        days = [float(item) for item in text.split(",") if item.strip()]
    except ValueError:
        raise ConfigError(f"--days: expected comma-separated days such as 0,30,90,180,365, got {text!r}") from None
    if len(days) < 2 or days != sorted(set(days)) or days[0] < 0 or days[-1] > horizon_days:
        raise ConfigError(f"--days: need at least two increasing days in 0..{horizon_days:g}, got {text!r}")
    return days


def _stories_table(paths: LadderPaths) -> pa.Table:
    rows = range(paths.n_runs)
    return pa.table({"run_index": paths.run_index, "outcome": paths.outcome.astype(str),
                     "path": [path_code(paths.path(row)[0], "exact") for row in rows],
                     "path_cycles": [path_code(paths.path(row)[0], "cycles") for row in rows],
                     "story": paths.stories()})


def _describe(per_outcome: Sequence[OutcomePaths], rung_times: Sequence[RungTime], collapse: str) -> str:
    def days(value):
        return "—" if value is None else f"{value:.0f}"

    lines = [f"Most frequent paths per outcome ({collapse}: {COLLAPSE_RULES[collapse]}); share of the outcome's runs:"]
    for entry in per_outcome:
        lines.append(f"  {entry.outcome} — {entry.n_runs:,} runs ({wep.format_percent(entry.share_of_runs)}), "
                     f"{entry.n_distinct_paths:,} distinct paths")
        for p in entry.top:
            lo, hi = p.share_of_outcome_ci95
            lines.append(f"    {p.path:<28} {wep.format_percent(p.share_of_outcome):>8}  "
                         f"[{wep.format_percent(lo)}, {wep.format_percent(hi)}]  {p.count:,} runs")
    lines.append("Rungs: P(reach) | KM median day of first reach | median days per visit [IQR] | "
                 "median days per run [IQR]")
    for t in rung_times:
        lines.append(f"  {t.code} {t.rung:<26} {wep.format_percent(t.p_reach):>8} | {days(t.first_reach_median):>5} | "
                     f"{days(t.visit_median):>4} [{days(t.visit_iqr[0])}–{days(t.visit_iqr[1])}] | "
                     f"{days(t.total_median):>4} [{days(t.total_iqr[0])}–{days(t.total_iqr[1])}]")
    lines.append("Codes: " + ", ".join(f"{code} {rung}" for rung, code in RUNG_CODES.items()))
    return "\n".join(lines)


@reports_errors
def command(argv: Sequence[str]) -> int:
    """``python -m sim paths <results dir> [--top 5] [--collapse cycles] [--days 0,30,90,180,365] [--out DIR]``."""
    from sim.paths_plots import alluvial_chart, top_paths_chart
    from sim.plotting import save_figure
    from sim.results import load_results

    parser = CommandParser(prog="python -m sim paths", description="Escalation paths of a results folder: "
                           "top paths per outcome, time on each rung, and an alluvial flow chart.")
    parser.add_argument("folder", help="a finished results folder (from python -m sim)")
    parser.add_argument("--top", type=int, default=5, help="paths listed per outcome (default 5)")
    parser.add_argument("--collapse", choices=list(COLLAPSE_RULES), default="cycles",
                        help="how paths are grouped: " + "; ".join(f"{k}: {v}" for k, v in COLLAPSE_RULES.items()))
    parser.add_argument("--days", default=None, help="days of the alluvial columns (default 0,30,90,180,horizon)")
    parser.add_argument("--out", default=None, help="output folder (default results/paths_<timestamp>_<token>)")
    args = parser.parse_args(list(argv))
    summary, table, _ = load_results(args.folder, columns=RUN_COLUMNS)
    horizon = float(summary["horizon_days"])
    slices = _slice_days(args.days, horizon)
    paths = ladder_paths(table, horizon)
    per_outcome = top_paths(paths, top=args.top, collapse=args.collapse)
    rung_times = time_on_rungs(paths)
    states = rungs_at(paths, slices)
    target = output_folder("paths", args.out)
    scenario = summary.get("scenario")
    stories = _stories_table(paths)
    examples = {o: [stories["story"][row].as_py() for row in np.flatnonzero(paths.outcome == o)[:3]]
                for o in OUTCOME_CLASSES}
    report = {
        "kind": "paths", "schema_version": SCHEMA_VERSION, "source": str(Path(args.folder).resolve()),
        "scenario": scenario, "seed": summary.get("seed"), "n_runs": paths.n_runs, "horizon_days": horizon,
        "rung_codes": RUNG_CODES, "rung_order": RUNGS, "event_codes": EVENT_CODES, "collapse": args.collapse,
        "collapse_rule": COLLAPSE_RULES[args.collapse],
        "story_format": "rung codes joined by '→'; the first of each key event (event_codes) in parentheses after "
                        "the rung the run was on when it happened; an event on the instant the ladder moved counts "
                        "on the rung it moved from",
        "top_paths": {e.outcome: {"n_runs": e.n_runs, "share_of_runs": e.share_of_runs,
                                  "n_distinct_paths": e.n_distinct_paths, "other_share": e.other_share,
                                  "paths": list(e.top)} for e in per_outcome},
        "rungs": {t.rung: t for t in rung_times},
        "rung_times_note": RungTime.__doc__.split("\n\n", 1)[1].strip().replace("\n    ", " "),
        "flow": {"days": slices, "shares": {f"{day:g}": {rung: float(np.mean(states[:, j] == r))
                                                         for r, rung in enumerate(RUNGS)}
                                            for j, day in enumerate(slices)},
                 "moves": [{"from_day": slices[j], "to_day": slices[j + 1],
                            "counts": np.histogram2d(states[:, j], states[:, j + 1], bins=len(RUNGS),
                                                     range=[[0, len(RUNGS)], [0, len(RUNGS)]])[0].astype(int)}
                           for j in range(len(slices) - 1)],
                 "moves_note": "counts[i][j]: runs on rung i (rung_order) on from_day and on rung j on to_day"},
        "example_stories": examples,
    }

    def write(folder: Path) -> None:
        files = save_figure(alluvial_chart(states, slices, horizon_days=horizon, scenario=scenario), folder, "flow")
        files += save_figure(top_paths_chart(per_outcome, collapse=args.collapse, horizon_days=horizon,
                                             scenario=scenario), folder, "top_paths")
        io.write_parquet(folder / "run_paths.parquet", stories)
        io.write_json(folder / "paths.json", {**report, "files": ["paths.json", "run_paths.parquet",
                                                                  *(path.name for path in files)]})

    publish(target, write)
    print(_describe(per_outcome, rung_times, args.collapse))
    print(f"paths: {target}")
    return 0
