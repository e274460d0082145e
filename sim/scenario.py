"""A scenario: the model's parameters with provenance, its switches, and the escalation matrix.

A scenario arrives as a plain mapping (from ``configs/scenario/*.yaml`` through Hydra, or from
Python) and leaves as a validated, frozen :class:`Scenario`. Every mistake raises
:class:`~sim.errors.ConfigError` with one line naming the key and what is allowed.

>>> spec = parameter_from_mapping("p_x", {"term": "unlikely", "source": "assumption",
...                                      "derivation": "analyst judgement"}, kind="probability")
>>> spec.low, spec.high, round(spec.value, 3)
(0.2, 0.45, 0.325)
>>> spec.draw(0.0), spec.draw(1.0)
(0.2, 0.45)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

import numpy as np

from sim import model, wep
from sim.errors import ConfigError

__all__ = [
    "DISTRIBUTIONS",
    "ParameterSpec",
    "Transition",
    "InitialEvent",
    "Scenario",
    "parameter_from_mapping",
    "scenario_from_mapping",
]

DISTRIBUTIONS = ("fixed", "uniform", "triangular", "loguniform")
_PARAMETER_KEYS = {"value", "range", "dist", "term", "yardstick", "source", "quote", "figure",
                   "derivation", "unit"}
_SCENARIO_KEYS = {"name", "description", "mechanisms", "parameters", "ladder", "initial_events"}


@dataclass(frozen=True)
class ParameterSpec:
    """One parameter: point value, optional range and distribution, and where it comes from."""

    name: str
    kind: str
    value: float
    low: float
    high: float
    dist: str
    source: str
    quote: str = ""
    figure: str = ""
    derivation: str = ""
    term: str = ""
    yardstick: str = ""

    @property
    def uncertain(self) -> bool:
        """True when the parameter is sampled per run (a real range and a non-fixed dist)."""
        return self.dist != "fixed" and self.high > self.low

    def draw(self, u):
        """Map a uniform number (or array) in [0, 1) to this parameter's distribution."""
        if not self.uncertain:
            return self.value if isinstance(u, float) else u * 0.0 + self.value
        lo, hi = self.low, self.high
        if self.dist == "uniform":
            return lo + u * (hi - lo)
        if self.dist == "loguniform":
            return lo * (hi / lo) ** u
        # triangular with its mode at the point value (inverse CDF)
        c = (self.value - lo) / (hi - lo)
        u_arr = np.asarray(u, dtype=float)
        left = lo + np.sqrt(u_arr * (hi - lo) * (self.value - lo))
        right = hi - np.sqrt((1.0 - u_arr) * (hi - lo) * (hi - self.value))
        out = np.where(u_arr < c, left, right)
        return float(out) if out.ndim == 0 else out


@dataclass(frozen=True)
class Transition:
    """On ``event`` while at rung ``state``, move to rung ``target`` with probability ``parameter``."""

    state: str
    event: str
    target: str
    parameter: str


@dataclass(frozen=True)
class InitialEvent:
    """An event injected at a given day, e.g. a mass-casualty attack on day 0."""

    kind: str
    day: float
    deaths: float | None = None


@dataclass(frozen=True)
class Scenario:
    """A validated scenario. Parameters are sorted by name; transitions keep the YAML order."""

    name: str
    description: str
    parameters: tuple[ParameterSpec, ...]
    transitions: tuple[Transition, ...]
    initial_events: tuple[InitialEvent, ...] = ()
    disabled: frozenset[str] = field(default_factory=frozenset)

    def is_on(self, mechanism: str) -> bool:
        """Whether a mechanism (see :data:`sim.model.MECHANISMS`) is switched on."""
        return mechanism not in self.disabled

    @property
    def switches(self) -> dict[str, bool]:
        return {name: name not in self.disabled for name in model.MECHANISMS}

    def parameter(self, name: str) -> ParameterSpec:
        for spec in self.parameters:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def point_values(self) -> dict[str, float]:
        """Every parameter at its point value (what ``uncertainty=fixed`` runs with)."""
        return {spec.name: spec.value for spec in self.parameters}


def _number(where: str, raw: Any) -> float:
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise ConfigError(f"{where}: expected a number, got {raw!r}")
    value = float(raw)
    if not math.isfinite(value):
        raise ConfigError(f"{where}: expected a finite number, got {raw!r}")
    return value


def _mapping_with_known_keys(where: str, raw: Any, allowed: set[str], expected: str) -> Mapping[str, Any]:
    """``raw`` must be a mapping whose keys are all in ``allowed``; name the first stranger."""
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where}: expected {expected}, got {raw!r}")
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise ConfigError(f"{where}.{unknown[0]}: unknown key; allowed: {', '.join(sorted(allowed))}")
    return raw


