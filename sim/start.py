"""The situation a run starts from (``start=<name>``, ``configs/start/*.yaml``): peace by default.

A start state sets, at day 0: the ladder rung, which crossings are shut to trade (closed, or
partially reopened) and since when, a ceasefire in force and since when, recent TTP attacks that
feed the self-excitation, a mediation offer under way, and the calendar date of day 0. Both
engines read the validated :class:`StartState` the same way:

* the rung path starts at the start rung (``rung_path[0]``; ``days_at_<rung>`` count from day 0;
  ``max_rung`` includes it); the calm watch runs from day 0, as from peace;
* a shut crossing counts days closed and trade loss from day 0 only, and reopens by the model's
  exponential stages (closed -> partial -> trade); memoryless, so the time it has already been
  shut does not shorten them. Its closure happened before day 0: ``closures`` does not count it;
* a ceasefire in force counts ``days_under_ceasefire`` from day 0, can collapse by the same
  hazard and violations, and is not counted in ``ceasefires``;
* recent attacks (ages ``a`` days) add ``excitation_jump x exp(-decay x a)`` each to the initial
  excitation -- the stationary one of the scenario, or ``excitation_per_day`` when given, which
  replaces it. The compiled engine draws Poisson(excitation / decay) pending offspring from it,
  exactly the Hawkes process's conditional law given that history. They are not counted;
* a mediation offer under way is made on ``mediation.offer_day`` by the named mediator (counted
  in ``mediation_offers``; it succeeds with the usual chance), whatever the mediation switch.

"Since" dates are recorded (the model is memoryless, so they do not change the law) and must
not lie after ``date``. A ceasefire may hold at any rung: the model allows one at every rung.

>>> state = start_state_from_mapping({"name": "t", "date": "2025-10-20", "rung": "border_clashes",
...     "crossings": {"torkham": {"state": "closed", "since": "2025-10-12"}}}, horizon_days=90)
>>> state.rung, state.crossings, state.crossings_since, state.date.isoformat()
(1, ('closed', 'open'), (8.0, None), '2025-10-20')
>>> StartState().is_peace
True
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from sim.errors import ConfigError
from sim.model import CROSSINGS, MEDIATORS, RUNGS

__all__ = ["StartState", "PEACE", "start_state_from_mapping", "start_excitation", "start_record", "calendar_date"]

CROSSING_STATES = ("open", "partial", "closed")
_KEYS = ("name", "description", "sources", "date", "rung", "crossings", "ceasefire", "recent_attacks",
         "excitation_per_day", "mediation")


@dataclass(frozen=True)
class StartState:
    """The validated situation at day 0 (see the module docstring). Days "since" are days before day 0."""

    name: str = "peace"
    description: str = ""
    date: _dt.date | None = None
    rung: int = 0
    crossings: tuple[str, ...] = ("open",) * len(CROSSINGS)
    crossings_since: tuple[float | None, ...] = (None,) * len(CROSSINGS)
    ceasefire_since: float | None = None       # None: no ceasefire in force
    recent_attack_ages: tuple[float, ...] = ()  # days before day 0 of each recent TTP attack
    excitation_per_day: float | None = None    # replaces the stationary initial excitation
    mediator: str | None = None                # an offer under way, made on offer_day
    offer_day: float = 0.0

    @property
    def ceasefire(self) -> bool:
        return self.ceasefire_since is not None

    @property
    def is_peace(self) -> bool:
        """The model's default start: every field at its default (the date aside)."""
        return (self.rung == 0 and set(self.crossings) == {"open"} and not self.ceasefire
                and not self.recent_attack_ages and self.excitation_per_day is None and self.mediator is None)


PEACE = StartState()


def start_excitation(state: StartState, initial_excitation, excitation_jump, decay_per_day):
    """The excitation (attacks/day above background) at day 0; arrays broadcast (sampled parameters).

    >>> round(float(start_excitation(StartState(recent_attack_ages=(0.0, 10.0)), 0.5, 0.1, 0.1)), 6)
    0.636788
    """
    excitation = initial_excitation if state.excitation_per_day is None else state.excitation_per_day
    for age in state.recent_attack_ages:
        excitation = excitation + excitation_jump * np.exp(-decay_per_day * age)
    return excitation


def calendar_date(state: StartState, day: float) -> _dt.date | None:
    """The calendar date of model day ``day`` (None without a start date).

    >>> calendar_date(StartState(date=_dt.date(2025, 10, 20)), 12.4).isoformat()
    '2025-11-01'
    """
    return None if state.date is None else state.date + _dt.timedelta(days=math.floor(day))


def start_record(state: StartState) -> dict:
    """The start state as JSON-ready data for summary.json and the manifest."""
    return {
        "name": state.name, "date": None if state.date is None else state.date.isoformat(), "rung": RUNGS[state.rung],
        "crossings": {c: {"state": s, "since_days": d} for c, s, d in zip(CROSSINGS, state.crossings,
                                                                          state.crossings_since) if s != "open"},
        "ceasefire_since_days": state.ceasefire_since, "recent_attack_days_ago": list(state.recent_attack_ages),
        "excitation_per_day": state.excitation_per_day,
        "mediation": None if state.mediator is None else {"mediator": state.mediator, "offer_day": state.offer_day},
    }


