"""The mechanisms of one compiled run, one helper per BorderConflict method (attacks, strikes,
clashes, crossings, mediation, ceasefires, injected and scheduled events), and the hazard clocks
that time them, redrawn where the SimPy engine redraws.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.engines.fast_bookkeeping import (_close_combat_segment, _emit, _first, _kill, _note_violence, _notify,
                                          _pop_pending, _recent_deaths, _schedule, _set_clock)
from sim.engines.fast_layout import (CLOSED, C_ATTACKS, C_CEASEFIRES, C_CHINESE, C_CIVILIAN_HARM, C_CLASHES, C_CLOSURES,
                                     C_COLLAPSES, C_DECAPITATION, C_MASS, C_OFFERS, C_RETALIATIONS, C_SEIZURES,
                                     C_STRIKES, D_EXPONENTIAL, D_POISSON_OFFSPRING, D_POISSON_OFFSPRING_SUM,
                                     D_POWER_LAW, D_POWER_LAW_EXPONENT_SUM, E_ATTACK,
                                     E_CEASEFIRE, E_CHINESE, E_CLASH, E_CLOSURE, E_COLLAPSE, E_MASS, E_OFFER, E_PARTIAL,
                                     E_RETALIATION, E_SEIZURE, E_STRIKE, E_TRADE, F_CHINA_OFFER, F_CLASH,
                                     F_DECAPITATION, GAP_BATCH, I_ATTACK, I_CEASEFIRE, I_CHINESE, I_CLASH, I_CLOSURE,
                                     I_MASS, I_STRIKE, K_AFGHAN, K_CIVILIANS, K_MILITANTS, K_PAK, K_TTP, MED_CHINA,
                                     M_CALM, M_CHINESE, M_CLASHES, M_COLLAPSE, M_CROSSINGS, M_MASS, M_MEDIATION,
                                     M_REGIONAL, M_RETALIATION, M_SEIZURES, M_STRIKES, M_TTP, N_CROSSINGS, N_MEDIATORS,
                                     OPEN, PARTIAL, PK_OFFER, PK_PARTIAL, PK_RETALIATION, PK_STRIKE, PK_TRADE,
                                     P_BACKGROUND,
                                     P_CF_ATTACK, P_CF_CLASH, P_CF_DURATION, P_CF_STRIKE, P_CHINA_PER_YEAR,
                                     P_CHINA_STAKE, P_CHINESE_PER_YEAR, P_CLASHES_PER_YEAR, P_CLASH_AFGHAN,
                                     P_CLASH_CIVILIANS, P_CLASH_PAK, P_DECAY, P_ESCALATION_AT_RUNG, P_FATALITY_SCALE,
                                     P_IRAN_PER_YEAR, P_IRAN_POSTURE, P_MAJOR_AFGHAN_HIGH, P_MAJOR_AFGHAN_LOW,
                                     P_MAJOR_PAK_HIGH, P_MAJOR_PAK_LOW, P_MASS_ALPHA, P_MASS_MAX, P_MASS_MIN,
                                     P_MASS_POWERS, P_OFFERS_PER_YEAR, P_OFFSPRING_MEAN, P_OFFSPRING_TABLE,
                                     P_P_CIVILIAN_HARM, P_P_CLOSURE, P_P_COLLAPSE_VIOLATION, P_P_DECAPITATION, P_P_MASS,
                                     P_P_MEDIATION, P_P_RETALIATION, P_P_SEIZURE, P_RET_CIVILIAN_MULT,
                                     P_RET_DECAPITATION_MULT, P_RET_DELAY, P_RET_FACTIONAL, P_STRIKE_AT_RUNG,
                                     P_STRIKE_CIVILIANS, P_STRIKE_DELAY, P_STRIKE_ELASTICITY, P_STRIKE_MASS_MULT,
                                     P_STRIKE_MILITANTS, P_TO_PARTIAL, P_TO_TRADE, P_TRADE_LOSS, P_WEIGHT, R_INCURSION,
                                     SRC_ATTACK, SRC_CHINA, SRC_CHINESE, SRC_CLASH, SRC_COLLAPSE, SRC_IRAN, SRC_OFFER,
                                     S_ATTACKS, S_CLASHES, S_CROSSINGS, S_DIPLOMACY, S_LADDER, S_RESPONSE,
                                     X_ATTACK_RATE, X_CF_SINCE, X_DAYS_CF, X_DAYS_CLOSED, X_DRAWS, X_GAPS, X_NOW,
                                     X_SHUT_SINCE, X_TRADE_LOSS, Z_CEASEFIRE, Z_CHINESE_ATTACKS, Z_CROSSING_STATE,
                                     Z_GAPS_LEFT, Z_GENERATION, Z_N_DAYS, Z_OFFSPRING, Z_ORDINARY_ATTACKS, Z_RUNG)
from sim.engines.fast_random import (_exponential, _load_stream, _poisson, _poisson_tabled, _raw_uniform,
                                     _step_exponential, _store_stream, _uniform)

# =============================================================================================
# Mechanisms: one helper per BorderConflict method
# =============================================================================================


@njit(cache=True, forceinline=True)
def _attack_rate(w):
    """The TTP attack intensity in the birth-death form: background_rate() + decay x pending offspring.

    BorderConflict's excitation, exc(t) = sum of jumps decayed since each attack, is the expected
    number of pending offspring times the decay rate: each attack begets Poisson(branching)
    offspring, each after an Exp(decay) delay -- so by memorylessness only their count matters."""
    background = w.par[P_BACKGROUND]
    if w.z[Z_CEASEFIRE]:
        background *= w.par[P_CF_ATTACK]
    return background + w.par[P_DECAY] * w.z[Z_OFFSPRING]


@njit(cache=True, forceinline=True)
def _offspring(w):
    """Poisson(branching ratio) offspring of one attack, by inversion from the cached exp(-mean)."""
    mean = w.par[P_OFFSPRING_MEAN]
    w.x[X_DRAWS + D_POISSON_OFFSPRING] += 1.0
    w.x[X_DRAWS + D_POISSON_OFFSPRING_SUM] += mean
    return _poisson_tabled(w.rng, S_ATTACKS, mean, w.par, P_OFFSPRING_TABLE)


@njit(cache=True, forceinline=True)
def _mass_casualty_deaths(w):
    """BorderConflict.mass_casualty_deaths: inverse CDF of the truncated power law, rounded."""
    lo, hi, alpha = w.par[P_MASS_MIN], w.par[P_MASS_MAX], w.par[P_MASS_ALPHA]
    if hi <= lo:
        return int(np.rint(lo))
    u = _raw_uniform(w.rng, S_ATTACKS)  # tallied as a power-law variate, not as a uniform
    w.x[X_DRAWS + D_POWER_LAW] += 1.0
    if abs(alpha - 1.0) < 1e-12:  # the log-uniform limit: the pow's exponent is u itself
        w.x[X_DRAWS + D_POWER_LAW_EXPONENT_SUM] += u
        return int(np.rint(lo * (hi / lo) ** u))
    # (lo ** e + u * (hi ** e - lo ** e)) ** (1 / e), e = 1 - alpha, its constant powers precomputed
    powers = P_MASS_POWERS
    w.x[X_DRAWS + D_POWER_LAW_EXPONENT_SUM] += w.par[powers + 2]
    return int(np.rint((w.par[powers] + u * w.par[powers + 1]) ** w.par[powers + 2]))


@njit(cache=True, forceinline=True)
def _attack(w, mass_flag, given_deaths):
    """BorderConflict.attack. mass_flag -1: decide by p_mass_casualty_attack; given_deaths -1: draw."""
    w.z[Z_OFFSPRING] += _offspring(w)  # the excitation's jump: this attack's offspring to come
    if mass_flag < 0:
        mass = w.z[M_MASS] and _uniform(w, S_ATTACKS) < w.par[P_P_MASS]
    else:
        mass = mass_flag == 1
    _attack_consequences(w, mass, given_deaths)


@njit(cache=True, forceinline=True)
def _attack_consequences(w, mass, given_deaths):
    """The rest of BorderConflict.attack: deaths, tallies, the event, perhaps a strike in response.

    Ordinary attacks' deaths are drawn in aggregate at the end of the run (nothing reads them)."""
    x, z, par = w.x, w.z, w.par
    deaths = 0
    if given_deaths >= 0:
        deaths = given_deaths  # a scenario-injected attack of given severity
    elif mass:
        deaths = _mass_casualty_deaths(w)
    else:
        z[Z_ORDINARY_ATTACKS] += 1
    if mass:
        w.z[C_MASS] += 1
    w.z[C_ATTACKS] += 1
    _kill(w, K_TTP, deaths, False)
    _emit(w, E_MASS if mass else E_ATTACK)
    if w.z[M_STRIKES]:
        p = par[P_STRIKE_AT_RUNG + z[Z_RUNG]]
        if mass:
            severity = max(deaths, 1) / par[P_MASS_MIN]
            p *= par[P_STRIKE_MASS_MULT] * severity ** par[P_STRIKE_ELASTICITY]
        if z[Z_CEASEFIRE]:
            p *= par[P_CF_STRIKE]
        if _uniform(w, S_RESPONSE) < p:
            _schedule(w, x[X_NOW] + _exponential(w, S_RESPONSE, par[P_STRIKE_DELAY]), PK_STRIKE, 0, 0)