def _check_kind(where: str, kind: str, value: float) -> None:
    if kind == "probability" and not 0.0 <= value <= 1.0:
        raise ConfigError(f"{where}: a probability must lie in [0, 1], got {value:g}")
    if kind == "duration" and value <= 0.0:
        raise ConfigError(f"{where}: a duration must be positive (days), got {value:g}")
    if kind in {"rate", "count", "usd", "multiplier"} and value < 0.0:
        raise ConfigError(f"{where}: a {kind} must not be negative, got {value:g}")


def parameter_from_mapping(name: str, raw: Mapping[str, Any], *, kind: str) -> ParameterSpec:
    """Validate one parameter's YAML entry and turn it into a :class:`ParameterSpec`."""
    where = f"scenario.parameters.{name}"
    _mapping_with_known_keys(where, raw, _PARAMETER_KEYS, "a mapping with value/range/source")
    term = str(raw.get("term") or "")
    yardstick = str(raw.get("yardstick") or ("icd203" if term else ""))
    low = high = None
    if raw.get("range") is not None:
        bounds = raw["range"]
        if isinstance(bounds, (str, bytes)) or not hasattr(bounds, "__len__") or len(bounds) != 2:
            raise ConfigError(f"{where}.range: expected [low, high], got {bounds!r}")
        low, high = _number(f"{where}.range", bounds[0]), _number(f"{where}.range", bounds[1])
        if low > high:
            raise ConfigError(f"{where}.range: low {low:g} > high {high:g} (min must not exceed max)")
    elif term:
        try:
            low, high = wep.term_range(term, yardstick)
        except ConfigError as error:
            raise ConfigError(f"{where}.term: {error}") from None
    if raw.get("value") is not None:
        value = _number(f"{where}.value", raw["value"])
    elif low is not None:
        value = (low + high) / 2.0
    else:
        raise ConfigError(f"{where}: needs a value, a range or a verbal term")
    if low is None:
        low = high = value
    if not low <= value <= high:
        raise ConfigError(f"{where}.value: {value:g} lies outside its range [{low:g}, {high:g}]")
    for label, number in (("value", value), ("range", low), ("range", high)):
        _check_kind(f"{where}.{label}", kind, number)
    dist = str(raw.get("dist") or ("uniform" if high > low else "fixed"))
    if dist not in DISTRIBUTIONS:
        raise ConfigError(f"{where}.dist: unknown distribution {dist!r}; allowed: {', '.join(DISTRIBUTIONS)}")
    if dist == "loguniform" and high > low and low <= 0.0:
        raise ConfigError(f"{where}.dist: loguniform needs a positive range, got low {low:g}")
    source = str(raw.get("source") or "")
    if not source:
        raise ConfigError(f"{where}.source: every parameter needs a source (card id or 'assumption')")
    quote, figure = str(raw.get("quote") or ""), str(raw.get("figure") or "")
    derivation = str(raw.get("derivation") or "")
    if not derivation:
        raise ConfigError(f"{where}.derivation: say how the number was derived from its source")
    if source != "assumption" and not (quote or figure):
        raise ConfigError(f"{where}: a parameter citing {source!r} needs a quote or a figure")
    return ParameterSpec(name=name, kind=kind, value=value, low=low, high=high, dist=dist,
                         source=source, quote=quote, figure=figure, derivation=derivation,
                         term=term, yardstick=yardstick)


def _transitions(raw: Any) -> list[Transition]:
    if raw is None:
        return []
    if not isinstance(raw, Mapping):
        raise ConfigError(f"scenario.ladder: expected a mapping rung -> event -> target -> parameter, got {raw!r}")
    found = []
    for state, by_event in raw.items():
        if state not in model.RUNG_INDEX:
            raise ConfigError(f"scenario.ladder.{state}: unknown rung; allowed: {', '.join(model.RUNGS)}")
        if not isinstance(by_event, Mapping):
            raise ConfigError(f"scenario.ladder.{state}: expected a mapping event -> target -> parameter")
        for event, targets in by_event.items():
            if event not in model.LADDER_EVENTS:
                raise ConfigError(
                    f"scenario.ladder.{state}.{event}: unknown event; allowed: {', '.join(model.LADDER_EVENTS)}")
            if not isinstance(targets, Mapping):
                raise ConfigError(f"scenario.ladder.{state}.{event}: expected a mapping target rung -> parameter")
            for target, parameter in targets.items():
                if target not in model.RUNG_INDEX:
                    raise ConfigError(
                        f"scenario.ladder.{state}.{event}.{target}: unknown rung; allowed: {', '.join(model.RUNGS)}")
                if target == state:
                    raise ConfigError(f"scenario.ladder.{state}.{event}.{target}: a transition must change rung")
                if not isinstance(parameter, str):
                    raise ConfigError(
                        f"scenario.ladder.{state}.{event}.{target}: expected the name of a probability "
                        f"parameter (with its provenance under parameters:), got {parameter!r}")
                found.append(Transition(str(state), str(event), str(target), parameter))
    return found


