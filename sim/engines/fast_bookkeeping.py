"""The books of one compiled run, as BorderConflict keeps them: notify, emit (with the ladder's
moves), move_to, the fading memory of deaths and the combat flow, kill, the event clocks and the
pending table of scheduled events.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.engines.fast_layout import (FIRST_OF_EMIT, F_INCURSION, F_REGIONAL, LAD_END, LAD_START, LAD_TARGET, M_CALM,
                                     N_EMIT, P_CALM_DAYS, P_CF_CLASH, P_COMBAT_AT_RUNG, P_LADDER, P_MEMORY, R_INCURSION,
                                     R_REGIONAL, SRC_ATTACK, SRC_CALM, SRC_PENDING, ST_MAX_EVENTS, ST_PATH_FULL,
                                     ST_PENDING_FULL, S_LADDER, X_CLOCK, X_COMBAT_EXPOSURE, X_COMBAT_SINCE, X_DAYS_AT,
                                     X_FLOW_SINCE, X_LAST_VIOLENCE, X_NOW, X_PRESSURE, X_PRESSURE_TIME, X_QUIET_FROM,
                                     X_RUNG_SINCE, Z_CEASEFIRE, Z_CLOCKS_CHANGED, Z_EVENTS, Z_MAX_EVENTS, Z_NOTIFY,
                                     Z_PATH_CAPACITY, Z_PATH_POS, Z_PENDING, Z_PENDING_CAPACITY, Z_PENDING_TOP, Z_RUNG,
                                     Z_SEQ, Z_STATUS)
from sim.engines.fast_random import _uniform


@njit(cache=True, forceinline=True)
def _first(w, column):
    """RunTally.first: remember the first day of an event."""
    if math.isnan(w.x[column]):
        w.x[column] = w.x[X_NOW]


@njit(cache=True, forceinline=True)
def _notify(w):
    """BorderConflict.notify: every hazard clock is redrawn once the current event is done."""
    w.z[Z_NOTIFY] = 1


@njit(cache=True, forceinline=True)
def _emit(w, kind):
    """BorderConflict.emit: count the event, note its first day, apply the ladder's moves."""
    z = w.z
    z[Z_EVENTS] += 1
    if z[Z_EVENTS] > z[Z_MAX_EVENTS]:
        z[Z_STATUS] = ST_MAX_EVENTS
        return
    column = FIRST_OF_EMIT[kind]
    if column >= 0:
        _first(w, column)
    key = z[Z_RUNG] * N_EMIT + kind
    begin, end = w.lad[LAD_START + key], w.lad[LAD_END + key]
    if end > begin:
        u = _uniform(w, S_LADDER)
        cumulative = 0.0
        for j in range(begin, end):
            cumulative += w.par[P_LADDER + j]
            if u < cumulative:
                _move_to(w, w.lad[LAD_TARGET + j])
                break


@njit(cache=True, forceinline=True)
def _move_to(w, target):
    """BorderConflict.move_to: close the combat segment, account the rung's days, log the path."""
    x, z = w.x, w.z
    now = x[X_NOW]
    _close_combat_segment(w)
    x[X_DAYS_AT + z[Z_RUNG]] += now - x[X_RUNG_SINCE]
    z[Z_RUNG] = target
    x[X_RUNG_SINCE] = now
    position = z[Z_PATH_POS]
    if position >= z[Z_PATH_CAPACITY]:
        z[Z_STATUS] = ST_PATH_FULL
        return
    w.path[2 * position] = now
    w.path[2 * position + 1] = target
    z[Z_PATH_POS] = position + 1
    if target == R_INCURSION:
        _first(w, F_INCURSION)
    if target == R_REGIONAL:
        _first(w, F_REGIONAL)
    _notify(w)


@njit(cache=True, forceinline=True)
def _combat_rate(w):
    """BorderConflict.combat_rate: deaths per day at the current rung (ceasefire-damped)."""
    rate = w.par[P_COMBAT_AT_RUNG + w.z[Z_RUNG]]  # zero below a ground operation or when switched off
    if w.z[Z_CEASEFIRE]:
        rate *= w.par[P_CF_CLASH]
    return rate