@njit(cache=True, forceinline=True)
def _strike(w):
    """BorderConflict.strike: deaths, decapitation, the ceasefire violation, perhaps retaliation."""
    x, z, par = w.x, w.z, w.par
    decapitation = _uniform(w, S_RESPONSE) < par[P_P_DECAPITATION]
    civilian_harm = _uniform(w, S_RESPONSE) < par[P_P_CIVILIAN_HARM]
    w.z[C_STRIKES] += 1
    _kill(w, K_MILITANTS, _poisson(w, S_RESPONSE, par[P_STRIKE_MILITANTS]), True)
    if civilian_harm:
        w.z[C_CIVILIAN_HARM] += 1
        _kill(w, K_CIVILIANS, _poisson(w, S_RESPONSE, par[P_STRIKE_CIVILIANS]), True)
    if decapitation:
        w.z[C_DECAPITATION] += 1
        _first(w, F_DECAPITATION)
    _note_violence(w)
    _emit(w, E_STRIKE)
    _violation_may_collapse_ceasefire(w)
    if w.z[M_RETALIATION]:
        p = par[P_P_RETALIATION] * par[P_RET_FACTIONAL]
        if civilian_harm:
            p *= par[P_RET_CIVILIAN_MULT]
        if decapitation:
            p *= par[P_RET_DECAPITATION_MULT]
        if z[Z_CEASEFIRE]:
            p *= par[P_CF_CLASH]
        if _uniform(w, S_RESPONSE) < p:
            delay = _exponential(w, S_RESPONSE, par[P_RET_DELAY])
            _schedule(w, x[X_NOW] + delay, PK_RETALIATION, 1 if decapitation else 0, 0)