def _date(key: str, raw: Any) -> _dt.date:
    if isinstance(raw, _dt.datetime):
        return raw.date()
    if isinstance(raw, _dt.date):
        return raw
    try:
        return _dt.date.fromisoformat(str(raw))
    except ValueError:
        raise ConfigError(f"{key}: expected a date YYYY-MM-DD, got {raw!r}") from None


def _number(key: str, raw: Any, *, minimum: float = 0.0) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not math.isfinite(raw) or raw < minimum:
        raise ConfigError(f"{key}: expected a number >= {minimum:g}, got {raw!r}")
    return float(raw)


def _days_before(key: str, raw: Any, date: _dt.date | None) -> float:
    """A past moment as days before day 0: a date (needs start.date) or a number of days."""
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        return _number(key, raw)
    when = _date(key, raw)
    if date is None:
        raise ConfigError(f"{key}: a date needs start.date; give days before the start instead, got {raw!r}")
    if when > date:
        raise ConfigError(f"{key}: {when.isoformat()} is after start.date {date.isoformat()}")
    return float((date - when).days)


def _mapping(key: str, raw: Any, allowed: tuple[str, ...]) -> Mapping:
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{key}: expected a mapping with {', '.join(allowed)}, got {raw!r}")
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}: unknown setting; allowed: {', '.join(allowed)}")
    return raw


def _recent_attacks(raw: Any, date: _dt.date | None) -> tuple[float, ...]:
    """A list of dates or days-ago, or ``{count, within_days}`` (spread evenly over that window)."""
    key = "start.recent_attacks"
    if raw is None:
        return ()
    if isinstance(raw, Mapping):
        spec = _mapping(key, raw, ("count", "within_days"))
        count = spec.get("count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ConfigError(f"{key}.count: expected a whole number >= 0, got {count!r}")
        window = _number(f"{key}.within_days", spec.get("within_days"))
        if count and window <= 0:
            raise ConfigError(f"{key}.within_days: must be > 0 with a count of attacks, got {window:g}")
        return tuple(window * (k + 0.5) / count for k in range(count))
    if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)):
        raise ConfigError(f"{key}: expected a list of dates / days before the start, or {{count, within_days}}, "
                          f"got {raw!r}")
    return tuple(_days_before(f"{key}[{k}]", item, date) for k, item in enumerate(raw))


def start_state_from_mapping(raw: Any, *, horizon_days: float) -> StartState:
    """Validate the ``start`` node (one-line ConfigError naming the key) into a StartState."""
    raw = {} if raw is None else _mapping("start", raw, _KEYS)
    date = None if raw.get("date") is None else _date("start.date", raw["date"])
    rung_name = raw.get("rung", RUNGS[0])
    if rung_name not in RUNGS:
        raise ConfigError(f"start.rung: unknown rung {rung_name!r}; allowed: {', '.join(RUNGS)}")
    crossings_raw = raw.get("crossings") or {}
    if not isinstance(crossings_raw, Mapping):
        raise ConfigError(f"start.crossings: expected a mapping crossing -> {{state, since}}, got {crossings_raw!r}")
    states, since = list(PEACE.crossings), list(PEACE.crossings_since)
    for crossing, spec in crossings_raw.items():
        key = f"start.crossings.{crossing}"
        if crossing not in CROSSINGS:
            raise ConfigError(f"{key}: unknown crossing; allowed: {', '.join(CROSSINGS)}")
        spec = _mapping(key, spec, ("state", "since"))
        state = spec.get("state", "closed")
        if state not in CROSSING_STATES:
            raise ConfigError(f"{key}.state: unknown state {state!r}; allowed: {', '.join(CROSSING_STATES)}")
        c = CROSSINGS.index(crossing)
        states[c] = state
        if state != "open":
            since[c] = _days_before(f"{key}.since", spec.get("since", 0.0), date)
    ceasefire_since = None
    if raw.get("ceasefire") is not None:
        spec = _mapping("start.ceasefire", raw["ceasefire"], ("since",))
        ceasefire_since = _days_before("start.ceasefire.since", spec.get("since", 0.0), date)
    excitation = raw.get("excitation_per_day")
    if excitation is not None:
        excitation = _number("start.excitation_per_day", excitation)
    mediator, offer_day = None, 0.0
    if raw.get("mediation") is not None:
        spec = _mapping("start.mediation", raw["mediation"], ("mediator", "offer_day"))
        mediator = spec.get("mediator")
        if mediator not in MEDIATORS:
            raise ConfigError(f"start.mediation.mediator: unknown mediator {mediator!r}; "
                              f"allowed: {', '.join(MEDIATORS)}")
        offer_day = _number("start.mediation.offer_day", spec.get("offer_day", 0.0))
        if offer_day >= horizon_days:
            raise ConfigError(f"start.mediation.offer_day: {offer_day:g} is not before horizon_days {horizon_days:g}")
    name = raw.get("name", "peace")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"start.name: expected a non-empty name, got {name!r}")
    return StartState(name=name, description=str(raw.get("description") or ""), date=date,
                      rung=RUNGS.index(rung_name), crossings=tuple(states), crossings_since=tuple(since),
                      ceasefire_since=ceasefire_since,
                      recent_attack_ages=_recent_attacks(raw.get("recent_attacks"), date),
                      excitation_per_day=excitation, mediator=mediator, offer_day=offer_day)
