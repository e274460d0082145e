"""The compiled kernels the Python side calls: one run (``_reset``, then the event loop ``_run``
with its hot loop of TTP attacks, ``_attack_burst``), a chunk of runs into preallocated outputs
(``_simulate_runs``), and the benchmark's floor of random variates (``_floor_runs``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.engines.fast_bookkeeping import _close_combat_segment, _emit, _schedule, _set_clock
from sim.engines.fast_layout import (C_ATTACKS, D_EXPONENTIAL, D_POISSON_LARGE, D_POISSON_LARGE_SUM,
                                     D_POISSON_OFFSPRING, D_POISSON_OFFSPRING_SUM, D_POISSON_SMALL, D_POISSON_SMALL_SUM,
                                     D_POWER_LAW, D_POWER_LAW_EXPONENT_SUM, D_UNIFORM, E_ATTACK, E_CALM, E_CHINA,
                                     E_CLASH, E_IRAN, FIRST_OF_EMIT, GAP_BATCH,
                                     K_AFGHAN, K_CIVILIANS, K_PAK, K_TTP, LAD_END, LAD_START, M_CALM, M_MASS, M_STRIKES,
                                     M_TTP, N_COUNTS, N_CROSSINGS, N_DRAW_STATS, N_EMIT, N_FATAL, N_FIRST, N_RUNGS,
                                     N_SOURCES, N_STREAMS, N_X, N_Z, OPEN, PK_INJECT, PK_OFFER, PK_PARTIAL, PK_TRADE,
                                     S0_CEASEFIRE, S0_CROSSING, S0_MEDIATOR, S0_OFFER_DAY, S0_RUNG, S_CROSSINGS,
                                     P_TO_PARTIAL, P_TO_TRADE, CLOSED, Z_GENERATION, PK_STRIKE, P_BACKGROUND,
                                     P_CALM_DAYS, P_CF_ATTACK, P_CF_STRIKE, P_DECAY, P_OFFSPRING0_MEAN,
                                     P_OFFSPRING_MEAN, P_OFFSPRING_TABLE, P_ORDINARY_MEAN, P_P_MASS, P_SHARE_CIVILIANS,
                                     P_SHARE_PAK, P_STRIKE_AT_RUNG, P_STRIKE_DELAY, SRC_ATTACK, SRC_CALM, SRC_CHINESE,
                                     SRC_CLASH, SRC_COLLAPSE, SRC_IRAN, SRC_OFFER, SRC_PENDING, ST_OK, ST_PATH_FULL,
                                     S_ATTACKS, S_CLASHES, S_LADDER, S_RESPONSE, X_ATTACK_RATE, X_CF_SINCE, X_CLOCK,
                                     X_COMBAT_EXPOSURE, X_DAYS_AT, X_DAYS_CF, X_DAYS_CLOSED, X_DRAWS, X_FIRST, X_GAPS,
                                     X_LAST_VIOLENCE, X_NEXT_OTHER, X_NOW, X_QUIET_FROM, X_RUNG_SINCE, X_SHUT_SINCE,
                                     X_TRADE_LOSS, Z_CEASEFIRE, Z_CLOCKS_CHANGED, Z_COUNTS, Z_CROSSING_STATE, Z_EVENTS,
                                     Z_FATAL, Z_GAPS_LEFT, Z_MAX_EVENTS, Z_NEXT_OTHER_SOURCE, Z_NOTIFY, Z_N_DAYS,
                                     Z_OFFSPRING, Z_ON, Z_ORDINARY_ATTACKS, Z_PATH_CAPACITY, Z_PATH_POS,
                                     Z_PENDING_CAPACITY, Z_RUNG, Z_STATUS, World, _pointer)
from sim.engines.fast_mechanisms import (_account_trade_closure, _attack, _attack_consequences,
                                         _chinese_nationals_attack, _clash, _collapse_ceasefire, _draw_gaps,
                                         _fire_pending, _mediation_offer, _redraw, _redraw_all)
from sim.engines.fast_random import (_exponential, _fill_poisson_table, _load_stream, _poisson, _poisson_inversion,
                                     _poisson_ptrs, _poisson_tabled, _poisson_tabled_at, _raw_exponential, _raw_uniform,
                                     _seed_streams, _step_uniform, _store_stream, _uniform)


@njit(cache=True)
def _reset(w, seed, run_index, max_events, on, ie_kind, ie_day, ie_deaths, start_state, pending_capacity,
           path_start, path_capacity):
    """BorderConflict.__init__ and start(): the state at day 0 (``start_state``: the S0_* slots of
    sim.start.StartState), the processes' first draws."""
    x, z, par = w.x, w.z, w.par
    for slot in range(N_X):
        x[slot] = 0.0
    for slot in range(N_Z):
        z[slot] = 0
    for slot in range(pending_capacity):
        w.pend_t[slot] = np.inf
    z[Z_PENDING_CAPACITY] = pending_capacity
    z[Z_PATH_CAPACITY] = path_capacity
    for mechanism in range(on.shape[0]):
        z[Z_ON + mechanism] = on[mechanism]
    _seed_streams(w.rng, seed, run_index)
    if z[M_TTP]:  # start in the stationary regime: the initial excitation's offspring, pending
        z[Z_OFFSPRING] = _poisson(w, S_ATTACKS, par[P_OFFSPRING0_MEAN])
    z[Z_RUNG] = int(start_state[S0_RUNG])
    z[Z_CEASEFIRE] = int(start_state[S0_CEASEFIRE])  # in force since day 0 for the books (X_CF_SINCE = 0)
    for crossing in range(N_CROSSINGS):
        x[X_SHUT_SINCE + crossing] = np.nan
        state = int(start_state[S0_CROSSING + crossing])
        if state != OPEN:  # shut before day 0: closed once, shut to trade from day 0
            z[Z_CROSSING_STATE + crossing] = state
            z[Z_GENERATION + crossing] = 1
            x[X_SHUT_SINCE + crossing] = 0.0
    for kind in range(N_FIRST):
        x[X_FIRST + kind] = np.nan
    for source in range(N_SOURCES):
        _set_clock(w, source, np.inf)
    z[Z_MAX_EVENTS] = max_events
    if path_start >= path_capacity:
        z[Z_STATUS] = ST_PATH_FULL
        return
    w.path[2 * path_start] = 0.0  # RunTally.path_times / path_rungs start at (0, start rung)
    w.path[2 * path_start + 1] = z[Z_RUNG]
    z[Z_PATH_POS] = path_start + 1
    for j in range(ie_kind.shape[0]):  # inject processes, in the scenario's (day-sorted) order
        _schedule(w, ie_day[j], PK_INJECT, ie_kind[j], ie_deaths[j])
    for crossing in range(N_CROSSINGS):  # reopen() of a crossing shut at the start: its current stage
        state = z[Z_CROSSING_STATE + crossing]
        if state == CLOSED:
            _schedule(w, _exponential(w, S_CROSSINGS, par[P_TO_PARTIAL]), PK_PARTIAL, crossing, 1)
        elif state != OPEN:
            _schedule(w, _exponential(w, S_CROSSINGS, par[P_TO_TRADE]), PK_TRADE, crossing, 1)
    if start_state[S0_OFFER_DAY] < np.inf:  # offer_under_way
        _schedule(w, start_state[S0_OFFER_DAY], PK_OFFER, int(start_state[S0_MEDIATOR]), 0)
    _redraw_all(w)
    if w.z[M_CALM]:
        _set_clock(w, SRC_CALM, par[P_CALM_DAYS])