@njit(cache=True, forceinline=True)
def _recent_deaths(w):
    """BorderConflict.recent_deaths: fading memory of interstate deaths plus the combat flow.

    As in BorderConflict, the flow counts from X_FLOW_SINCE: the last time deaths were added or
    a combat segment closed (entering a combat rung closes the segment before, so the flow counts
    from the entry)."""
    x = w.x
    memory = w.par[P_MEMORY]
    now = x[X_NOW]
    remembered = x[X_PRESSURE]
    if now > x[X_PRESSURE_TIME]:  # (no decay to compute for deaths added at this instant)
        remembered *= math.exp(-(now - x[X_PRESSURE_TIME]) / memory)
    flow = _combat_rate(w)
    if flow > 0.0 and now > x[X_FLOW_SINCE]:
        remembered += flow * memory * (1.0 - math.exp(-(now - x[X_FLOW_SINCE]) / memory))
    return remembered


@njit(cache=True, forceinline=True)
def _add_interstate_deaths(w, deaths):
    x = w.x
    x[X_PRESSURE] = _recent_deaths(w) + deaths
    x[X_PRESSURE_TIME] = x[X_NOW]
    x[X_FLOW_SINCE] = x[X_NOW]


@njit(cache=True, forceinline=True)
def _kill(w, category, deaths, interstate):
    w.z[category] += deaths
    if interstate and deaths != 0:
        _add_interstate_deaths(w, deaths)


@njit(cache=True, forceinline=True)
def _close_combat_segment(w):
    """BorderConflict.close_combat_segment: fold the flow into memory; the segment's deaths are
    Poisson(rate x duration), accumulated as exposure and drawn (split by thinning) at the end."""
    x = w.x
    now = x[X_NOW]
    start = x[X_COMBAT_SINCE]
    x[X_COMBAT_SINCE] = now
    rate = _combat_rate(w)
    if rate <= 0.0 or now <= start:
        x[X_FLOW_SINCE] = now  # no flow to fold; a flow starting now counts from now
        return
    x[X_PRESSURE] = _recent_deaths(w)
    x[X_PRESSURE_TIME] = now
    x[X_FLOW_SINCE] = now
    x[X_COMBAT_EXPOSURE] += rate * (now - start)


@njit(cache=True, forceinline=True)
def _set_clock(w, source, when):
    """A source's next time. The loop keeps the earliest of the sources other than TTP attacks
    cached (most events are attacks, which move only their own clock); a change invalidates it."""
    w.x[X_CLOCK + source] = when
    if source != SRC_ATTACK:
        w.z[Z_CLOCKS_CHANGED] = 1


@njit(cache=True, forceinline=True)
def _note_violence(w):
    """A strike or clash: last_violence moves, so the calm watch's deadline moves with it."""
    x = w.x
    x[X_LAST_VIOLENCE] = x[X_NOW]
    if w.z[M_CALM]:
        _set_clock(w, SRC_CALM, max(x[X_LAST_VIOLENCE], x[X_QUIET_FROM]) + w.par[P_CALM_DAYS])


@njit(cache=True, forceinline=True)
def _schedule(w, when, kind, a, b):
    """A timed event (env.process(... timeout ...)) into the pending table."""
    z = w.z
    if z[Z_PENDING] >= z[Z_PENDING_CAPACITY]:
        z[Z_STATUS] = ST_PENDING_FULL
        return
    slot = 0
    while w.pend_t[slot] != np.inf:
        slot += 1
    z[Z_PENDING_TOP] = max(z[Z_PENDING_TOP], slot + 1)  # slots from here on are free
    w.pend_t[slot] = when
    w.pend_i[4 * slot] = kind
    w.pend_i[4 * slot + 1] = a
    w.pend_i[4 * slot + 2] = b
    w.pend_i[4 * slot + 3] = z[Z_SEQ]
    z[Z_SEQ] += 1
    z[Z_PENDING] += 1
    if when < w.x[X_CLOCK + SRC_PENDING]:
        _set_clock(w, SRC_PENDING, when)


@njit(cache=True, forceinline=True)
def _pop_pending(w):
    """Take the earliest pending event (FIFO among equal times); return its slot."""
    best, best_seq = -1, 0
    best_t = next_t = np.inf  # the earliest event and the time of the one after it
    for slot in range(w.z[Z_PENDING_TOP]):  # selects, not branches: the times come in no order
        t = w.pend_t[slot]
        seq = w.pend_i[4 * slot + 3]
        earlier = t < best_t or (t == best_t and t != np.inf and seq < best_seq)  # (inf: a free slot)
        next_t = min(next_t, max(t, best_t))  # the one of the two that is not the earliest
        best = slot if earlier else best
        best_seq = seq if earlier else best_seq
        best_t = t if earlier else best_t
    w.pend_t[best] = np.inf
    w.z[Z_PENDING] -= 1
    if w.z[Z_PENDING] == 0:
        w.z[Z_PENDING_TOP] = 0
    _set_clock(w, SRC_PENDING, next_t)
    return best

