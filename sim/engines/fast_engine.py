"""The compiled engine (``engine=fast``): the SimPy reference model, one chunk of runs per call.

The same model from the same config: every mechanism and switch of :data:`sim.model.MECHANISMS`,
the ladder from ``scenario.transitions``, the derived quantities of
:func:`sim.model.prepare_inputs`, the outcome rule of :func:`sim.model.classify_outcome_codes`
and the record of :func:`sim.records.schema`. Runs are not identical to the SimPy engine's
(another generator); they are equal in law, which ``tests/test_engine_equivalence.py`` checks.

How the SimPy processes become one compiled event loop (``_run``):

* **Hazards** (spontaneous clashes, mediation offers, ceasefire collapse, attacks on Chinese
  nationals, Iran's and China's involvement) are next-event clocks. Where the SimPy engine calls
  ``notify()`` (rung change, ceasefire start or end, attack on Chinese nationals, injected event)
  every clock is redrawn at the new state's rate -- exact by memorylessness, as in SimPy.
* **TTP attacks** are the same Hawkes process in its exact birth-death form instead of SimPy's
  thinning. With an exponential kernel, the excitation is the decay rate times the number of
  pending offspring of past attacks: each attack begets Poisson(branching ratio) offspring, each
  after an Exp(decay) delay (the cluster representation of Hawkes and Oakes), and by
  memorylessness only their count matters; the stationary start is Poisson(initial excitation /
  decay) pending offspring (the excitation at day 0 is the start state's: see :mod:`sim.start`).
  The intensity, background + decay x offspring, is then constant between events: the next
  attack is one exponential clock, redrawn after every attack and state change, and it is an
  offspring's with chance decay x offspring / intensity. Same law (the known answers and the
  equivalence tests check it); thinning would need an exp() per candidate on a serial dependency
  chain, which alone took twice the time of all the run's random variates.
  Runs of attacks with nothing else between them take a hot loop, ``_attack_burst``.
* **Scheduled events** (strike after its delay, retaliation after its delay, a crossing's
  partial and trade reopening with generation counters, injected events) sit in a small pending
  table; the calm watch is a deterministic deadline.
* **Deaths nothing else reads** are drawn in aggregate when the run ends: ordinary attacks'
  deaths (a sum of k Poisson(m) is Poisson(k m)) and combat deaths (Poisson(rate x time) summed
  over segments, split by Poisson thinning -- independent Poissons with rate x share, the same
  joint law as the SimPy engine's binomial split). Mass-casualty tolls are drawn at once (the
  strike chance reads them).

Randomness is keyed by (seed, run index) only: each run seeds six xoshiro256** streams with
splitmix64 from (seed, run index, stream), one per SimPy sub-stream (attacks, response, clashes,
crossings, diplomacy, ladder), so scenarios differing in one mechanism keep the others' draws.

Buffers are fixed-size: when a run overflows its pending table or the chunk's rung-path buffer,
the kernel stops at that run, the wrapper doubles the buffer and resumes from that run (its
streams are re-seeded, so the result is the same as with a larger buffer from the start).

The compiled code, every function ``@njit(cache=True)``: ``fast_layout`` (integer codes, parameter
columns, state slots, the ``World`` of pointers), ``fast_random`` (streams and samplers),
``fast_bookkeeping`` (a run's books: emit, move_to, deaths, clocks, pending table),
``fast_mechanisms`` (the mechanisms and hazard clocks), ``fast_kernel`` (a run, a chunk of runs) and
``fast_cache`` (the stale-cache guard). This module is the Python side: each run's inputs from the
config, the buffers, the Arrow record.

>>> EMIT_KINDS[:2], EMIT_KINDS[-1]
(('attack', 'mass_casualty_attack'), 'mediation_offer')
"""

from __future__ import annotations

import math
import time

import numpy as np
import pyarrow as pa

from sim.columns import strings, to_arrow
from sim.engines.fast_cache import _ensure_fresh_cache
from sim.engines.fast_kernel import _floor_runs, _simulate_runs
from sim.engines.fast_layout import (DRAW_STATS, EMIT_KINDS, N_COUNTS, N_CROSSINGS, N_DRAW_STATS, N_EMIT, N_FATAL,
                                     N_FIRST, N_MEDIATORS, N_PARAMS, N_RUNGS, P_COMBAT_AT_RUNG, P_ESCALATION_AT_RUNG,
                                     P_LADDER, P_MASS_POWERS, P_OFFSPRING0_MEAN, P_OFFSPRING_MEAN, P_OFFSPRING_TABLE,
                                     P_STRIKE_AT_RUNG, P_TRADE_LOSS, P_WEIGHT, N_S0, S0_CEASEFIRE, S0_CROSSING,
                                     S0_MEDIATOR, S0_OFFER_DAY, S0_RUNG, ST_MAX_EVENTS, ST_OK, ST_PATH_FULL,
                                     ST_PENDING_FULL, _COLUMN, _DERIVED, _RAW)