@njit(cache=True, forceinline=True)
def _plain_attacks(w):
    """Whether an ordinary attack at this rung only counts (no ladder move, no first day): then
    runs of attacks can take the hot loop, _attack_burst."""
    key = w.z[Z_RUNG] * N_EMIT + E_ATTACK
    return FIRST_OF_EMIT[E_ATTACK] < 0 and w.lad[LAD_END + key] == w.lad[LAD_START + key]


@njit(cache=True)
def _attack_burst(w, until):
    """TTP attacks back to back while the attack clock comes before ``until`` (the earliest other
    event or the horizon): the hot loop, some 95 % of all events.

    Exactly what _run's attack branch, _attack and _redraw_attacks do for an ordinary attack --
    offspring's or background, its offspring drawn, mass-casualty decided, counted, strike
    response drawn, the next attack drawn -- with the attack process in local variables. Between
    such attacks nothing else changes (only the attack rate, by the attacks themselves). The
    first attack that needs more (mass casualties, a strike to schedule, the event limit) is
    finished by the general helpers and ends the burst. Returns True when the caller must then
    draw the next attack (as after any other event), False when it is drawn."""
    x, z, par, rng = w.x, w.z, w.par, w.rng
    attack_stream = _load_stream(rng, S_ATTACKS)  # both streams in registers for the loop
    response_stream = _load_stream(rng, S_RESPONSE)
    gaps_left = z[Z_GAPS_LEFT]
    t = x[X_CLOCK + SRC_ATTACK]
    rate = x[X_ATTACK_RATE]
    offspring = z[Z_OFFSPRING]
    decay = par[P_DECAY]
    background = par[P_BACKGROUND] * (par[P_CF_ATTACK] if z[Z_CEASEFIRE] else 1.0)
    p_mass = par[P_P_MASS] if z[M_MASS] else -1.0  # -1: no draw (switched off)
    p_strike = par[P_STRIKE_AT_RUNG + z[Z_RUNG]] * (par[P_CF_STRIKE] if z[Z_CEASEFIRE] else 1.0)
    if not z[M_STRIKES]:
        p_strike = -1.0
    room = z[Z_MAX_EVENTS] - z[Z_EVENTS]  # attacks allowed before the event limit
    attacks = uniforms = 0
    ending = 0  # 0: reached `until`; 1: this attack needs the general path; 2: a strike to schedule
    mass = False
    now = x[X_NOW]
    while t < until:
        now = t
        if gaps_left == 0:  # the pool of gaps for the next attacks
            _store_stream(rng, S_ATTACKS, attack_stream)
            _draw_gaps(w)
            attack_stream = _load_stream(rng, S_ATTACKS)
            gaps_left = GAP_BATCH
        gaps_left -= 1
        gap = x[X_GAPS + gaps_left]
        # an offspring's attack with chance decay x offspring / rate (else a background one)
        u, attack_stream = _step_uniform(attack_stream)
        offspring -= int(u * rate < decay * offspring)
        u, attack_stream = _step_uniform(attack_stream)
        offspring += _poisson_tabled_at(u, par[P_OFFSPRING_MEAN], par, P_OFFSPRING_TABLE)
        uniforms += 1
        if p_mass >= 0.0:
            uniforms += 1
            u, attack_stream = _step_uniform(attack_stream)
            mass = u < p_mass
        rate = background + decay * offspring  # for _redraw_attacks below
        if mass or attacks >= room:
            ending = 1
            break
        attacks += 1  # an ordinary attack: counted, its emit("attack") only counted
        if p_strike >= 0.0:
            uniforms += 1
            u, response_stream = _step_uniform(response_stream)
            if u < p_strike:
                ending = 2
                break
        t += gap / rate  # _redraw_attacks
    z[Z_GAPS_LEFT] = gaps_left + int(ending != 0)  # a gap taken and not used goes back
    _store_stream(rng, S_ATTACKS, attack_stream)
    _store_stream(rng, S_RESPONSE, response_stream)
    x[X_NOW] = now
    offspring_draws = attacks + int(ending == 1)
    x[X_DRAWS + D_UNIFORM] += uniforms
    x[X_DRAWS + D_POISSON_OFFSPRING] += offspring_draws
    x[X_DRAWS + D_POISSON_OFFSPRING_SUM] += offspring_draws * par[P_OFFSPRING_MEAN]
    z[Z_OFFSPRING] = offspring
    z[Z_ORDINARY_ATTACKS] += attacks
    z[C_ATTACKS] += attacks
    z[Z_EVENTS] += attacks
    if ending == 0:
        x[X_ATTACK_RATE] = rate
        _set_clock(w, SRC_ATTACK, t)
        return False
    if ending == 1:
        _attack_consequences(w, mass, -1)
    else:
        _schedule(w, now + _exponential(w, S_RESPONSE, par[P_STRIKE_DELAY]), PK_STRIKE, 0, 0)
    return True