@njit(cache=True, forceinline=True)
def _clash(w, kind, major):
    """BorderConflict.clash (kind E_CLASH or E_RETALIATION): deaths, seizure, closures, violation."""
    z, par = w.z, w.par
    w.z[C_CLASHES] += 1
    _first(w, F_CLASH)
    if major:  # numpy's uniform(low, high) = low + (high - low) u; rounded half to even like round()
        lo, hi = par[P_MAJOR_PAK_LOW], par[P_MAJOR_PAK_HIGH]
        pak = int(np.rint(lo + (hi - lo) * _uniform(w, S_CLASHES)))
        lo, hi = par[P_MAJOR_AFGHAN_LOW], par[P_MAJOR_AFGHAN_HIGH]
        afghan = int(np.rint(lo + (hi - lo) * _uniform(w, S_CLASHES)))
    else:
        pak = _poisson(w, S_CLASHES, par[P_CLASH_PAK])
        afghan = _poisson(w, S_CLASHES, par[P_CLASH_AFGHAN])
    _kill(w, K_PAK, pak, True)
    _kill(w, K_AFGHAN, afghan, True)
    _kill(w, K_CIVILIANS, _poisson(w, S_CLASHES, par[P_CLASH_CIVILIANS]), True)
    _note_violence(w)
    _emit(w, kind)
    if w.z[M_SEIZURES] and _uniform(w, S_CLASHES) < par[P_P_SEIZURE]:
        w.z[C_SEIZURES] += 1
        _emit(w, E_SEIZURE)
    if w.z[M_CROSSINGS]:
        for crossing in range(N_CROSSINGS):
            if z[Z_CROSSING_STATE + crossing] != CLOSED and _uniform(w, S_CROSSINGS) < par[P_P_CLOSURE]:
                _close_crossing(w, crossing)
    _violation_may_collapse_ceasefire(w)