from sim.engines.fast_random import poisson_table
from sim.engines.fast_stats import chunk_counts
from sim.engines.simpy_engine import MaxEventsExceeded
from sim.model import (COMBAT_RATE_PARAMETER_BY_RUNG, CROSSINGS, INITIAL_EVENT_KINDS, MECHANISMS, MEDIATORS,
                       OUTCOME_CLASSES, RUNG_INDEX, RUNGS, classify_outcome_codes, prepare_inputs)
from sim.start import CROSSING_STATES, start_excitation
from sim.records import COUNT_COLUMNS, FATALITY_CATEGORIES, FIRST_EVENTS, PARAM_PREFIX, schema
from sim.stats import ChunkCounts

__all__ = ["EMIT_KINDS", "DRAW_STATS", "simulate_chunk", "simulate_chunk_counted", "warm_up", "variate_counts", "variate_floor"]

# =============================================================================================
# Python side: per-run inputs from the config, outputs to the Arrow record
# =============================================================================================

INITIAL_PENDING_CAPACITY = 32    # pending-table slots per run (doubled, and the run re-run, when full)
INITIAL_PATH_ROWS_PER_RUN = 16   # rung-path rows per run in a chunk's buffer (doubled likewise)


def _inputs(config, start: int, stop: int, sampled) -> dict:
    """Everything the kernel reads for runs start..stop-1, derived with sim.model.prepare_inputs.

    Parameters not sampled stay scalars (broadcast); the matrix has one row per parameter column
    (the kernel gathers each run's column into a contiguous row), one column per run -- or a
    single column shared by every run when nothing is sampled."""
    scenario = config.scenario
    n = stop - start
    values = dict(scenario.point_values())
    for name, column in sampled.items():
        values[name] = np.asarray(column, dtype=float)
    switches = scenario.switches
    inputs = prepare_inputs(values, switches)
    # the ladder: moves grouped by (rung, event), in the scenario's order within a group
    moves = sorted(enumerate(scenario.transitions),
                   key=lambda item: (RUNG_INDEX[item[1].state] * N_EMIT + EMIT_KINDS.index(item[1].event), item[0]))
    keys = np.array([RUNG_INDEX[t.state] * N_EMIT + EMIT_KINDS.index(t.event) for _, t in moves], np.int64)
    every_key = np.arange(N_RUNGS * N_EMIT)
    lad = np.concatenate([np.searchsorted(keys, every_key, side="left"),
                          np.searchsorted(keys, every_key, side="right"),
                          [RUNG_INDEX[t.target] for _, t in moves]]).astype(np.int64)
    # rows[column]: that column for every run -- or one column for all when nothing is sampled
    rows = np.empty((N_PARAMS + len(moves), n if sampled else 1))
    for name in _DERIVED:
        rows[_COLUMN[name]] = getattr(inputs, name)
    for name in _RAW:
        rows[_COLUMN[name]] = values[name]
    rows[P_OFFSPRING_MEAN] = inputs.excitation_jump / inputs.excitation_decay_per_day
    rows[P_OFFSPRING_TABLE:P_OFFSPRING_TABLE + 5] = poisson_table(rows[P_OFFSPRING_MEAN]).T
    state = config.start  # the stationary excitation, or the start state's (sim.start)
    excitation = start_excitation(state, inputs.initial_excitation, inputs.excitation_jump,
                                  inputs.excitation_decay_per_day)
    rows[P_OFFSPRING0_MEAN] = excitation / inputs.excitation_decay_per_day
    start_state = np.zeros(N_S0)
    start_state[S0_RUNG] = state.rung
    start_state[S0_CEASEFIRE] = float(state.ceasefire)
    start_state[S0_OFFER_DAY] = np.inf if state.mediator is None else state.offer_day
    start_state[S0_MEDIATOR] = -1 if state.mediator is None else MEDIATORS.index(state.mediator)
    for c, shut in enumerate(state.crossings):
        start_state[S0_CROSSING + c] = CROSSING_STATES.index(shut)  # OPEN, PARTIAL, CLOSED
    with np.errstate(all="ignore"):  # used only where max > min and alpha != 1 (as in SimPy)
        e = 1.0 - np.asarray(values["mass_casualty_tail_exponent"])
        low_e = values["mass_casualty_min_fatalities"] ** e
        rows[P_MASS_POWERS] = low_e
        rows[P_MASS_POWERS + 1] = values["mass_casualty_max_fatalities"] ** e - low_e
        rows[P_MASS_POWERS + 2] = 1.0 / e
    for rung in range(N_RUNGS):
        rows[P_STRIKE_AT_RUNG + rung] = values["p_strike_after_attack"] * values["strike_multiplier_per_rung"] ** rung
        rows[P_ESCALATION_AT_RUNG + rung] = np.asarray(values["mediation_multiplier_per_rung"]) ** (rung - 1.0)
        key = COMBAT_RATE_PARAMETER_BY_RUNG.get(rung)
        on = key is not None and switches["combat_fatalities"]
        rows[P_COMBAT_AT_RUNG + rung] = values[key] if on else 0.0
    for c, crossing in enumerate(CROSSINGS):
        rows[P_TRADE_LOSS + c] = values[f"trade_loss_usd_per_day_{crossing}"]
    for m in range(N_MEDIATORS):
        rows[P_WEIGHT + m] = inputs.mediator_weights[m]
    for j, (_, t) in enumerate(moves):
        rows[P_LADDER + j] = values[t.parameter]
    events = scenario.initial_events
    return dict(
        params=rows,
        on=np.array([switches[name] for name in MECHANISMS], dtype=np.int64),
        lad=lad,
        start_state=start_state,
        ie_kind=np.array([INITIAL_EVENT_KINDS.index(e.kind) for e in events], np.int64),
        ie_day=np.array([e.day for e in events], dtype=float),
        # inject(): deaths=None if deaths is None else int(round(deaths)) -- round half to even
        ie_deaths=np.array([-1 if e.deaths is None else int(round(e.deaths)) for e in events], np.int64),
    )