@njit(cache=True)
def _run(w, horizon):
    """env.run(until=horizon): take the earliest clock until the horizon; then finish()."""
    x, z, par = w.x, w.z, w.par
    while z[Z_STATUS] == ST_OK:
        if z[Z_CLOCKS_CHANGED]:  # the earliest source other than attacks (lowest index at ties)
            z[Z_CLOCKS_CHANGED] = 0
            best_t, best_k = x[X_CLOCK + SRC_PENDING], SRC_PENDING
            for k in range(SRC_ATTACK + 1, N_SOURCES):  # in locals, so selects, not branches:
                clock = x[X_CLOCK + k]                   # the clocks come in no order
                earlier = clock < best_t
                best_t = clock if earlier else best_t
                best_k = k if earlier else best_k
            x[X_NEXT_OTHER] = best_t
            z[Z_NEXT_OTHER_SOURCE] = best_k
        source, t = z[Z_NEXT_OTHER_SOURCE], x[X_NEXT_OTHER]
        if x[X_CLOCK + SRC_ATTACK] < t:
            source, t = SRC_ATTACK, x[X_CLOCK + SRC_ATTACK]
        if not t < horizon:  # SimPy stops before events at the horizon itself
            break
        x[X_NOW] = t
        redraw = True
        if source == SRC_PENDING:
            _fire_pending(w)
        elif source == SRC_ATTACK:
            if _plain_attacks(w):
                redraw = _attack_burst(w, min(x[X_NEXT_OTHER], horizon))
            else:  # ttp_attacks: an offspring's attack with chance decay x offspring / rate
                offspring = _uniform(w, S_ATTACKS) * x[X_ATTACK_RATE] < par[P_DECAY] * z[Z_OFFSPRING]
                z[Z_OFFSPRING] -= int(offspring)  # an offspring came (else a background attack)
                _attack(w, -1, -1)
        elif source == SRC_CLASH:
            _clash(w, E_CLASH, False)
        elif source == SRC_OFFER:
            _mediation_offer(w, -1)
        elif source == SRC_COLLAPSE:
            _collapse_ceasefire(w)
        elif source == SRC_CALM:  # calm_watch: the deadline passed without strike or clash
            if z[Z_RUNG] > 0:
                _emit(w, E_CALM)
            x[X_QUIET_FROM] = t
            _set_clock(w, SRC_CALM, max(x[X_LAST_VIOLENCE], x[X_QUIET_FROM]) + par[P_CALM_DAYS])
        elif source == SRC_CHINESE:
            _chinese_nationals_attack(w)
        elif source == SRC_IRAN:
            _emit(w, E_IRAN)
        else:
            _emit(w, E_CHINA)
        if z[Z_NOTIFY]:
            z[Z_NOTIFY] = 0
            _redraw_all(w)
        elif source != SRC_PENDING and source != SRC_CALM and redraw:
            _redraw(w, source)  # the hazard's own loop draws its next time
    if z[Z_STATUS] != ST_OK:
        return
    # finish(): close the books at the horizon
    x[X_NOW] = horizon
    _close_combat_segment(w)
    x[X_DAYS_AT + z[Z_RUNG]] += horizon - x[X_RUNG_SINCE]
    if z[Z_CEASEFIRE]:
        x[X_DAYS_CF] += horizon - x[X_CF_SINCE]
    for crossing in range(N_CROSSINGS):
        _account_trade_closure(w, crossing, True)
    # deaths drawn in aggregate (exact: sums of independent Poissons; thinning for the split)
    w.z[K_TTP] += _poisson(w, S_ATTACKS, z[Z_ORDINARY_ATTACKS] * par[P_ORDINARY_MEAN])
    exposure = x[X_COMBAT_EXPOSURE]
    if exposure > 0.0:
        share_pak = par[P_SHARE_PAK]
        rest = 1.0 - share_pak
        civilian_share = min(1.0, par[P_SHARE_CIVILIANS] / rest) if rest > 0.0 else 0.0
        w.z[K_PAK] += _poisson(w, S_LADDER, exposure * share_pak)
        w.z[K_CIVILIANS] += _poisson(w, S_LADDER, exposure * rest * civilian_share)
        w.z[K_AFGHAN] += _poisson(w, S_LADDER, exposure * rest * (1.0 - civilian_share))


