"""The run record: one flat row per run, the contract every engine and executor honours.

Columns are declared once here with their Arrow types; engines fill a :class:`RunTally` and
call :meth:`RunTally.to_row`; the runner stacks rows into a :class:`pyarrow.Table` with
:func:`rows_to_table`, adding each run's sampled parameters as ``param.<name>`` columns.

>>> "fatalities_total" in METRIC_COLUMNS and "first_incursion_day" in METRIC_COLUMNS
True
>>> daily_rungs([0.0, 2.5], [0, 3], horizon_days=4).tolist()
[0, 0, 3, 3]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

import numpy as np
import pyarrow as pa

from sim.model import CROSSINGS, RUNGS

__all__ = [
    "FIRST_EVENTS",
    "COUNT_COLUMNS",
    "FATALITY_CATEGORIES",
    "METRIC_COLUMNS",
    "INTEGER_METRICS",
    "PARAM_PREFIX",
    "RunTally",
    "daily_rungs",
    "rows_to_table",
    "schema",
]

#: Key events whose first day is recorded (NaN = did not happen before the horizon: censored).
FIRST_EVENTS: tuple[str, ...] = (
    "strike", "decapitation_strike", "clash", "retaliation", "seizure", "closure",
    "mass_casualty_attack", "ceasefire", "ceasefire_collapse", "mediation_offer",
    "china_mediation_offer", "attack_on_chinese_nationals", "incursion", "regional_war",
)
COUNT_COLUMNS: tuple[str, ...] = (
    "attacks", "mass_casualty_attacks", "strikes", "decapitation_strikes", "civilian_harm_strikes",
    "retaliations", "clashes", "seizures", "closures", "mediation_offers", "ceasefires",
    "ceasefire_collapses", "attacks_on_chinese_nationals",
)
FATALITY_CATEGORIES: tuple[str, ...] = (
    "ttp_violence",          # militant violence inside Pakistan (CRSS-style count)
    "pak_military",          # Pakistani soldiers in clashes and combat with the Taliban
    "afghan_forces",         # Afghan Taliban forces in clashes and combat
    "civilians",             # civilians killed by strikes, clashes and combat
    "militants_in_strikes",  # TTP militants killed by Pakistani cross-border strikes
)
PARAM_PREFIX = "param."

_FLOAT_METRICS = (
    [f"first_{kind}_day" for kind in FIRST_EVENTS]
    + [f"days_closed_{crossing}" for crossing in CROSSINGS]
    + ["trade_loss_usd", "days_under_ceasefire"]
    + [f"days_at_{rung}" for rung in RUNGS]
)
_INT_METRICS = [f"fatalities_{category}" for category in FATALITY_CATEGORIES] + ["fatalities_total"] + list(COUNT_COLUMNS)

#: Numeric per-run outcomes summarised in ``summary.json`` (first-event days are censored: NaN).
METRIC_COLUMNS: tuple[str, ...] = tuple(_INT_METRICS + _FLOAT_METRICS + ["max_rung"])
#: The integer-valued ones (counts, deaths, rung): their exact quantiles come from value counts.
INTEGER_METRICS: tuple[str, ...] = tuple(_INT_METRICS + ["max_rung"])


def schema() -> pa.Schema:
    """Arrow schema of the outcome part of a run row (sampled parameters are appended)."""
    fields = [
        pa.field("run_index", pa.int64()),
        pa.field("outcome", pa.string()),
        pa.field("max_rung", pa.int8()),
        pa.field("final_rung", pa.int8()),
        pa.field("ceasefire_at_horizon", pa.bool_()),
        pa.field("crossings_open_at_horizon", pa.bool_()),
    ]
    fields += [pa.field(name, pa.int64()) for name in _INT_METRICS]
    fields += [pa.field(name, pa.float64()) for name in _FLOAT_METRICS]
    fields += [
        pa.field("rung_path", pa.list_(pa.int8())),
        pa.field("rung_path_days", pa.list_(pa.float32())),
        pa.field("rung_daily", pa.list_(pa.int8())),
        pa.field("crossings_closed_daily", pa.list_(pa.int8())),
    ]
    return pa.schema(fields)


def daily_rungs(times: Sequence[float], rungs: Sequence[int], *, horizon_days: float) -> np.ndarray:
    """The rung in force at the end of each day 1..horizon, from a path of (entry time, rung).

    Any state path works the same way: ``crossings_closed_daily`` is the daily_rungs of the
    shut-to-trade bit masks."""
    ends = np.arange(1, int(np.ceil(horizon_days)) + 1, dtype=float)
    ends[-1] = min(ends[-1], horizon_days)
    at = np.searchsorted(np.asarray(times, dtype=float), ends, side="right") - 1
    return np.asarray(rungs, dtype=np.int8)[at]


@dataclass
class RunTally:
    """Mutable counters an engine fills during one run; ``to_row`` freezes them into a row."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNT_COLUMNS, 0))
    fatalities: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FATALITY_CATEGORIES, 0))
    first_day: dict[str, float] = field(default_factory=dict)
    days_closed: dict[str, float] = field(default_factory=lambda: dict.fromkeys(CROSSINGS, 0.0))
    days_at_rung: list[float] = field(default_factory=lambda: [0.0] * len(RUNGS))
    days_under_ceasefire: float = 0.0
    trade_loss_usd: float = 0.0
    path_times: list[float] = field(default_factory=lambda: [0.0])
    path_rungs: list[int] = field(default_factory=lambda: [0])
    closure_times: list[float] = field(default_factory=lambda: [0.0])   # when the shut-to-trade set changed
    closure_masks: list[int] = field(default_factory=lambda: [0])       # bit c: CROSSINGS[c] shut to trade

    def crossing_shut(self, crossing: str, day: float, shut: bool) -> None:
        """Note that a crossing shut to trade (closed) or reopened to trade at ``day``."""
        bit = 1 << CROSSINGS.index(crossing)
        mask = self.closure_masks[-1] | bit if shut else self.closure_masks[-1] & ~bit
        self.closure_times.append(day)
        self.closure_masks.append(mask)

    def first(self, kind: str, day: float) -> None:
        """Remember the first day an event of this kind happened."""
        if kind not in self.first_day:
            self.first_day[kind] = day

    def to_row(self, *, run_index: int, outcome: str, final_rung: int, ceasefire_at_horizon: bool,
               crossings_open_at_horizon: bool, horizon_days: float) -> dict:
        row = {
            "run_index": run_index,
            "outcome": outcome,
            "max_rung": max(self.path_rungs),
            "final_rung": final_rung,
            "ceasefire_at_horizon": ceasefire_at_horizon,
            "crossings_open_at_horizon": crossings_open_at_horizon,
        }
        for category in FATALITY_CATEGORIES:
            row[f"fatalities_{category}"] = int(self.fatalities[category])
        row["fatalities_total"] = int(sum(self.fatalities.values()))
        row.update({name: int(value) for name, value in self.counts.items()})
        for kind in FIRST_EVENTS:
            row[f"first_{kind}_day"] = self.first_day.get(kind, float("nan"))
        for crossing in CROSSINGS:
            row[f"days_closed_{crossing}"] = self.days_closed[crossing]
        row["trade_loss_usd"] = self.trade_loss_usd
        row["days_under_ceasefire"] = self.days_under_ceasefire
        for rung, days in zip(RUNGS, self.days_at_rung):
            row[f"days_at_{rung}"] = days
        row["rung_path"] = list(self.path_rungs)
        row["rung_path_days"] = list(self.path_times)
        row["rung_daily"] = daily_rungs(self.path_times, self.path_rungs, horizon_days=horizon_days).tolist()
        row["crossings_closed_daily"] = daily_rungs(self.closure_times, self.closure_masks,
                                                    horizon_days=horizon_days).tolist()
        return row


def rows_to_table(rows: Sequence[Mapping], sampled: Mapping[str, np.ndarray] | None = None) -> pa.Table:
    """Stack run rows into an Arrow table; ``sampled`` adds one ``param.<name>`` column each."""
    base = schema()
    columns = {name: [row[name] for row in rows] for name in base.names}
    table = pa.Table.from_pydict(columns, schema=base)
    for name, values in sorted((sampled or {}).items()):
        table = table.append_column(pa.field(PARAM_PREFIX + name, pa.float64()),
                                    pa.array(np.asarray(values, dtype=float)))
    return table


def concat(tables: Iterable[pa.Table]) -> pa.Table:
    """Concatenate chunk tables in order."""
    return pa.concat_tables(list(tables))