def _simulate_arrays(config, start: int, stop: int, sampled) -> dict:
    """Run the kernel over the chunk, growing buffers on overflow; return the output arrays."""
    _ensure_fresh_cache()
    n = stop - start
    given = _inputs(config, start, stop, sampled)
    n_days = int(math.ceil(config.horizon_days))
    out = dict(
        counts=np.zeros((n, N_COUNTS), np.int64), fatal=np.zeros((n, N_FATAL), np.int64),
        first=np.full((n, N_FIRST), np.nan), days_at=np.zeros((n, N_RUNGS)), draws=np.zeros((n, N_DRAW_STATS)),
        days_closed=np.zeros((n, N_CROSSINGS)), trade_loss=np.zeros(n), days_cf=np.zeros(n),
        final_rung=np.zeros(n, np.int8), max_rung=np.zeros(n, np.int8),
        ceasefire_at=np.zeros(n, np.bool_), open_at=np.zeros(n, np.bool_),
        rung_changes=np.zeros((n_days + 1, N_RUNGS), np.int64),
    )
    # both per-day arrays in one block: at 4 MiB and more numpy asks the kernel for huge pages
    # (madvise), so the block's first touch takes a few page faults instead of thousands
    out["daily"], out["closed_daily"] = np.zeros((2, n, n_days), np.int8)
    path = np.empty((max(1, INITIAL_PATH_ROWS_PER_RUN * n), 2))
    path_offsets = np.zeros(n + 1, np.int64)
    pending_capacity = INITIAL_PENDING_CAPACITY
    begin = 0
    while True:
        status, at = _simulate_runs(
            begin, start, config.seed, float(config.horizon_days), config.max_events_per_run,
            given["params"], given["on"], given["lad"], given["ie_kind"], given["ie_day"], given["ie_deaths"],
            given["start_state"], pending_capacity, out["counts"], out["fatal"], out["first"], out["days_at"],
            out["draws"],
            out["days_closed"], out["trade_loss"], out["days_cf"], out["final_rung"], out["max_rung"],
            out["ceasefire_at"], out["open_at"], path, path_offsets, out["daily"], out["closed_daily"],
            out["rung_changes"])
        if status == ST_OK:
            break
        if status == ST_MAX_EVENTS:
            raise MaxEventsExceeded(
                f"run {start + at} (seed {config.seed}): more than {config.max_events_per_run} events in one run "
                "(max_events_per_run)")
        if status == ST_PENDING_FULL:
            pending_capacity *= 2
        elif status == ST_PATH_FULL:
            path = np.concatenate([path, np.empty_like(path)])
        begin = at  # re-run that run from its first draw with the larger buffer
    used = int(path_offsets[-1])
    out["path_days"], out["path_rungs"], out["path_offsets"] = path[:used, 0], path[:used, 1], path_offsets
    return out


def _list_column(offsets: np.ndarray, values: np.ndarray, value_type: pa.DataType) -> pa.Array:
    return pa.ListArray.from_arrays(to_arrow(offsets.astype(np.int32)), to_arrow(values)).cast(pa.list_(value_type))