def _initial_events(raw: Any) -> list[InitialEvent]:
    events = []
    for index, item in enumerate(raw or ()):
        where = f"scenario.initial_events[{index}]"
        if not isinstance(item, Mapping) or set(item) - {"kind", "day", "deaths"} or "kind" not in item:
            raise ConfigError(f"{where}: expected {{kind: <event>, day: <number>, deaths: <optional>}}, got {item!r}")
        kind = item["kind"]
        if kind not in model.INITIAL_EVENT_KINDS:
            raise ConfigError(f"{where}.kind: unknown event {kind!r}; allowed: {', '.join(model.INITIAL_EVENT_KINDS)}")
        day = _number(f"{where}.day", item.get("day", 0.0))
        if day < 0:
            raise ConfigError(f"{where}.day: must not be negative, got {day:g}")
        deaths = item.get("deaths")
        if deaths is not None:
            if kind not in ("attack", "mass_casualty_attack"):
                raise ConfigError(f"{where}.deaths: only attacks take a death toll, not {kind!r}")
            deaths = _number(f"{where}.deaths", deaths)
            if deaths < 0:
                raise ConfigError(f"{where}.deaths: must not be negative, got {deaths:g}")
        events.append(InitialEvent(str(kind), day, deaths))
    return sorted(events, key=lambda event: event.day)


def _check_outgoing_sums(transitions: Iterable[Transition], specs: Mapping[str, ParameterSpec]) -> None:
    totals: dict[tuple[str, str], float] = {}
    for transition in transitions:
        key = (transition.state, transition.event)
        totals[key] = totals.get(key, 0.0) + specs[transition.parameter].high
    for (state, event), total in totals.items():
        if total > 1.0 + 1e-12:
            raise ConfigError(
                f"scenario.ladder.{state}.{event}: outgoing probabilities sum to {total:g} "
                "(upper ends of their ranges), above 1")


def scenario_from_mapping(raw: Mapping[str, Any], *, known_sources: Iterable[str] | None = None) -> Scenario:
    """Validate a scenario mapping (as in ``configs/scenario/*.yaml``) into a :class:`Scenario`.

    ``known_sources`` are the source card ids a parameter may cite besides ``assumption``
    (``None`` skips that check; the CLI always passes the cards in ``seeds/``).
    """
    _mapping_with_known_keys("scenario", raw, _SCENARIO_KEYS, "a mapping")
    name = str(raw.get("name") or "")
    if not name:
        raise ConfigError("scenario.name: every scenario needs a name")
    switches = raw.get("mechanisms") or {}
    disabled = set()
    for mechanism, on in switches.items():
        if mechanism not in model.MECHANISMS:
            raise ConfigError(f"scenario.mechanisms.{mechanism}: unknown mechanism; allowed: {', '.join(model.MECHANISMS)}")
        if not isinstance(on, bool):
            raise ConfigError(f"scenario.mechanisms.{mechanism}: expected true or false, got {on!r}")
        if not on:
            disabled.add(str(mechanism))
    transitions = _transitions(raw.get("ladder"))
    ladder_parameters = {t.parameter for t in transitions}
    raw_parameters = raw.get("parameters") or {}
    specs: dict[str, ParameterSpec] = {}
    for pname, entry in raw_parameters.items():
        if pname in model.CATALOGUE:
            kind = model.CATALOGUE[pname].kind
        elif pname in ladder_parameters:
            kind = "probability"
        else:
            raise ConfigError(
                f"scenario.parameters.{pname}: unknown parameter (not in the model's catalogue and "
                "not used by the ladder); see README's parameter table for the names")
        specs[pname] = parameter_from_mapping(str(pname), entry, kind=kind)
    missing = sorted((set(model.CATALOGUE) | ladder_parameters) - set(specs))
    if missing:
        raise ConfigError(f"scenario.parameters.{missing[0]}: missing (every model parameter needs a value and source)")
    if specs["ttp_branching_ratio"].high >= 1.0:
        raise ConfigError("scenario.parameters.ttp_branching_ratio: must stay below 1 (a stationary attack process)")
    if specs["combat_share_pak_military"].high + specs["combat_share_civilians"].high > 1.0:
        raise ConfigError("scenario.parameters.combat_share_civilians: shares of combat deaths sum above 1")
    if known_sources is not None:
        allowed = set(known_sources) | {"assumption"}
        for spec in specs.values():
            if spec.source not in allowed and not spec.source.startswith("data:"):
                raise ConfigError(
                    f"scenario.parameters.{spec.name}.source: unknown source id {spec.source!r}; "
                    "use a card id from seeds/, 'assumption' or 'data:<file>'")
    _check_outgoing_sums(transitions, specs)
    return Scenario(
        name=name,
        description=str(raw.get("description") or ""),
        parameters=tuple(specs[key] for key in sorted(specs)),
        transitions=tuple(transitions),
        initial_events=tuple(_initial_events(raw.get("initial_events"))),
        disabled=frozenset(disabled),
    )