@njit(cache=True, forceinline=True)
def _close_crossing(w, crossing):
    """BorderConflict.close_crossing, and the first timeout of reopen()."""
    x, z = w.x, w.z
    if z[Z_CROSSING_STATE + crossing] == OPEN:
        x[X_SHUT_SINCE + crossing] = x[X_NOW]
    z[Z_CROSSING_STATE + crossing] = CLOSED
    z[Z_GENERATION + crossing] += 1
    w.z[C_CLOSURES] += 1
    _emit(w, E_CLOSURE)
    delay = _exponential(w, S_CROSSINGS, w.par[P_TO_PARTIAL])
    _schedule(w, x[X_NOW] + delay, PK_PARTIAL, crossing, z[Z_GENERATION + crossing])


@njit(cache=True, forceinline=True)
def _account_trade_closure(w, crossing, at_horizon):
    """BorderConflict.account_trade_closure, and the days the crossing was shut to trade marked
    in its crossings_closed_daily bit: days whose end falls in [shut, reopened), as records.daily_rungs
    reads a path; still shut at the horizon, every day from the shutting on."""
    x = w.x
    since = x[X_SHUT_SINCE + crossing]
    if not math.isnan(since):
        days = x[X_NOW] - since
        x[X_DAYS_CLOSED + crossing] += days
        x[X_TRADE_LOSS] += days * w.par[P_TRADE_LOSS + crossing]
        x[X_SHUT_SINCE + crossing] = np.nan
        n_days = w.z[Z_N_DAYS]
        until_day = n_days if at_horizon else min(n_days, max(0, int(math.ceil(x[X_NOW])) - 1))
        bit = np.int8(1 << crossing)
        for day in range(max(0, int(math.ceil(since)) - 1), until_day):
            w.shut[day] |= bit


@njit(cache=True, forceinline=True)
def _reopen_stage(w, kind, crossing, generation):
    """BorderConflict.reopen after each timeout: partial reopening, then reopening to trade."""
    x, z = w.x, w.z
    if z[Z_GENERATION + crossing] != generation:
        return  # closed again meanwhile: this reopening is void
    if kind == PK_PARTIAL:
        z[Z_CROSSING_STATE + crossing] = PARTIAL
        _emit(w, E_PARTIAL)
        delay = _exponential(w, S_CROSSINGS, w.par[P_TO_TRADE])
        _schedule(w, x[X_NOW] + delay, PK_TRADE, crossing, generation)
    else:
        z[Z_CROSSING_STATE + crossing] = OPEN
        _account_trade_closure(w, crossing, False)
        _emit(w, E_TRADE)


@njit(cache=True, forceinline=True)
def _weight_sums(w):
    """Sum of BorderConflict.mediator_weights() (China's grows with its stake) and of the base weights."""
    par = w.par
    now_sum, base_sum = 0.0, 0.0
    for m in range(N_MEDIATORS):
        weight = par[P_WEIGHT + m]
        base_sum += weight
        if m == MED_CHINA:
            weight *= 1.0 + par[P_CHINA_STAKE] * w.z[Z_CHINESE_ATTACKS]
        now_sum += weight
    return now_sum, base_sum