@njit(cache=True, nogil=True)
def _simulate_runs(begin, first_run, seed, horizon, max_events, params, on, lad, ie_kind, ie_day, ie_deaths,
                   start_state, pending_capacity, counts, fatal, first, days_at, draws, days_closed, trade_loss, days_cf,
                   final_rung, max_rung, ceasefire_at, open_at, path, path_offsets, daily, closed_daily,
                   rung_changes):
    """Runs begin..n-1 of a chunk into preallocated outputs. Returns (status, run offset reached).

    ``params`` holds one row per parameter column, one column per run (or one for all runs).
    ``rung_changes`` (days + 1 x rungs) gains +1 on the day a run's stay on a rung starts in
    ``daily`` and -1 on the day it ends: its running sum is the runs on each rung each day."""
    n_columns, n = params.shape[0], counts.shape[0]
    per_run = params.shape[1] > 1  # else one column of parameters for every run
    n_days = daily.shape[1]
    x = np.empty(N_X)
    z = np.empty(N_Z, np.int64)
    rng = np.empty(N_STREAMS * 4, np.uint64)
    pend_t = np.empty(pending_capacity)
    pend_i = np.empty(pending_capacity * 4, np.int64)
    par = np.empty(n_columns)
    for i in range(begin, n):
        if per_run or i == begin:
            for column in range(n_columns):  # this run's parameters, contiguous
                par[column] = params[column, i if per_run else 0]
        shut = closed_daily[i]
        shut[:] = 0  # (a run re-run after a buffer grew starts clean)
        w = World(_pointer(x), _pointer(z), _pointer(par), _pointer(rng), _pointer(lad), _pointer(pend_t),
                  _pointer(pend_i), _pointer(path), _pointer(shut))
        path_start = path_offsets[i]
        _reset(w, seed, first_run + i, max_events, on, ie_kind, ie_day, ie_deaths, start_state, pending_capacity,
               path_start, path.shape[0])
        z[Z_N_DAYS] = n_days
        if z[Z_STATUS] == ST_OK:
            _run(w, horizon)
        if z[Z_STATUS] != ST_OK:
            return z[Z_STATUS], i
        # RunTally.to_row
        counts[i, :] = z[Z_COUNTS:Z_COUNTS + N_COUNTS]
        fatal[i, :] = z[Z_FATAL:Z_FATAL + N_FATAL]
        first[i, :] = x[X_FIRST:X_FIRST + N_FIRST]
        days_at[i, :] = x[X_DAYS_AT:X_DAYS_AT + N_RUNGS]
        draws[i, :] = x[X_DRAWS:X_DRAWS + N_DRAW_STATS]
        path_end = z[Z_PATH_POS]
        path_offsets[i + 1] = path_end
        top = 0.0
        for j in range(path_start, path_end):
            top = max(top, path[j, 1])
        max_rung[i] = int(top)
        final_rung[i] = z[Z_RUNG]
        ceasefire_at[i] = z[Z_CEASEFIRE] == 1
        all_open = True
        for crossing in range(N_CROSSINGS):
            days_closed[i, crossing] = x[X_DAYS_CLOSED + crossing]
            all_open = all_open and z[Z_CROSSING_STATE + crossing] == OPEN
        open_at[i] = all_open
        trade_loss[i] = x[X_TRADE_LOSS]
        days_cf[i] = x[X_DAYS_CF]
        # records.daily_rungs: the rung in force at the end of each day 1..ceil(horizon), i.e. of the
        # last path entry at or before the day's end; an entry at day t first counts on day
        # index ceil(t) - 1 (the last day ends at the horizon, after every entry)
        for j in range(path_start, path_end):
            first_day = max(0, int(math.ceil(path[j, 0])) - 1)
            until_day = n_days
            if j + 1 < path_end:
                until_day = max(0, int(math.ceil(path[j + 1, 0])) - 1)
            if first_day < until_day:
                rung = int(path[j, 1])
                daily[i, first_day:until_day] = rung
                rung_changes[first_day, rung] += 1
                rung_changes[until_day, rung] -= 1
    return ST_OK, n