def simulate_chunk(config, start: int, stop: int, sampled) -> pa.Table:
    """Simulate runs start..stop-1 of ``config`` and return their records as one Arrow table.

    ``sampled`` maps uncertain parameter names to per-run values for those runs (empty when
    ``uncertainty=fixed``); other parameters take the scenario's point values. The table has
    exactly :func:`sim.records.rows_to_table`'s schema, ``param.<name>`` columns included.
    """
    return simulate_chunk_counted(config, start, stop, sampled)[0]


def simulate_chunk_counted(config, start: int, stop: int, sampled) -> tuple[pa.Table, ChunkCounts]:
    """:func:`simulate_chunk`, and the integer parts of the chunk's statistics counted from the
    engine's arrays (:func:`sim.engines.fast_stats.chunk_counts`) for ``BatchStats.from_table``."""
    out = _simulate_arrays(config, start, stop, sampled)
    n = stop - start
    base = schema()
    codes = classify_outcome_codes(out["max_rung"], out["ceasefire_at"], out["open_at"])
    outcome = pa.DictionaryArray.from_arrays(to_arrow(codes, pa.int8()), strings(OUTCOME_CLASSES))
    columns = {
        "run_index": to_arrow(np.arange(start, stop, dtype=np.int64)),
        "outcome": outcome.cast(pa.string()),
        "max_rung": to_arrow(out["max_rung"]),
        "final_rung": to_arrow(out["final_rung"]),
        "ceasefire_at_horizon": to_arrow(out["ceasefire_at"]),
        "crossings_open_at_horizon": to_arrow(out["open_at"]),
    }
    for k, category in enumerate(FATALITY_CATEGORIES):
        columns[f"fatalities_{category}"] = to_arrow(out["fatal"][:, k])
    columns["fatalities_total"] = to_arrow(out["fatal"].sum(axis=1))
    for k, name in enumerate(COUNT_COLUMNS):
        columns[name] = to_arrow(out["counts"][:, k])
    for k, kind in enumerate(FIRST_EVENTS):
        columns[f"first_{kind}_day"] = to_arrow(out["first"][:, k])
    for c, crossing in enumerate(CROSSINGS):
        columns[f"days_closed_{crossing}"] = to_arrow(out["days_closed"][:, c])
    columns["trade_loss_usd"] = to_arrow(out["trade_loss"])
    columns["days_under_ceasefire"] = to_arrow(out["days_cf"])
    for r, rung in enumerate(RUNGS):
        columns[f"days_at_{rung}"] = to_arrow(out["days_at"][:, r])
    offsets = out["path_offsets"]
    columns["rung_path"] = _list_column(offsets, out["path_rungs"].astype(np.int8), pa.int8())
    columns["rung_path_days"] = _list_column(offsets, out["path_days"].astype(np.float32), pa.float32())
    n_days = out["daily"].shape[1]
    day_offsets = np.arange(n + 1, dtype=np.int64) * n_days
    columns["rung_daily"] = _list_column(day_offsets, out["daily"].reshape(-1), pa.int8())
    columns["crossings_closed_daily"] = _list_column(day_offsets, out["closed_daily"].reshape(-1), pa.int8())
    arrays = [columns[field.name].cast(field.type) for field in base]
    table = pa.Table.from_arrays(arrays, schema=base)
    for name, values in sorted(sampled.items()):
        table = table.append_column(pa.field(PARAM_PREFIX + name, pa.float64()),
                                    to_arrow(np.asarray(values, dtype=float)))
    return table, chunk_counts(out, codes)


def warm_up() -> float:
    """Compile (or load from numba's cache) every kernel; return the seconds it took.

    Call it once in a parent process before spawning workers so they load the cache instead
    of compiling in parallel.
    """
    from sim.config import compose_run_config

    started = time.perf_counter()
    config = compose_run_config(["n_runs=2", "horizon_days=30", "uncertainty=fixed", "engine=fast"])
    out = _simulate_arrays(config, 0, 2, {})
    _floor_runs(0, 0, out["draws"], np.zeros(1))
    return time.perf_counter() - started


def variate_counts(config, start: int, stop: int, sampled=None) -> np.ndarray:
    """The random variates each run of runs start..stop-1 draws, one row per run, columns
    :data:`DRAW_STATS` (counts per kind and the sums of the Poisson means)."""
    return _simulate_arrays(config, start, stop, sampled or {})["draws"]


def variate_floor(config, start: int, draws: np.ndarray) -> float:
    """Seconds a compiled loop takes to seed each run's six streams and draw exactly the
    variates in ``draws`` (from :func:`variate_counts`) -- and nothing else: the floor under
    the engine's cost."""
    started = time.perf_counter()
    _floor_runs(start, config.seed, draws, np.zeros(1))
    return time.perf_counter() - started