@njit(cache=True, forceinline=True)
def _mediation_offer(w, given):
    """BorderConflict.mediation_offer: pick the mediator (unless ``given`` >= 0: talks under way),
    emit, perhaps a ceasefire."""
    par = w.par
    mediator = given
    if given < 0:
        total, _ = _weight_sums(w)
        u = _uniform(w, S_DIPLOMACY) * total
        cumulative = 0.0
        mediator = N_MEDIATORS - 1
        for m in range(N_MEDIATORS):
            weight = par[P_WEIGHT + m]
            if m == MED_CHINA:
                weight *= 1.0 + par[P_CHINA_STAKE] * w.z[Z_CHINESE_ATTACKS]
            cumulative += weight
            if u < cumulative:
                mediator = m
                break
    w.z[C_OFFERS] += 1
    if mediator == MED_CHINA:
        _first(w, F_CHINA_OFFER)
    _emit(w, E_OFFER)
    success = par[P_P_MEDIATION] * math.exp(-_recent_deaths(w) / par[P_FATALITY_SCALE])
    if _uniform(w, S_DIPLOMACY) < success:
        _start_ceasefire(w)


@njit(cache=True, forceinline=True)
def _start_ceasefire(w):
    """BorderConflict.start_ceasefire: a new ceasefire, or a renewal of one that holds."""
    x, z = w.x, w.z
    renewed = z[Z_CEASEFIRE] == 1
    if not renewed:
        _close_combat_segment(w)
        z[Z_CEASEFIRE] = 1
        x[X_CF_SINCE] = x[X_NOW]
        w.z[C_CEASEFIRES] += 1
    _emit(w, E_CEASEFIRE)
    if not renewed:
        _notify(w)


@njit(cache=True, forceinline=True)
def _collapse_ceasefire(w):
    """BorderConflict.collapse_ceasefire."""
    x, z = w.x, w.z
    _close_combat_segment(w)
    z[Z_CEASEFIRE] = 0
    x[X_DAYS_CF] += x[X_NOW] - x[X_CF_SINCE]
    w.z[C_COLLAPSES] += 1
    _emit(w, E_COLLAPSE)
    _notify(w)


@njit(cache=True, forceinline=True)
def _violation_may_collapse_ceasefire(w):
    if w.z[Z_CEASEFIRE] and w.z[M_COLLAPSE]:
        if _uniform(w, S_DIPLOMACY) < w.par[P_P_COLLAPSE_VIOLATION]:
            _collapse_ceasefire(w)


@njit(cache=True, forceinline=True)
def _chinese_nationals_attack(w):
    """BorderConflict.chinese_nationals_attack."""
    w.z[Z_CHINESE_ATTACKS] += 1
    w.z[C_CHINESE] += 1
    _emit(w, E_CHINESE)
    _notify(w)


@njit(cache=True, forceinline=True)
def _inject(w, kind, deaths):
    """BorderConflict.inject: a scenario event at its day (deaths -1: none given)."""
    z = w.z
    if kind == I_ATTACK or kind == I_MASS:
        _attack(w, 1 if kind == I_MASS else 0, deaths)
    elif kind == I_STRIKE:
        _strike(w)
    elif kind == I_CLASH:
        _clash(w, E_CLASH, False)
    elif kind == I_CLOSURE:
        for crossing in range(N_CROSSINGS):
            if z[Z_CROSSING_STATE + crossing] != CLOSED:
                _close_crossing(w, crossing)
    elif kind == I_CEASEFIRE:
        _start_ceasefire(w)
    elif kind == I_CHINESE:
        _chinese_nationals_attack(w)
    _notify(w)


@njit(cache=True, forceinline=True)
def _fire_pending(w):
    """The earliest scheduled event: strike_after, retaliation_after, reopen, inject."""
    slot = _pop_pending(w)
    kind, a, b = w.pend_i[4 * slot], w.pend_i[4 * slot + 1], w.pend_i[4 * slot + 2]
    if kind == PK_STRIKE:
        _strike(w)
    elif kind == PK_RETALIATION:  # retaliation_after: a clash, major after a decapitation strike
        w.z[C_RETALIATIONS] += 1
        _clash(w, E_RETALIATION, a == 1)
    elif kind == PK_PARTIAL or kind == PK_TRADE:
        _reopen_stage(w, kind, a, b)
    elif kind == PK_OFFER:  # BorderConflict.offer_under_way: a start state's pending offer
        _mediation_offer(w, a)
    else:
        _inject(w, a, b)


# =============================================================================================
# Hazard clocks: BorderConflict.hazard and ttp_attacks, redrawn where SimPy redraws
# =============================================================================================


