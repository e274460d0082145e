"""The reference engine: one run of the escalation model as readable SimPy processes.

Each mechanism is its own process or rule (methods below, one per mechanism) and can be
switched off in the scenario. State-dependent hazards (clashes, mediation, ceasefire collapse,
regional involvement, and the TTP attack intensity) wait on ``timeout | state_changed``: when
the state that sets their rate changes they draw afresh, which is exact for memoryless
hazards. TTP attacks are a Hawkes process simulated by thinning (Ogata).

>>> import numpy as np
>>> from sim.config import load_scenario
>>> scenario = load_scenario("baseline")
>>> result = simulate_run(scenario, scenario.point_values(), np.random.default_rng(1), horizon_days=30)
>>> result.row["outcome"] in {"protracted_low_intensity", "de_escalation", "limited_war",
...                           "conventional_incursion", "regional_war"}
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import simpy

from sim.model import (COMBAT_RATE_PARAMETER_BY_RUNG, CROSSINGS, MEDIATORS, RUNG_INDEX, RUNGS, classify_outcome,
                       prepare_inputs)
from sim.records import RunTally
from sim.scenario import Scenario
from sim.start import PEACE, StartState, start_excitation

__all__ = ["RunResult", "simulate_run", "MaxEventsExceeded"]

_INCURSION = RUNG_INDEX["conventional_incursion"]
_REGIONAL = RUNG_INDEX["regional_war"]


class MaxEventsExceeded(RuntimeError):
    """A run logged more events than ``max_events`` (a runaway configuration)."""


@dataclass(frozen=True)
class RunResult:
    """One run's flat record and, when asked for, its event log ``[(day, kind, detail), ...]``."""

    row: dict
    events: list


