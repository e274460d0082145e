"""Timelines: a dated CSV of what happened (the observations a backtest scores against), read and validated.

A timeline is a CSV with columns ``date`` (YYYY-MM-DD), ``event_kind`` (one of EVENT_KINDS),
``details`` and ``source``, optionally ``fatalities`` (whole number; empty = unknown) and
``crossing`` (torkham, chaman or empty); rows starting with ``#`` are comments. It is taken to
cover every event from its first date to ``observed_until`` (default: its last date).

:func:`start_mapping_at` reads the situation on a date from the events up to and including it, as
a ``start/`` config node (rules in its docstring and :data:`START_RULES`); :func:`start_overrides`
turns that node into ``start.*=`` overrides for ``sim.run``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from sim.errors import ConfigError
from sim.events import EVENT_KINDS      # the vocabulary of the event-data module (the contract)
from sim.model import CROSSINGS, MEDIATORS, RUNGS
from sim.start import StartState, start_state_from_mapping

__all__ = ["Timeline", "read_timeline", "parse_date", "START_RULES", "RUNG_OF_EVENT", "start_mapping_at",
           "start_state_at", "start_overrides"]

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


def parse_date(text: str, where: str) -> np.datetime64:
    """A YYYY-MM-DD day; anything else is a ConfigError naming ``where``.

    >>> parse_date(" 2025-10-12 ", "--as-of")
    np.datetime64('2025-10-12')
    """
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
        events.append((parse_date(get("date"), where), kind, get("details"), get("source"),
                       float(deaths) if deaths else math.nan, crossing, number))
    events.sort(key=lambda event: (event[0], event[-1]))
    columns = list(zip(*events))
    return Timeline(str(path), np.array(columns[0], dtype="datetime64[D]"),
                    *(np.array(c, dtype=object) for c in columns[1:4]), np.array(columns[4], dtype=float),
                    np.array(columns[5], dtype=object), np.array(columns[6], dtype=np.int64), tuple(notes))


# ---------------------------------------------------------------- the situation on a date

RECENT_ATTACK_DAYS = 30        # look-back of the attacks that feed the self-excitation
RUNG_LOOKBACK_DAYS = 60        # look-back of the rung (the baseline's calm_days: quiet this long, the ladder steps down)
MEDIATION_LOOKBACK_DAYS = 14   # an offer this recent, not yet answered by a ceasefire, is talks under way
#: The rung an event puts the ladder on (the model's ladder moves for these events); others leave it.
RUNG_OF_EVENT: Mapping[str, str] = {"incursion": "conventional_incursion", "seizure": "limited_ground_operation",
                                    "taliban_retaliation": "strike_retaliation_cycle",
                                    "border_clash": "border_clashes", "ceasefire_collapse": "border_clashes"}
#: The derivation rules of :func:`start_mapping_at`, as written into backtest.json.
START_RULES: tuple[str, ...] = (
    "events dated up to and including the as-of date count; the start date is the as-of date",
    "crossings (a closure or reopening with no crossing named applies to both): a closure shuts an open crossing "
    "(since the closure's date); a partial_reopening of a closed one makes it partial (same since); a "
    "trade_reopening opens it; a reopening with no closure before it in the timeline changes nothing",
    "ceasefire in force: a ceasefire with no ceasefire_collapse after it, since the first ceasefire of that spell",
    f"recent attacks: ttp_attack and mass_casualty_attack dates in the {RECENT_ATTACK_DAYS} days up to the as-of "
    f"date; when the timeline covers those {RECENT_ATTACK_DAYS} days they replace the scenario's stationary "
    "excitation (excitation_per_day = 0: the excitation is the observed attacks' decayed jumps; older attacks' "
    f"tail is neglected); when it does not, no recent attacks and the stationary excitation",
    f"mediation under way: a mediation_offer in the last {MEDIATION_LOOKBACK_DAYS} days, no ceasefire on or after "
    "it and none in force; its outcome is drawn on day 0 (offer_day 0); mediator = the first of "
    f"{', '.join(MEDIATORS[:-1])} named in its details (saudi -> saudi_arabia), else other",
    f"rung: the most severe of the events in the last {RUNG_LOOKBACK_DAYS} days (after the start of a ceasefire in "
    "force, which steps the ladder down), by "
    + ", ".join(f"{k} -> {v}" for k, v in RUNG_OF_EVENT.items()) + "; none: low_intensity "
    "(strikes and attacks move the model's ladder only through these events)",
)


def _mediator(details: str) -> str:
    """The mediator named first in an offer's details (its first word: saudi -> saudi_arabia), else other.

    >>> _mediator("Saudi and Qatari envoys offer talks"), _mediator("a third country offers talks")
    ('saudi_arabia', 'other')
    """
    text = str(details).lower()
    named = sorted((text.find(name.split("_")[0]), name) for name in MEDIATORS[:-1] if name.split("_")[0] in text)
    return named[0][1] if named else MEDIATORS[-1]


def start_mapping_at(timeline: Timeline, as_of) -> dict:
    """The situation on ``as_of`` as a ``start/`` config node, by the rules of :data:`START_RULES`.

    >>> import numpy as np
    >>> rows = [("2025-03-01", "closure", "torkham"), ("2025-03-02", "border_clash", ""), ("2025-03-05", "ceasefire", "")]
    >>> t = Timeline("t.csv", np.array([r[0] for r in rows], "datetime64[D]"), np.array([r[1] for r in rows], object),
    ...              *(np.array([""] * 3, object),) * 2, np.zeros(3), np.array([r[2] for r in rows], object), np.arange(3))
    >>> m = start_mapping_at(t, "2025-03-10")
    >>> m["rung"], m["crossings"], m["ceasefire"], m["recent_attacks"], m["mediation"]
    ('low_intensity', {'torkham': {'state': 'closed', 'since': '2025-03-01'}}, {'since': '2025-03-05'}, None, None)
    """
    as_of = np.datetime64(as_of, "D")
    upto = timeline.dates <= as_of
    dates, kinds = timeline.dates[upto], timeline.kinds[upto]
    crossings, details = timeline.crossings[upto], timeline.details[upto]
    state, since = dict.fromkeys(CROSSINGS, "open"), dict.fromkeys(CROSSINGS, None)
    ceasefire, last_ceasefire, offer = None, None, None
    for date, kind, crossing, detail in zip(dates, kinds, crossings, details):
        for c in ([crossing] if crossing else CROSSINGS) if kind in ("closure", "partial_reopening",
                                                                      "trade_reopening") else ():
            if kind == "closure" and state[c] == "open":
                state[c], since[c] = "closed", date
            elif kind == "partial_reopening" and state[c] == "closed":
                state[c] = "partial"
            elif kind == "trade_reopening":
                state[c], since[c] = "open", None
        if kind == "ceasefire":
            ceasefire, last_ceasefire = ceasefire if ceasefire is not None else date, date
        elif kind == "ceasefire_collapse":
            ceasefire = None
        elif kind == "mediation_offer":
            offer = (date, detail)
    under_way = (offer is not None and ceasefire is None and offer[0] > as_of - MEDIATION_LOOKBACK_DAYS
                 and (last_ceasefire is None or last_ceasefire < offer[0]))
    rung_window = (dates > as_of - RUNG_LOOKBACK_DAYS) & ((dates > ceasefire) if ceasefire is not None else True)
    rungs = [RUNGS.index(RUNG_OF_EVENT[k]) for k in kinds[rung_window] if k in RUNG_OF_EVENT]
    covered = timeline.dates[0] <= as_of - (RECENT_ATTACK_DAYS - 1)
    attacks = dates[(dates > as_of - RECENT_ATTACK_DAYS) & np.isin(kinds, ["ttp_attack", "mass_casualty_attack"])]
    shut = {c: {"state": state[c], "since": str(since[c])} for c in CROSSINGS if state[c] != "open"}
    return {"name": f"timeline_{as_of}", "description": f"derived from the timeline up to {as_of}",
            "date": str(as_of), "rung": RUNGS[max(rungs, default=0)], "crossings": shut or None,
            "ceasefire": None if ceasefire is None else {"since": str(ceasefire)},
            "recent_attacks": [str(d) for d in attacks] if covered and attacks.size else None,
            "excitation_per_day": 0.0 if covered else None,
            "mediation": {"mediator": _mediator(offer[1]), "offer_day": 0.0} if under_way else None}


def start_state_at(timeline: Timeline, as_of) -> StartState:
    """The validated :class:`~sim.start.StartState` of :func:`start_mapping_at`."""
    return start_state_from_mapping(start_mapping_at(timeline, as_of), horizon_days=math.inf)


def _hydra_value(value: Any) -> str:
    """A value in Hydra's override grammar (strings single-quoted).

    >>> print(_hydra_value({"a": [1.5, None], "b": "it's"}))
    {a:[1.5,null],b:'it\\'s'}
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{key}:{_hydra_value(v)}" for key, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_hydra_value(v) for v in value) + "]"
    return "'" + str(value).replace("'", "\\'") + "'"      # Hydra unescapes only backslashes before quotes


def start_overrides(mapping: Mapping[str, Any]) -> list[str]:
    """``start.<key>=<value>`` overrides that compose ``mapping`` as the run's start state.

    >>> start_overrides({"rung": "border_clashes", "ceasefire": None})
    ["start.rung='border_clashes'", 'start.ceasefire=null']
    """
    return [f"start.{key}={_hydra_value(value)}" for key, value in mapping.items()]