@njit(cache=True, forceinline=True)
def _hazard_rate(w, source):
    """The rate per day of a hazard source in the current state (the rate_per_day() callables)."""
    par, z = w.par, w.z
    if source == SRC_CLASH:  # spontaneous_clash_rate
        rate = par[P_CLASHES_PER_YEAR] / 365.0
        return rate * par[P_CF_CLASH] if z[Z_CEASEFIRE] else rate
    if source == SRC_OFFER:  # mediation_rate
        now_sum, base_sum = _weight_sums(w)
        return par[P_OFFERS_PER_YEAR] / 365.0 * par[P_ESCALATION_AT_RUNG + z[Z_RUNG]] * now_sum / base_sum
    if source == SRC_COLLAPSE:  # collapse_rate
        return 1.0 / par[P_CF_DURATION] if z[Z_CEASEFIRE] else 0.0
    if source == SRC_CHINESE:
        return par[P_CHINESE_PER_YEAR] / 365.0
    if z[Z_RUNG] != R_INCURSION:  # involvement_rate
        return 0.0
    if source == SRC_IRAN:
        return par[P_IRAN_PER_YEAR] / 365.0 * par[P_IRAN_POSTURE]
    return par[P_CHINA_PER_YEAR] / 365.0 * (1.0 + par[P_CHINA_STAKE] * z[Z_CHINESE_ATTACKS])


_SOURCE_STREAM = np.array([-1, S_ATTACKS, S_CLASHES, S_DIPLOMACY, S_DIPLOMACY, -1, S_LADDER, S_LADDER, S_LADDER],
                          np.int64)
_SOURCE_MECHANISM = np.array([-1, M_TTP, M_CLASHES, M_MEDIATION, M_COLLAPSE, M_CALM, M_CHINESE, M_REGIONAL,
                              M_REGIONAL], np.int64)


@njit(cache=True, forceinline=True)
def _draw_gaps(w):
    """Refill the pool of standard exponentials that time TTP attacks: drawn ahead in a batch, so
    their logarithms pipeline and the hot loop does not spill its registers around a call to
    log() per attack. Exact: the draws are independent of everything, whenever they are made."""
    x = w.x
    state = _load_stream(w.rng, S_ATTACKS)
    for k in range(GAP_BATCH):
        gap, state = _step_exponential(state)
        x[X_GAPS + k] = gap
    _store_stream(w.rng, S_ATTACKS, state)
    w.z[Z_GAPS_LEFT] = GAP_BATCH
    x[X_DRAWS + D_EXPONENTIAL] += GAP_BATCH


@njit(cache=True, forceinline=True)
def _next_gap(w):
    """A standard exponential from the pool (refilled when empty)."""
    if w.z[Z_GAPS_LEFT] == 0:
        _draw_gaps(w)
    w.z[Z_GAPS_LEFT] -= 1
    return w.x[X_GAPS + w.z[Z_GAPS_LEFT]]


@njit(cache=True, forceinline=True)
def _redraw_attacks(w):
    """ttp_attacks: the next attack at the current intensity (constant until the next attack or
    state change: the birth-death form has no decay between events, so no thinning is needed)."""
    x = w.x
    rate = _attack_rate(w)
    x[X_ATTACK_RATE] = rate
    when = np.inf
    if rate > 0.0:
        when = x[X_NOW] + _next_gap(w) / rate
    _set_clock(w, SRC_ATTACK, when)


@njit(cache=True, forceinline=True)
def _redraw(w, source):
    """BorderConflict.hazard: draw a source's next time afresh at its current rate (inf at zero)."""
    if source == SRC_ATTACK:
        _redraw_attacks(w)
        return
    rate = _hazard_rate(w, source)
    when = w.x[X_NOW] + _exponential(w, _SOURCE_STREAM[source], 1.0 / rate) if rate > 0.0 else np.inf
    _set_clock(w, source, when)


@njit(cache=True, forceinline=True)
def _redraw_all(w):
    """After notify(): every hazard process (and the thinning bound) draws afresh."""
    for source in (SRC_ATTACK, SRC_CLASH, SRC_OFFER, SRC_COLLAPSE, SRC_CHINESE, SRC_IRAN, SRC_CHINA):
        if w.z[_SOURCE_MECHANISM[source]]:
            _redraw(w, source)

