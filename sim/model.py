"""The escalation model's vocabulary and rules, independent of any engine.

Everything an engine needs to know about the model lives here: the rungs of the escalation
ladder, the event kinds that move it, the catalogue of parameters (with the kind of value each
must be), the derived quantities computed from one run's parameter values (``prepare_inputs``),
and the rule that puts a finished run into exactly one outcome class (``classify_outcome``).

>>> RUNGS[0], RUNGS[-1]
('low_intensity', 'regional_war')
>>> classify_outcome(max_rung=4, ceasefire_holding=True, crossings_open=True)
'conventional_incursion'
>>> classify_outcome(max_rung=2, ceasefire_holding=True, crossings_open=True)
'de_escalation'
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

import numpy as np

__all__ = [
    "RUNGS",
    "RUNG_INDEX",
    "LADDER_EVENTS",
    "INITIAL_EVENT_KINDS",
    "OUTCOME_CLASSES",
    "CROSSINGS",
    "MEDIATORS",
    "MECHANISMS",
    "COMBAT_RATE_PARAMETER_BY_RUNG",
    "ParameterInfo",
    "CATALOGUE",
    "Inputs",
    "prepare_inputs",
    "classify_outcome",
    "classify_outcome_codes",
    "mass_casualty_mean_fatalities",
]

#: The escalation ladder, least to most severe. Index = severity.
RUNGS: tuple[str, ...] = (
    "low_intensity",
    "border_clashes",
    "strike_retaliation_cycle",
    "limited_ground_operation",
    "conventional_incursion",
    "regional_war",
)
RUNG_INDEX = {name: index for index, name in enumerate(RUNGS)}

#: Rungs with combat deaths -> the parameter giving them per day (no combat deaths below a
#: limited ground operation). Both engines read it.
COMBAT_RATE_PARAMETER_BY_RUNG: dict[int, str] = {
    RUNG_INDEX["limited_ground_operation"]: "combat_deaths_per_day_limited_operation",
    RUNG_INDEX["conventional_incursion"]: "combat_deaths_per_day_incursion",
    RUNG_INDEX["regional_war"]: "combat_deaths_per_day_regional_war",
}

#: Events that can move the ladder (keys of ``ladder:`` transitions in a scenario YAML).
LADDER_EVENTS: tuple[str, ...] = (
    "attack",
    "mass_casualty_attack",
    "strike",
    "retaliation",
    "clash",
    "seizure",
    "ceasefire",
    "ceasefire_collapse",
    "calm",
    "attack_on_chinese_nationals",
    "iran_involvement",
    "china_involvement",
)

#: Events a scenario may inject at a given day (``initial_events:``).
INITIAL_EVENT_KINDS: tuple[str, ...] = (
    "attack",
    "mass_casualty_attack",
    "strike",
    "clash",
    "closure",
    "ceasefire",
    "attack_on_chinese_nationals",
)

#: Outcome classes, most severe first. The first three are decided by the most severe rung
#: reached; the last two by the state at the horizon.
OUTCOME_CLASSES: tuple[str, ...] = (
    "regional_war",
    "conventional_incursion",
    "limited_war",
    "protracted_low_intensity",
    "de_escalation",
)

CROSSINGS: tuple[str, ...] = ("torkham", "chaman")
MEDIATORS: tuple[str, ...] = ("qatar", "turkey", "saudi_arabia", "china", "other")

#: Mechanisms a scenario can switch off, each implemented by its own process or rule.
MECHANISMS: tuple[str, ...] = (
    "ttp_attacks",
    "self_excitation",
    "mass_casualty_attacks",
    "cross_border_strikes",
    "retaliation",
    "spontaneous_clashes",
    "seizures",
    "crossings",
    "mediation",
    "ceasefire_collapse",
    "calm_steps_down",
    "combat_fatalities",
    "chinese_nationals_attacks",
    "regional_involvement",
    "factional_split",
)


@dataclass(frozen=True)
class ParameterInfo:
    """What a catalogue parameter is and which values are possible.

    ``kind`` is one of: probability ([0, 1]), rate (per day or per year, >= 0), duration
    (days, > 0), multiplier (>= 0), count (>= 0), usd (>= 0), shift (any real number).
    """

    kind: str
    unit: str
    meaning: str


def _p(meaning: str) -> ParameterInfo:
    return ParameterInfo("probability", "probability", meaning)


CATALOGUE: dict[str, ParameterInfo] = {
    # TTP attacks inside Pakistan (self-exciting point process)
    "ttp_attacks_per_year": ParameterInfo(
        "rate", "attacks/year", "long-run mean TTP attack volume, excitation included"),
    "ttp_branching_ratio": ParameterInfo(
        "probability", "attacks per attack", "expected follow-on attacks triggered by one attack (< 1)"),
    "ttp_excitation_decay_days": ParameterInfo(
        "duration", "days", "mean lifetime of the extra attack rate one attack adds"),
    "ttp_fatalities_per_year": ParameterInfo(
        "rate", "deaths/year", "long-run fatalities of militant violence inside Pakistan"),
    "p_mass_casualty_attack": _p("share of attacks that are mass-casualty (>= min fatalities)"),
    "mass_casualty_min_fatalities": ParameterInfo(
        "count", "deaths", "fatalities that define a mass-casualty attack"),
    "mass_casualty_max_fatalities": ParameterInfo(
        "count", "deaths", "cap on the heavy tail of one attack's fatalities"),
    "mass_casualty_tail_exponent": ParameterInfo(
        "multiplier", "power-law exponent", "exponent alpha of the fatality tail p(x) ~ x^-alpha"),
    # Pakistani cross-border strikes
    "p_strike_after_attack": _p("chance an ordinary attack at the bottom rung brings a cross-border strike"),
    "strike_multiplier_mass_casualty": ParameterInfo(
        "multiplier", "x", "strike chance multiplier after a mass-casualty attack"),
    "strike_severity_elasticity": ParameterInfo(
        "multiplier", "elasticity", "strike chance after a mass-casualty attack grows as (deaths / min)^elasticity"),
    "strike_multiplier_per_rung": ParameterInfo(
        "multiplier", "x per rung", "strike chance multiplier per rung above the bottom"),
    "strike_delay_days": ParameterInfo("duration", "days", "mean delay from attack to strike"),
    "p_decapitation_strike": _p("share of strikes aimed at TTP leaders in cities"),
    "p_strike_civilian_harm": _p("chance a strike kills civilians"),
    "strike_civilian_deaths_mean": ParameterInfo(
        "count", "deaths", "mean civilian deaths of a strike that harms civilians"),
    "strike_militant_deaths_mean": ParameterInfo("count", "deaths", "mean militants killed by a strike"),
    # Taliban retaliation and clashes
    "p_retaliation_after_strike": _p("chance the Taliban retaliate on border posts after a strike"),
    "retaliation_multiplier_civilian_harm": ParameterInfo(
        "multiplier", "x", "retaliation chance multiplier when the strike killed civilians"),
    "retaliation_multiplier_decapitation": ParameterInfo(
        "multiplier", "x", "retaliation chance multiplier after a strike on a city"),
    "retaliation_delay_days": ParameterInfo("duration", "days", "mean delay from strike to retaliation"),
    "spontaneous_clashes_per_year": ParameterInfo(
        "rate", "clashes/year", "border clashes not triggered by a strike (fencing, posts)"),
    "clash_pak_military_deaths_mean": ParameterInfo(
        "count", "deaths", "mean Pakistani military deaths in an ordinary clash"),
    "clash_afghan_deaths_mean": ParameterInfo(
        "count", "deaths", "mean Afghan Taliban deaths in an ordinary clash"),
    "clash_civilian_deaths_mean": ParameterInfo(
        "count", "deaths", "mean civilian deaths in a clash"),
    "major_clash_pak_military_deaths_low": ParameterInfo(
        "count", "deaths", "Pakistani military deaths in a major clash: low end of contested claims"),
    "major_clash_pak_military_deaths_high": ParameterInfo(
        "count", "deaths", "Pakistani military deaths in a major clash: high end of contested claims"),
    "major_clash_afghan_deaths_low": ParameterInfo(
        "count", "deaths", "Afghan deaths in a major clash: low end"),
    "major_clash_afghan_deaths_high": ParameterInfo(
        "count", "deaths", "Afghan deaths in a major clash: high end of contested claims"),
    "p_seizure_in_clash": _p("chance a clash includes a temporary seizure of posts"),
    # Crossings
    "p_closure_after_clash": _p("chance an open crossing is closed after a clash"),
    "closure_days_to_partial_reopening": ParameterInfo(
        "duration", "days", "mean days from closure to partial (people only) reopening"),
    "partial_days_to_trade_reopening": ParameterInfo(
        "duration", "days", "mean days from partial reopening to reopening for trade"),
    "trade_loss_usd_per_day_torkham": ParameterInfo(
        "usd", "USD/day", "trade lost per day Torkham is shut to trade"),
    "trade_loss_usd_per_day_chaman": ParameterInfo(
        "usd", "USD/day", "trade lost per day Chaman is shut to trade"),
    # Mediation and ceasefires
    "mediation_offers_per_year": ParameterInfo(
        "rate", "offers/year", "third-party mediation offers at the border-clashes rung"),
    "mediation_multiplier_per_rung": ParameterInfo(
        "multiplier", "x per rung", "offer-rate multiplier per rung (escalation draws mediators)"),
    "p_mediation_success": _p("chance an offer yields a ceasefire with no recent fatalities"),
    "mediation_fatality_scale": ParameterInfo(
        "count", "deaths", "recent interstate deaths that cut mediation success by a factor e"),
    "fatality_memory_days": ParameterInfo(
        "duration", "days", "time constant over which recent deaths weigh on mediation"),
    "weight_qatar": ParameterInfo("multiplier", "weight", "relative share of offers by Qatar"),
    "weight_turkey": ParameterInfo("multiplier", "weight", "relative share of offers by Turkey"),
    "weight_saudi_arabia": ParameterInfo("multiplier", "weight", "relative share of offers by Saudi Arabia"),
    "weight_china": ParameterInfo("multiplier", "weight", "relative share of offers by China"),
    "weight_other": ParameterInfo("multiplier", "weight", "relative share of offers by others"),
    "ceasefire_mean_duration_days": ParameterInfo(
        "duration", "days", "mean time to spontaneous collapse of a ceasefire"),
    "p_collapse_on_violation": _p("chance a strike or clash during a ceasefire collapses it"),
    "ceasefire_attack_factor": ParameterInfo(
        "multiplier", "x", "TTP background attack rate multiplier while a ceasefire holds"),
    "ceasefire_strike_factor": ParameterInfo(
        "multiplier", "x", "strike chance multiplier while a ceasefire holds"),
    "ceasefire_clash_factor": ParameterInfo(
        "multiplier", "x", "spontaneous clash rate and retaliation chance multiplier under ceasefire"),
    "calm_days": ParameterInfo(
        "duration", "days", "days without strike or clash after which the ladder may step down"),
    # Combat at the upper rungs
    "combat_deaths_per_day_limited_operation": ParameterInfo(
        "rate", "deaths/day", "combat deaths per day during a limited ground operation"),
    "combat_deaths_per_day_incursion": ParameterInfo(
        "rate", "deaths/day", "combat deaths per day during a conventional incursion"),
    "combat_deaths_per_day_regional_war": ParameterInfo(
        "rate", "deaths/day", "combat deaths per day once regional powers are involved"),
    "combat_share_pak_military": _p("share of combat deaths that are Pakistani military"),
    "combat_share_civilians": _p("share of combat deaths that are civilians (rest: Afghan forces)"),
    # Context
    "chinese_nationals_attacks_per_year": ParameterInfo(
        "rate", "attacks/year", "Baloch militant attacks on Chinese nationals"),
    "china_stake_per_attack": ParameterInfo(
        "multiplier", "x per attack", "rise in China's mediation and involvement per attack on its nationals"),
    "iran_involvement_per_year_in_incursion": ParameterInfo(
        "rate", "1/year", "hazard of Iran being drawn in while an incursion lasts"),
    "china_involvement_per_year_in_incursion": ParameterInfo(
        "rate", "1/year", "hazard of China being drawn in while an incursion lasts"),
    "iran_posture_multiplier": ParameterInfo(
        "multiplier", "x", "Iran's hostility relative to the seeds' period"),
    "kandahar_dominance_shift": ParameterInfo(
        "shift", "index", "change in the Kandahar faction's dominance relative to the seeds' period"),
    "factional_retaliation_sensitivity": ParameterInfo(
        "multiplier", "per unit shift", "log-change of retaliation chance per unit dominance shift"),
    "factional_ttp_sensitivity": ParameterInfo(
        "multiplier", "per unit shift", "log-change of TTP attack rate per unit dominance shift"),
}


@dataclass(frozen=True)
class Inputs:
    """One run's parameter values plus the quantities derived from them (shared by all engines).

    Build with :func:`prepare_inputs`; engines read attributes, never the raw mapping. Built from
    arrays (one element per run), the derived quantities are arrays of the same shape.
    """

    values: Mapping[str, float]
    attack_background_per_day: float
    excitation_jump: float
    excitation_decay_per_day: float
    initial_excitation: float
    ordinary_attack_fatalities_mean: float
    mass_casualty_fatalities_mean: float
    retaliation_factional_multiplier: float
    mediator_weights: tuple[float, ...]

    def __getattr__(self, name: str) -> float:
        # Raw parameter values read as attributes: inputs.p_strike_after_attack
        if name == "values" or name.startswith("__"):
            raise AttributeError(name)
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None


def _scalar_or_array(value):
    """A 0-d result as a Python float (scalar inputs keep scalar outputs), else the array."""
    array = np.asarray(value, dtype=float)
    return float(array) if array.ndim == 0 else array


def mass_casualty_mean_fatalities(minimum, maximum, alpha):
    """Mean of a continuous power law p(x) ~ x^-alpha truncated to [minimum, maximum].

    Works element-wise on arrays (one value per run) as well as on scalars.

    >>> round(mass_casualty_mean_fatalities(10, 1e9, 2.5), 2)  # untruncated: xmin (a-1)/(a-2)
    30.0
    >>> mass_casualty_mean_fatalities(np.array([10.0, 20.0]), 20.0, 2.5).round(2).tolist()
    [13.59, 20.0]
    """
    lo, hi, a = (np.asarray(x, dtype=float) for x in (minimum, maximum, alpha))

    def integral(power):  # integral of x^power from lo to hi
        near_log = np.abs(power + 1.0) < 1e-12
        exponent = np.where(near_log, 1.0, power + 1.0)
        general = (hi ** exponent - lo ** exponent) / exponent
        return np.where(near_log, np.log(hi / lo), general)

    with np.errstate(all="ignore"):  # the branch not taken may divide by zero
        mean = np.where(hi <= lo, lo, integral(1.0 - a) / integral(-a))
    return _scalar_or_array(mean)


def prepare_inputs(values: Mapping[str, float], mechanisms: Mapping[str, bool]) -> Inputs:
    """Derive the engine's working quantities from one run's parameter values.

    The TTP background rate is set so that the long-run attack volume, excitation included,
    equals ``ttp_attacks_per_year``: background = target x (1 - branching ratio). Ordinary
    attacks' mean fatalities are set so the long-run fatality volume equals
    ``ttp_fatalities_per_year`` given the mass-casualty share and tail.

    >>> from sim.model import CATALOGUE
    >>> vals = {name: 1.0 for name in CATALOGUE}
    >>> vals.update(ttp_attacks_per_year=730.0, ttp_branching_ratio=0.5, ttp_excitation_decay_days=10.0,
    ...             ttp_fatalities_per_year=2920.0, p_mass_casualty_attack=0.0, kandahar_dominance_shift=0.0)
    >>> inputs = prepare_inputs(vals, {m: True for m in MECHANISMS})
    >>> inputs.attack_background_per_day, inputs.ordinary_attack_fatalities_mean
    (1.0, 4.0)

    Every value may be a scalar or an array with one element per run (the fast engine derives a
    whole chunk at once); the derived quantities then have the same shape. A ValueError names the
    problem when any element violates it.

    >>> many = dict(vals, ttp_branching_ratio=np.array([0.5, 0.0]))
    >>> prepare_inputs(many, {m: True for m in MECHANISMS}).attack_background_per_day.tolist()
    [1.0, 2.0]
    """
    v = dict(values)
    arr = lambda name: np.asarray(v[name], dtype=float)  # noqa: E731
    branching = arr("ttp_branching_ratio") if mechanisms["self_excitation"] else np.float64(0.0)
    if np.any(branching >= 1.0):
        raise ValueError("ttp_branching_ratio must be below 1 for a stationary attack process")
    factional_shift = arr("kandahar_dominance_shift") if mechanisms["factional_split"] else np.float64(0.0)
    attacks_per_year = arr("ttp_attacks_per_year")
    attacks_per_day = attacks_per_year / 365.0
    ttp_multiplier = np.exp(arr("factional_ttp_sensitivity") * factional_shift)
    background = attacks_per_day * (1.0 - branching) * ttp_multiplier
    decay = 1.0 / arr("ttp_excitation_decay_days")
    p_mass = arr("p_mass_casualty_attack") if mechanisms["mass_casualty_attacks"] else np.float64(0.0)
    mass_mean = np.asarray(mass_casualty_mean_fatalities(
        v["mass_casualty_min_fatalities"], v["mass_casualty_max_fatalities"],
        v["mass_casualty_tail_exponent"]))
    with np.errstate(divide="ignore", invalid="ignore"):  # the branch not taken may divide by zero
        per_attack = np.where(attacks_per_year != 0.0, arr("ttp_fatalities_per_year") / attacks_per_year, 0.0)
        ordinary_mean = np.where(p_mass < 1.0, (per_attack - p_mass * mass_mean) / (1.0 - p_mass), 0.0)
    if np.any(ordinary_mean < 0.0):
        raise ValueError(
            "p_mass_casualty_attack and the mass-casualty tail imply more fatalities than "
            "ttp_fatalities_per_year allows")
    weights = tuple(_scalar_or_array(v[f"weight_{name}"]) for name in MEDIATORS)
    return Inputs(
        values=v,
        attack_background_per_day=_scalar_or_array(background),
        excitation_jump=_scalar_or_array(branching * decay),
        excitation_decay_per_day=_scalar_or_array(decay),
        # Start in the stationary regime: the conflict is under way, not starting from peace.
        initial_excitation=_scalar_or_array(background * branching / (1.0 - branching)),
        ordinary_attack_fatalities_mean=_scalar_or_array(ordinary_mean),
        mass_casualty_fatalities_mean=_scalar_or_array(np.where(p_mass > 0, mass_mean, 0.0)),
        retaliation_factional_multiplier=_scalar_or_array(
            np.exp(arr("factional_retaliation_sensitivity") * factional_shift)),
        mediator_weights=weights,
    )


def classify_outcome(*, max_rung: int, ceasefire_holding: bool, crossings_open: bool) -> str:
    """Put a finished run into exactly one outcome class.

    Severe classes are nested by the most severe rung reached within the horizon (so
    P(incursion or worse) = P(conventional_incursion) + P(regional_war)); otherwise a run that
    ends with a ceasefire holding and both crossings open to trade is ``de_escalation`` and
    every other run is ``protracted_low_intensity``.

    >>> classify_outcome(max_rung=5, ceasefire_holding=False, crossings_open=False)
    'regional_war'
    >>> classify_outcome(max_rung=3, ceasefire_holding=True, crossings_open=True)
    'limited_war'
    >>> classify_outcome(max_rung=1, ceasefire_holding=True, crossings_open=False)
    'protracted_low_intensity'
    """
    if max_rung >= RUNG_INDEX["regional_war"]:
        return "regional_war"
    if max_rung >= RUNG_INDEX["conventional_incursion"]:
        return "conventional_incursion"
    if max_rung >= RUNG_INDEX["limited_ground_operation"]:
        return "limited_war"
    if ceasefire_holding and crossings_open:
        return "de_escalation"
    return "protracted_low_intensity"



def classify_outcome_codes(max_rung, ceasefire_holding, crossings_open) -> np.ndarray:
    """:func:`classify_outcome` for many runs at once: codes indexing :data:`OUTCOME_CLASSES`.

    The same rule, applied element-wise: the severe classes by the most severe rung reached
    (checked from the most severe down), then de-escalation, else protracted low intensity.

    >>> codes = classify_outcome_codes([5, 2, 2, 0], [False, True, False, True], [True, True, True, False])
    >>> [OUTCOME_CLASSES[code] for code in codes]
    ['regional_war', 'de_escalation', 'protracted_low_intensity', 'protracted_low_intensity']
    """
    max_rung = np.asarray(max_rung)
    calm_end = np.asarray(ceasefire_holding, dtype=bool) & np.asarray(crossings_open, dtype=bool)
    codes = np.where(calm_end, OUTCOME_CLASSES.index("de_escalation"),
                     OUTCOME_CLASSES.index("protracted_low_intensity"))
    # least severe first, so a more severe rung overwrites: the first matching rule of classify_outcome
    for rung, outcome in (("limited_ground_operation", "limited_war"),
                          ("conventional_incursion", "conventional_incursion"),
                          ("regional_war", "regional_war")):
        codes = np.where(max_rung >= RUNG_INDEX[rung], OUTCOME_CLASSES.index(outcome), codes)
    return codes.astype(np.int8)