class BorderConflict:
    """The world of one run: state, mechanisms as SimPy processes, and the event log."""

    def __init__(self, env: simpy.Environment, scenario: Scenario, values: Mapping[str, float],
                 rng: np.random.Generator, *, keep_log: bool, max_events: int, start: StartState = PEACE):
        self.env, self.scenario = env, scenario
        # One sub-stream per mechanism, spawned from the run's stream: a change in one mechanism
        # (say, crossings) leaves the others' draws untouched, which sharpens paired comparisons.
        (self.rng_attacks, self.rng_response, self.rng_clashes, self.rng_crossings,
         self.rng_diplomacy, self.rng_ladder) = rng.spawn(6)
        self.on = scenario.switches
        self.inputs = prepare_inputs(values, self.on)
        self.v = self.inputs.values
        self.keep_log, self.max_events, self.n_events = keep_log, max_events, 0
        self.log: list = []
        self.tally = RunTally()
        self.ladder: dict[tuple[int, str], list[tuple[int, float]]] = {}
        for t in scenario.transitions:
            self.ladder.setdefault((RUNG_INDEX[t.state], t.event), []).append(
                (RUNG_INDEX[t.target], self.v[t.parameter]))
        # the situation at day 0 (sim.start): peace unless a start state says otherwise
        self.start_state = start
        self.rung = start.rung
        self.tally.path_rungs[0] = start.rung
        self.rung_since = 0.0
        self.ceasefire = start.ceasefire
        self.ceasefire_since = 0.0
        self.chinese_attacks = 0
        self.excitation = float(start_excitation(start, self.inputs.initial_excitation, self.inputs.excitation_jump,
                                                 self.inputs.excitation_decay_per_day))
        self.excitation_time = 0.0
        self.pressure, self.pressure_time = 0.0, 0.0  # recent interstate deaths, decaying
        self.combat_since = self.combat_flow_since = 0.0
        self.last_violence = 0.0
        self.crossing_state = dict.fromkeys(CROSSINGS, "open")
        self.crossing_generation = dict.fromkeys(CROSSINGS, 0)
        self.trade_shut_since: dict[str, float] = {}
        for c, (crossing, state) in enumerate(zip(CROSSINGS, start.crossings)):
            if state != "open":  # shut before day 0: closed once, shut to trade (counted) from day 0
                self.crossing_state[crossing] = state
                self.crossing_generation[crossing] = 1
                self.trade_shut_since[crossing] = 0.0
                self.tally.closure_masks[0] |= 1 << c
        self.state_changed = env.event()
        self.attack_process = None

    # -- bookkeeping -------------------------------------------------------------------------
    def notify(self) -> None:
        """Wake every hazard process so it redraws with the new state's rate."""
        fired, self.state_changed = self.state_changed, self.env.event()
        fired.succeed()

    def emit(self, kind: str, **detail) -> None:
        """Log an event, note its first day, and apply the ladder's transitions for it."""
        now = self.env.now
        self.n_events += 1
        if self.n_events > self.max_events:
            raise MaxEventsExceeded(f"more than {self.max_events} events in one run (max_events_per_run)")
        if self.keep_log:
            self.log.append((now, kind, detail))
        self.tally.first(kind, now)
        choices = self.ladder.get((self.rung, kind))
        if choices:
            u, cumulative = self.rng_ladder.random(), 0.0
            for target, probability in choices:
                cumulative += probability
                if u < cumulative:
                    self.move_to(target, cause=kind)
                    break

    def move_to(self, target: int, *, cause: str) -> None:
        now = self.env.now
        self.close_combat_segment()
        self.tally.days_at_rung[self.rung] += now - self.rung_since
        previous, self.rung, self.rung_since = self.rung, target, now
        self.tally.path_times.append(now)
        self.tally.path_rungs.append(target)
        if self.keep_log:
            self.log.append((now, "rung", {"from": RUNGS[previous], "to": RUNGS[target], "cause": cause}))
        if target == _INCURSION:
            self.tally.first("incursion", now)
        if target == _REGIONAL:
            self.tally.first("regional_war", now)
        self.notify()

    def add_interstate_deaths(self, deaths: float) -> None:
        self.pressure = self.recent_deaths() + deaths
        self.pressure_time = self.env.now
        self.combat_flow_since = self.env.now

    def recent_deaths(self) -> float:
        """Interstate deaths with exponentially fading memory, including the expected flow of
        combat deaths since the current combat segment began (they are drawn when it closes)."""
        memory = self.v["fatality_memory_days"]
        elapsed = self.env.now - self.pressure_time
        remembered = self.pressure * math.exp(-elapsed / memory)
        flow = self.combat_rate()
        if flow > 0.0:
            running = self.env.now - self.combat_flow_since
            remembered += flow * memory * (1.0 - math.exp(-running / memory))
        return remembered

    def kill(self, category: str, deaths: int, *, interstate: bool = True) -> None:
        self.tally.fatalities[category] += int(deaths)
        if interstate and deaths:
            self.add_interstate_deaths(deaths)

    def hazard(self, rate_per_day, fire, rng: np.random.Generator):
        """A process firing ``fire()`` at the state-dependent rate ``rate_per_day()``."""
        while True:
            rate = rate_per_day()
            if rate <= 0.0:
                yield self.state_changed
                continue
            timer = self.env.timeout(rng.exponential(1.0 / rate))
            outcome = yield timer | self.state_changed
            if timer in outcome:
                fire()

    # -- TTP attacks (self-exciting) ----------------------------------------------------------
    def current_excitation(self) -> float:
        elapsed = self.env.now - self.excitation_time
        return self.excitation * math.exp(-self.inputs.excitation_decay_per_day * elapsed)

    def background_rate(self) -> float:
        factor = self.v["ceasefire_attack_factor"] if self.ceasefire else 1.0
        return self.inputs.attack_background_per_day * factor

    def ttp_attacks(self):
        """Hawkes process by thinning: between attacks the intensity only decays, so its value now
        bounds it until the next candidate — unless something changes it from outside (a ceasefire
        starting or ending, an injected attack), which interrupts this process to draw afresh
        (exact: thinning candidates are memoryless)."""
        while True:
            bound = self.background_rate() + self.current_excitation()
            try:
                if bound <= 0.0:
                    yield self.env.event()  # nothing to do until interrupted
                    continue
                yield self.env.timeout(self.rng_attacks.exponential(1.0 / bound))
            except simpy.Interrupt:
                continue
            if self.rng_attacks.random() * bound <= self.background_rate() + self.current_excitation():
                self.attack()

    def attack_intensity_changed(self) -> None:
        """Wake the attack process when its intensity changed from outside it."""
        process = self.attack_process
        if process is not None and process.is_alive and self.env.active_process is not process:
            process.interrupt()

    def attack(self, *, mass_casualty: bool | None = None, deaths: int | None = None) -> None:
        """One TTP attack: excitation, fatalities, and perhaps a Pakistani strike in response."""
        v, rng = self.v, self.rng_attacks
        self.excitation = self.current_excitation() + self.inputs.excitation_jump
        self.excitation_time = self.env.now
        if mass_casualty is None:
            mass_casualty = self.on["mass_casualty_attacks"] and rng.random() < v["p_mass_casualty_attack"]
        if deaths is not None:
            pass  # a scenario-injected attack of given severity
        elif mass_casualty:
            deaths = self.mass_casualty_deaths()
        else:
            mean = self.inputs.ordinary_attack_fatalities_mean
            deaths = rng.poisson(mean) if mean > 0 else 0
        if mass_casualty:
            self.tally.counts["mass_casualty_attacks"] += 1
        self.tally.counts["attacks"] += 1
        self.kill("ttp_violence", deaths, interstate=False)
        self.emit("mass_casualty_attack" if mass_casualty else "attack", deaths=int(deaths))
        if self.on["cross_border_strikes"]:
            p = v["p_strike_after_attack"] * v["strike_multiplier_per_rung"] ** self.rung
            if mass_casualty:
                severity = max(deaths, 1) / v["mass_casualty_min_fatalities"]
                p *= v["strike_multiplier_mass_casualty"] * severity ** v["strike_severity_elasticity"]
            if self.ceasefire:
                p *= v["ceasefire_strike_factor"]
            response = self.rng_response
            if response.random() < p:
                self.env.process(self.strike_after(response.exponential(v["strike_delay_days"])))

    def mass_casualty_deaths(self) -> int:
        """Inverse-CDF draw from the power law p(x) ~ x^-alpha on [min, max], rounded."""
        v = self.v
        lo, hi, alpha = v["mass_casualty_min_fatalities"], v["mass_casualty_max_fatalities"], v["mass_casualty_tail_exponent"]
        if hi <= lo:
            return int(round(lo))
        u = self.rng_attacks.random()
        if abs(alpha - 1.0) < 1e-12:
            return int(round(lo * (hi / lo) ** u))
        e = 1.0 - alpha
        return int(round((lo ** e + u * (hi ** e - lo ** e)) ** (1.0 / e)))

    # -- Pakistani cross-border strikes ------------------------------------------------------
    def strike_after(self, delay: float):
        yield self.env.timeout(delay)
        self.strike()

    def strike(self) -> None:
        v, rng = self.v, self.rng_response
        decapitation = rng.random() < v["p_decapitation_strike"]
        civilian_harm = rng.random() < v["p_strike_civilian_harm"]
        self.tally.counts["strikes"] += 1
        self.kill("militants_in_strikes", rng.poisson(v["strike_militant_deaths_mean"]))
        if civilian_harm:
            self.tally.counts["civilian_harm_strikes"] += 1
            self.kill("civilians", rng.poisson(v["strike_civilian_deaths_mean"]))
        if decapitation:
            self.tally.counts["decapitation_strikes"] += 1
            self.tally.first("decapitation_strike", self.env.now)
        self.last_violence = self.env.now
        self.emit("strike", decapitation=decapitation, civilian_harm=civilian_harm)
        self.violation_may_collapse_ceasefire()
        if self.on["retaliation"]:
            p = v["p_retaliation_after_strike"] * self.inputs.retaliation_factional_multiplier
            if civilian_harm:
                p *= v["retaliation_multiplier_civilian_harm"]
            if decapitation:
                p *= v["retaliation_multiplier_decapitation"]
            if self.ceasefire:
                p *= v["ceasefire_clash_factor"]
            if rng.random() < p:
                delay = rng.exponential(v["retaliation_delay_days"])
                self.env.process(self.retaliation_after(delay, major=decapitation))

    # -- Taliban retaliation and border clashes ----------------------------------------------
    def retaliation_after(self, delay: float, *, major: bool):
        yield self.env.timeout(delay)
        self.tally.counts["retaliations"] += 1
        self.clash("retaliation", major=major)

    def spontaneous_clash_rate(self) -> float:
        rate = self.v["spontaneous_clashes_per_year"] / 365.0
        return rate * self.v["ceasefire_clash_factor"] if self.ceasefire else rate

    def clash(self, kind: str, *, major: bool = False) -> None:
        """A border clash (``kind`` is ``clash`` or ``retaliation``): deaths, seizures, closures.

        A major clash (retaliation for a strike on a city) kills within the contested range of
        the October clashes' claims; an ordinary one draws Poisson deaths."""
        v, rng = self.v, self.rng_clashes
        self.tally.counts["clashes"] += 1
        self.tally.first("clash", self.env.now)
        if major:
            pak = rng.uniform(v["major_clash_pak_military_deaths_low"], v["major_clash_pak_military_deaths_high"])
            afghan = rng.uniform(v["major_clash_afghan_deaths_low"], v["major_clash_afghan_deaths_high"])
        else:
            pak = rng.poisson(v["clash_pak_military_deaths_mean"])
            afghan = rng.poisson(v["clash_afghan_deaths_mean"])
        self.kill("pak_military", round(pak))
        self.kill("afghan_forces", round(afghan))
        self.kill("civilians", rng.poisson(v["clash_civilian_deaths_mean"]))
        self.last_violence = self.env.now
        self.emit(kind, major=major)
        if self.on["seizures"] and rng.random() < v["p_seizure_in_clash"]:
            self.tally.counts["seizures"] += 1
            self.emit("seizure")
        if self.on["crossings"]:
            for crossing in CROSSINGS:
                if self.crossing_state[crossing] != "closed" and self.rng_crossings.random() < v["p_closure_after_clash"]:
                    self.close_crossing(crossing)
        self.violation_may_collapse_ceasefire()

    # -- Crossings ---------------------------------------------------------------------------
    def close_crossing(self, crossing: str) -> None:
        if self.crossing_state[crossing] == "open":
            self.trade_shut_since[crossing] = self.env.now
            self.tally.crossing_shut(crossing, self.env.now, True)
        self.crossing_state[crossing] = "closed"
        self.crossing_generation[crossing] += 1
        self.tally.counts["closures"] += 1
        self.emit("closure", crossing=crossing)
        self.env.process(self.reopen(crossing, self.crossing_generation[crossing]))

    def reopen(self, crossing: str, generation: int, *, partial: bool = False):
        """Closed -> partial reopening (people, aid) -> reopened to trade, unless closed again
        (``partial``: already partially reopened, as a start state may say)."""
        if not partial:
            yield self.env.timeout(self.rng_crossings.exponential(self.v["closure_days_to_partial_reopening"]))
            if self.crossing_generation[crossing] != generation:
                return
            self.crossing_state[crossing] = "partial"
            self.emit("partial_reopening", crossing=crossing)
        yield self.env.timeout(self.rng_crossings.exponential(self.v["partial_days_to_trade_reopening"]))
        if self.crossing_generation[crossing] != generation:
            return
        self.crossing_state[crossing] = "open"
        self.tally.crossing_shut(crossing, self.env.now, False)
        self.account_trade_closure(crossing)
        self.emit("trade_reopening", crossing=crossing)

    def account_trade_closure(self, crossing: str) -> None:
        since = self.trade_shut_since.pop(crossing, None)
        if since is not None:
            days = self.env.now - since
            self.tally.days_closed[crossing] += days
            self.tally.trade_loss_usd += days * self.v[f"trade_loss_usd_per_day_{crossing}"]

    # -- Mediation and ceasefires ------------------------------------------------------------
    def mediator_weights(self) -> list[float]:
        weights = list(self.inputs.mediator_weights)
        china = MEDIATORS.index("china")
        weights[china] *= 1.0 + self.v["china_stake_per_attack"] * self.chinese_attacks
        return weights

    def mediation_rate(self) -> float:
        """Offers per day: rises by a factor per rung; China offers more as its stake grows."""
        base = self.v["mediation_offers_per_year"] / 365.0
        escalation = self.v["mediation_multiplier_per_rung"] ** (self.rung - 1)
        return base * escalation * sum(self.mediator_weights()) / sum(self.inputs.mediator_weights)

    def mediation_offer(self, mediator: str | None = None) -> None:
        """An offer by a mediator drawn by weight (or the given one: talks already under way)."""
        if mediator is None:
            weights = self.mediator_weights()
            u, cumulative = self.rng_diplomacy.random() * sum(weights), 0.0
            mediator = MEDIATORS[-1]
            for name, weight in zip(MEDIATORS, weights):
                cumulative += weight
                if u < cumulative:
                    mediator = name
                    break
        self.tally.counts["mediation_offers"] += 1
        if mediator == "china":
            self.tally.first("china_mediation_offer", self.env.now)
        self.emit("mediation_offer", mediator=mediator)
        success = self.v["p_mediation_success"] * math.exp(-self.recent_deaths() / self.v["mediation_fatality_scale"])
        if self.rng_diplomacy.random() < success:
            self.start_ceasefire(mediator=mediator)

    def start_ceasefire(self, *, mediator: str = "") -> None:
        """A new ceasefire, or a renewal of one that holds (talks reaffirm it)."""
        renewed = self.ceasefire
        if not renewed:
            self.close_combat_segment()
            self.ceasefire, self.ceasefire_since = True, self.env.now
            self.tally.counts["ceasefires"] += 1
        self.emit("ceasefire", mediator=mediator, renewed=renewed)
        if not renewed:
            self.notify()
            self.attack_intensity_changed()

    def collapse_rate(self) -> float:
        return 1.0 / self.v["ceasefire_mean_duration_days"] if self.ceasefire else 0.0

    def collapse_ceasefire(self, cause: str) -> None:
        self.close_combat_segment()
        self.ceasefire = False
        self.tally.days_under_ceasefire += self.env.now - self.ceasefire_since
        self.tally.counts["ceasefire_collapses"] += 1
        self.emit("ceasefire_collapse", cause=cause)
        self.notify()
        self.attack_intensity_changed()

    def violation_may_collapse_ceasefire(self) -> None:
        if self.ceasefire and self.on["ceasefire_collapse"]:
            if self.rng_diplomacy.random() < self.v["p_collapse_on_violation"]:
                self.collapse_ceasefire("violation")

    # -- Calm, combat, context ---------------------------------------------------------------
    def calm_watch(self):
        """After ``calm_days`` without strike or clash, emit ``calm`` (the ladder may step down)."""
        quiet_from = 0.0
        while True:
            deadline = max(self.last_violence, quiet_from) + self.v["calm_days"]
            if self.env.now + 1e-9 < deadline:
                yield self.env.timeout(deadline - self.env.now)
                continue
            if self.rung > 0:
                self.emit("calm")
            quiet_from = self.env.now

    def combat_rate(self) -> float:
        """Combat deaths per day at the current rung (zero below a limited ground operation)."""
        key = COMBAT_RATE_PARAMETER_BY_RUNG.get(self.rung)
        if key is None or not self.on["combat_fatalities"]:
            return 0.0
        return self.v[key] * (self.v["ceasefire_clash_factor"] if self.ceasefire else 1.0)

    def close_combat_segment(self) -> None:
        """Combat deaths accrue at the current rung's daily rate since the last change."""
        now = self.env.now
        start, self.combat_since = self.combat_since, now
        rate = self.combat_rate()
        if rate <= 0.0 or now <= start:
            self.combat_flow_since = now  # no flow to fold; a flow starting now counts from now
            return
        self.pressure, self.pressure_time = self.recent_deaths(), now  # fold the flow into memory
        self.combat_flow_since = now
        rng = self.rng_ladder
        deaths = rng.poisson(rate * (now - start))
        pak = rng.binomial(deaths, self.v["combat_share_pak_military"])
        rest_share = 1.0 - self.v["combat_share_pak_military"]
        civilian_share = min(1.0, self.v["combat_share_civilians"] / rest_share) if rest_share > 0 else 0.0
        civilians = rng.binomial(deaths - pak, civilian_share)
        # the flow already weighs on mediation through recent_deaths(); tally the draws only
        self.kill("pak_military", pak, interstate=False)
        self.kill("civilians", civilians, interstate=False)
        self.kill("afghan_forces", deaths - pak - civilians, interstate=False)

    def chinese_nationals_attack(self) -> None:
        self.chinese_attacks += 1
        self.tally.counts["attacks_on_chinese_nationals"] += 1
        self.emit("attack_on_chinese_nationals")
        self.notify()

    def involvement_rate(self, actor: str) -> float:
        if self.rung != _INCURSION:
            return 0.0
        if actor == "iran":
            return self.v["iran_involvement_per_year_in_incursion"] / 365.0 * self.v["iran_posture_multiplier"]
        stake = 1.0 + self.v["china_stake_per_attack"] * self.chinese_attacks
        return self.v["china_involvement_per_year_in_incursion"] / 365.0 * stake

    def inject(self, kind: str, day: float, deaths: float | None):
        """Scenario-injected event (``initial_events``), e.g. a mass-casualty attack on day 0."""
        yield self.env.timeout(day)
        if kind in ("attack", "mass_casualty_attack"):
            self.attack(mass_casualty=kind == "mass_casualty_attack",
                        deaths=None if deaths is None else int(round(deaths)))
            self.attack_intensity_changed()
        elif kind == "strike":
            self.strike()
        elif kind == "clash":
            self.clash("clash")
        elif kind == "closure":
            for crossing in CROSSINGS:
                if self.crossing_state[crossing] != "closed":
                    self.close_crossing(crossing)
        elif kind == "ceasefire":
            self.start_ceasefire(mediator="scenario")
        elif kind == "attack_on_chinese_nationals":
            self.chinese_nationals_attack()
        self.notify()

    def offer_under_way(self, day: float, mediator: str):
        """A start state's mediation under way: the offer is made on ``day``."""
        yield self.env.timeout(day)
        self.mediation_offer(mediator)

    # -- wiring and the end of a run ---------------------------------------------------------
    def start(self) -> None:
        env, on, state = self.env, self.on, self.start_state
        for event in self.scenario.initial_events:
            env.process(self.inject(event.kind, event.day, event.deaths))
        for crossing, shut in zip(CROSSINGS, state.crossings):
            if shut != "open":
                env.process(self.reopen(crossing, 1, partial=shut == "partial"))
        if state.mediator is not None:
            env.process(self.offer_under_way(state.offer_day, state.mediator))
        if on["ttp_attacks"]:
            self.attack_process = env.process(self.ttp_attacks())
        if on["spontaneous_clashes"]:
            env.process(self.hazard(self.spontaneous_clash_rate, lambda: self.clash("clash"), self.rng_clashes))
        if on["mediation"]:
            env.process(self.hazard(self.mediation_rate, self.mediation_offer, self.rng_diplomacy))
        if on["ceasefire_collapse"]:
            env.process(self.hazard(self.collapse_rate, lambda: self.collapse_ceasefire("hazard"), self.rng_diplomacy))
        if on["calm_steps_down"]:
            env.process(self.calm_watch())
        if on["chinese_nationals_attacks"]:
            rate = self.v["chinese_nationals_attacks_per_year"] / 365.0
            env.process(self.hazard(lambda: rate, self.chinese_nationals_attack, self.rng_ladder))
        if on["regional_involvement"]:
            env.process(self.hazard(lambda: self.involvement_rate("iran"), lambda: self.emit("iran_involvement"),
                                    self.rng_ladder))
            env.process(self.hazard(lambda: self.involvement_rate("china"), lambda: self.emit("china_involvement"),
                                    self.rng_ladder))

    def finish(self, run_index: int, horizon_days: float) -> dict:
        self.close_combat_segment()
        self.tally.days_at_rung[self.rung] += horizon_days - self.rung_since
        if self.ceasefire:
            self.tally.days_under_ceasefire += horizon_days - self.ceasefire_since
        for crossing in list(self.trade_shut_since):
            self.account_trade_closure(crossing)
        crossings_open = all(state == "open" for state in self.crossing_state.values())
        outcome = classify_outcome(max_rung=max(self.tally.path_rungs), ceasefire_holding=self.ceasefire,
                                   crossings_open=crossings_open)
        return self.tally.to_row(run_index=run_index, outcome=outcome, final_rung=self.rung,
                                 ceasefire_at_horizon=self.ceasefire, crossings_open_at_horizon=crossings_open,
                                 horizon_days=horizon_days)


def simulate_run(scenario: Scenario, values: Mapping[str, float], rng: np.random.Generator, *,
                 horizon_days: float, run_index: int = 0, keep_log: bool = False,
                 max_events: int = 1_000_000, start: StartState = PEACE) -> RunResult:
    """Simulate one run to ``horizon_days`` with the given parameter values and random stream,
    from the situation ``start`` at day 0 (peace by default)."""
    env = simpy.Environment()
    world = BorderConflict(env, scenario, values, rng, keep_log=keep_log, max_events=max_events, start=start)
    world.start()
    env.run(until=horizon_days)
    env.now  # noqa: B018 - the clock stands at the horizon
    row = world.finish(run_index, horizon_days)
    return RunResult(row=row, events=world.log)