@njit(cache=True)
def _floor_runs(first_run, seed, draws, sink):
    """The benchmark's floor: per run, seed the six streams and draw exactly the variates the
    engine drew (counts per kind; Poisson means and power-law exponents at their per-run average)
    -- and nothing else."""
    state = np.empty(N_STREAMS * 4, np.uint64)
    rng = _pointer(state)
    table = np.empty(5)
    total = 0.0
    for i in range(draws.shape[0]):
        _seed_streams(rng, seed, first_run + i)
        for _ in range(int(draws[i, D_UNIFORM])):
            total += _raw_uniform(rng, S_ATTACKS)
        for _ in range(int(draws[i, D_EXPONENTIAL])):
            total += _raw_exponential(rng, S_RESPONSE)
        n_small = int(draws[i, D_POISSON_SMALL])
        if n_small:
            mean = draws[i, D_POISSON_SMALL_SUM] / n_small
            for _ in range(n_small):
                total += _poisson_inversion(rng, S_CLASHES, mean)
        n_large = int(draws[i, D_POISSON_LARGE])
        if n_large:
            mean = draws[i, D_POISSON_LARGE_SUM] / n_large
            for _ in range(n_large):
                total += _poisson_ptrs(rng, S_LADDER, mean)
        n_offspring = int(draws[i, D_POISSON_OFFSPRING])
        if n_offspring:  # one mean per run, its CDF table precomputed as the engine does
            mean = draws[i, D_POISSON_OFFSPRING_SUM] / n_offspring
            _fill_poisson_table(table, mean)
            for _ in range(n_offspring):
                total += _poisson_tabled(rng, S_ATTACKS, mean, table, 0)
        n_power = int(draws[i, D_POWER_LAW])
        if n_power:  # a uniform through an inverse CDF (a + u b) ** c, at the run's mean exponent
            exponent = draws[i, D_POWER_LAW_EXPONENT_SUM] / n_power
            for _ in range(n_power):
                total += (1.0 + _raw_uniform(rng, S_ATTACKS)) ** exponent
    sink[0] = total

