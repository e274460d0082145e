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
  decay) pending offspring. The intensity, background + decay x offspring, is then constant
  between events: the next attack is one exponential clock, redrawn after every attack and state
  change, and it is an offspring's with chance decay x offspring / intensity. Same law (the known
  answers and the equivalence tests check it); thinning would need an exp() per candidate on a
  serial dependency chain, which alone took twice the time of all the run's random variates.
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

>>> EMIT_KINDS[:2], EMIT_KINDS[-1]
(('attack', 'mass_casualty_attack'), 'mediation_offer')
"""

from __future__ import annotations

import math
import time
import zlib
from collections import namedtuple

import numpy as np
import pyarrow as pa
from numba import njit, types
from numba.extending import intrinsic

from sim.engines.simpy_engine import _COMBAT_RATE_KEYS, MaxEventsExceeded
from sim.model import (CROSSINGS, INITIAL_EVENT_KINDS, LADDER_EVENTS, MECHANISMS, MEDIATORS, OUTCOME_CLASSES,
                       RUNG_INDEX, RUNGS, classify_outcome_codes, prepare_inputs)
from sim.records import COUNT_COLUMNS, FATALITY_CATEGORIES, FIRST_EVENTS, PARAM_PREFIX, schema

__all__ = ["EMIT_KINDS", "DRAW_STATS", "simulate_chunk", "warm_up", "variate_counts", "variate_floor"]

# =============================================================================================
# Vocabulary -> integer codes, all derived from sim.model / sim.records (never a second list)
# =============================================================================================

#: Events the SimPy engine emits besides the ladder's (they count towards max_events_per_run).
_ENGINE_ONLY_EVENTS = ("closure", "partial_reopening", "trade_reopening", "mediation_offer")
#: Every kind ``emit()`` can log; the code of a kind is its index here.
EMIT_KINDS: tuple[str, ...] = LADDER_EVENTS + _ENGINE_ONLY_EVENTS
N_EMIT = len(EMIT_KINDS)
E_ATTACK = EMIT_KINDS.index("attack")
E_MASS = EMIT_KINDS.index("mass_casualty_attack")
E_STRIKE = EMIT_KINDS.index("strike")
E_RETALIATION = EMIT_KINDS.index("retaliation")
E_CLASH = EMIT_KINDS.index("clash")
E_SEIZURE = EMIT_KINDS.index("seizure")
E_CEASEFIRE = EMIT_KINDS.index("ceasefire")
E_COLLAPSE = EMIT_KINDS.index("ceasefire_collapse")
E_CALM = EMIT_KINDS.index("calm")
E_CHINESE = EMIT_KINDS.index("attack_on_chinese_nationals")
E_IRAN = EMIT_KINDS.index("iran_involvement")
E_CHINA = EMIT_KINDS.index("china_involvement")
E_CLOSURE = EMIT_KINDS.index("closure")
E_PARTIAL = EMIT_KINDS.index("partial_reopening")
E_TRADE = EMIT_KINDS.index("trade_reopening")
E_OFFER = EMIT_KINDS.index("mediation_offer")

N_RUNGS = len(RUNGS)
R_INCURSION = RUNG_INDEX["conventional_incursion"]
R_REGIONAL = RUNG_INDEX["regional_war"]
N_CROSSINGS = len(CROSSINGS)
N_MEDIATORS = len(MEDIATORS)
MED_CHINA = MEDIATORS.index("china")

I_ATTACK = INITIAL_EVENT_KINDS.index("attack")
I_MASS = INITIAL_EVENT_KINDS.index("mass_casualty_attack")
I_STRIKE = INITIAL_EVENT_KINDS.index("strike")
I_CLASH = INITIAL_EVENT_KINDS.index("clash")
I_CLOSURE = INITIAL_EVENT_KINDS.index("closure")
I_CEASEFIRE = INITIAL_EVENT_KINDS.index("ceasefire")
I_CHINESE = INITIAL_EVENT_KINDS.index("attack_on_chinese_nationals")

N_FIRST = len(FIRST_EVENTS)

N_COUNTS = len(COUNT_COLUMNS)
N_FATAL = len(FATALITY_CATEGORIES)

# Random sub-streams, as BorderConflict.__init__ spawns them (same order).
S_ATTACKS, S_RESPONSE, S_CLASHES, S_CROSSINGS, S_DIPLOMACY, S_LADDER = range(6)
N_STREAMS = 6

# =============================================================================================
# Per-run parameter matrix: one row per run, named columns (derived first, then raw, then blocks)
# =============================================================================================

_DERIVED = ("attack_background_per_day", "excitation_jump", "excitation_decay_per_day", "initial_excitation",
            "ordinary_attack_fatalities_mean", "mass_casualty_fatalities_mean",
            "retaliation_factional_multiplier")
_RAW = (
    "p_mass_casualty_attack", "mass_casualty_min_fatalities", "mass_casualty_max_fatalities",
    "mass_casualty_tail_exponent", "strike_multiplier_mass_casualty", "strike_severity_elasticity",
    "ceasefire_strike_factor", "strike_delay_days", "ceasefire_attack_factor",
    "p_decapitation_strike", "p_strike_civilian_harm", "strike_militant_deaths_mean",
    "strike_civilian_deaths_mean", "p_retaliation_after_strike", "retaliation_multiplier_civilian_harm",
    "retaliation_multiplier_decapitation", "ceasefire_clash_factor", "retaliation_delay_days",
    "spontaneous_clashes_per_year", "major_clash_pak_military_deaths_low",
    "major_clash_pak_military_deaths_high", "major_clash_afghan_deaths_low", "major_clash_afghan_deaths_high",
    "clash_pak_military_deaths_mean", "clash_afghan_deaths_mean", "clash_civilian_deaths_mean",
    "p_seizure_in_clash", "p_closure_after_clash", "closure_days_to_partial_reopening",
    "partial_days_to_trade_reopening", "mediation_offers_per_year", "p_mediation_success",
    "mediation_fatality_scale", "fatality_memory_days", "china_stake_per_attack",
    "ceasefire_mean_duration_days", "p_collapse_on_violation", "calm_days", "combat_share_pak_military",
    "combat_share_civilians", "chinese_nationals_attacks_per_year", "iran_involvement_per_year_in_incursion",
    "iran_posture_multiplier", "china_involvement_per_year_in_incursion",
)
# Blocks: a value per rung / crossing / mediator, precomputed with the SimPy engine's formula.
_BLOCKS = (
    ("offspring_mean", 1),                 # excitation_jump / excitation_decay_per_day: the branching ratio
    ("offspring_table", 5),                # Poisson(offspring_mean) CDF at 0..3 and probability of 3
    ("mass_casualty_powers", 3),           # min ** e, max ** e - min ** e, 1 / e with e = 1 - alpha
    ("initial_offspring_mean", 1),         # initial_excitation / excitation_decay_per_day
    ("strike_chance_at_rung", N_RUNGS),    # p_strike_after_attack x strike_multiplier_per_rung ** rung
    ("mediation_escalation", N_RUNGS),     # mediation_multiplier_per_rung ** (rung - 1)
    ("combat_rate_at_rung", N_RUNGS),      # combat deaths per day at the rung (0 below, or switched off)
    ("trade_loss_per_day", N_CROSSINGS),   # trade_loss_usd_per_day_<crossing>
    ("mediator_weight", N_MEDIATORS),      # weight_<mediator>
)
_COLUMN: dict[str, int] = {name: index for index, name in enumerate(_DERIVED + _RAW)}
N_PARAMS = len(_COLUMN)
for _name, _width in _BLOCKS:  # a block's name is the column of its first element
    _COLUMN[_name] = N_PARAMS
    N_PARAMS += _width

P_BACKGROUND = _COLUMN["attack_background_per_day"]
P_DECAY = _COLUMN["excitation_decay_per_day"]
P_ORDINARY_MEAN = _COLUMN["ordinary_attack_fatalities_mean"]
P_RET_FACTIONAL = _COLUMN["retaliation_factional_multiplier"]
P_P_MASS = _COLUMN["p_mass_casualty_attack"]
P_MASS_MIN = _COLUMN["mass_casualty_min_fatalities"]
P_MASS_MAX = _COLUMN["mass_casualty_max_fatalities"]
P_MASS_ALPHA = _COLUMN["mass_casualty_tail_exponent"]
P_STRIKE_MASS_MULT = _COLUMN["strike_multiplier_mass_casualty"]
P_STRIKE_ELASTICITY = _COLUMN["strike_severity_elasticity"]
P_CF_STRIKE = _COLUMN["ceasefire_strike_factor"]
P_STRIKE_DELAY = _COLUMN["strike_delay_days"]
P_CF_ATTACK = _COLUMN["ceasefire_attack_factor"]
P_P_DECAPITATION = _COLUMN["p_decapitation_strike"]
P_P_CIVILIAN_HARM = _COLUMN["p_strike_civilian_harm"]
P_STRIKE_MILITANTS = _COLUMN["strike_militant_deaths_mean"]
P_STRIKE_CIVILIANS = _COLUMN["strike_civilian_deaths_mean"]
P_P_RETALIATION = _COLUMN["p_retaliation_after_strike"]
P_RET_CIVILIAN_MULT = _COLUMN["retaliation_multiplier_civilian_harm"]
P_RET_DECAPITATION_MULT = _COLUMN["retaliation_multiplier_decapitation"]
P_CF_CLASH = _COLUMN["ceasefire_clash_factor"]
P_RET_DELAY = _COLUMN["retaliation_delay_days"]
P_CLASHES_PER_YEAR = _COLUMN["spontaneous_clashes_per_year"]
P_MAJOR_PAK_LOW = _COLUMN["major_clash_pak_military_deaths_low"]
P_MAJOR_PAK_HIGH = _COLUMN["major_clash_pak_military_deaths_high"]
P_MAJOR_AFGHAN_LOW = _COLUMN["major_clash_afghan_deaths_low"]
P_MAJOR_AFGHAN_HIGH = _COLUMN["major_clash_afghan_deaths_high"]
P_CLASH_PAK = _COLUMN["clash_pak_military_deaths_mean"]
P_CLASH_AFGHAN = _COLUMN["clash_afghan_deaths_mean"]
P_CLASH_CIVILIANS = _COLUMN["clash_civilian_deaths_mean"]
P_P_SEIZURE = _COLUMN["p_seizure_in_clash"]
P_P_CLOSURE = _COLUMN["p_closure_after_clash"]
P_TO_PARTIAL = _COLUMN["closure_days_to_partial_reopening"]
P_TO_TRADE = _COLUMN["partial_days_to_trade_reopening"]
P_OFFERS_PER_YEAR = _COLUMN["mediation_offers_per_year"]
P_P_MEDIATION = _COLUMN["p_mediation_success"]
P_FATALITY_SCALE = _COLUMN["mediation_fatality_scale"]
P_MEMORY = _COLUMN["fatality_memory_days"]
P_CHINA_STAKE = _COLUMN["china_stake_per_attack"]
P_CF_DURATION = _COLUMN["ceasefire_mean_duration_days"]
P_P_COLLAPSE_VIOLATION = _COLUMN["p_collapse_on_violation"]
P_CALM_DAYS = _COLUMN["calm_days"]
P_SHARE_PAK = _COLUMN["combat_share_pak_military"]
P_SHARE_CIVILIANS = _COLUMN["combat_share_civilians"]
P_CHINESE_PER_YEAR = _COLUMN["chinese_nationals_attacks_per_year"]
P_IRAN_PER_YEAR = _COLUMN["iran_involvement_per_year_in_incursion"]
P_IRAN_POSTURE = _COLUMN["iran_posture_multiplier"]
P_CHINA_PER_YEAR = _COLUMN["china_involvement_per_year_in_incursion"]
P_OFFSPRING_MEAN = _COLUMN["offspring_mean"]
P_OFFSPRING_TABLE = _COLUMN["offspring_table"]
P_OFFSPRING0_MEAN = _COLUMN["initial_offspring_mean"]
P_MASS_POWERS = _COLUMN["mass_casualty_powers"]
P_STRIKE_AT_RUNG = _COLUMN["strike_chance_at_rung"]
P_ESCALATION_AT_RUNG = _COLUMN["mediation_escalation"]
P_COMBAT_AT_RUNG = _COLUMN["combat_rate_at_rung"]
P_TRADE_LOSS = _COLUMN["trade_loss_per_day"]
P_WEIGHT = _COLUMN["mediator_weight"]
P_LADDER = N_PARAMS  # then one column per ladder move (its probability), in the lad index's order

# =============================================================================================
# State of one run: float slots x[], integer slots z[], next-event clocks, the run's tallies
# =============================================================================================

# Event sources of the loop; their next times live in x[X_CLOCK + source]. At equal times the
# lower source wins (injected and scheduled events first, as SimPy started those processes first).
SRC_PENDING, SRC_ATTACK, SRC_CLASH, SRC_OFFER, SRC_COLLAPSE, SRC_CALM, SRC_CHINESE, SRC_IRAN, SRC_CHINA = range(9)
N_SOURCES = 9

# Variate counters (per run): what the benchmark's floor must draw to match the engine
DRAW_STATS = ("uniform", "exponential", "poisson_small", "poisson_small_mean_sum", "poisson_large",
              "poisson_large_mean_sum", "poisson_offspring", "poisson_offspring_mean_sum")
(D_UNIFORM, D_EXPONENTIAL, D_POISSON_SMALL, D_POISSON_SMALL_SUM, D_POISSON_LARGE, D_POISSON_LARGE_SUM,
 D_POISSON_OFFSPRING, D_POISSON_OFFSPRING_SUM) = range(8)
N_DRAW_STATS = 8

(X_NOW, X_RUNG_SINCE, X_CF_SINCE, X_PRESSURE, X_PRESSURE_TIME, X_COMBAT_SINCE, X_FLOW_SINCE, X_LAST_VIOLENCE,
 X_QUIET_FROM, X_DAYS_CF, X_TRADE_LOSS, X_COMBAT_EXPOSURE, X_ATTACK_RATE, X_NEXT_OTHER) = range(14)
GAP_BATCH = 16                               # standard exponentials for TTP attacks, drawn ahead
X_GAPS = 14                                  # the pool of them: x[X_GAPS + k], k < z[Z_GAPS_LEFT]
X_CLOCK = X_GAPS + GAP_BATCH                 # per source: its next time (inf: none)
X_SHUT_SINCE = X_CLOCK + N_SOURCES           # per crossing: day it shut to trade (NaN: open to trade)
X_DAYS_CLOSED = X_SHUT_SINCE + N_CROSSINGS   # per crossing
X_FIRST = X_DAYS_CLOSED + N_CROSSINGS        # per FIRST_EVENTS kind: first day (NaN: not yet)
X_DAYS_AT = X_FIRST + len(FIRST_EVENTS)      # per rung
X_DRAWS = X_DAYS_AT + N_RUNGS                # per DRAW_STATS entry
N_X = X_DRAWS + N_DRAW_STATS

(Z_RUNG, Z_CEASEFIRE, Z_CHINESE_ATTACKS, Z_EVENTS, Z_MAX_EVENTS, Z_NOTIFY, Z_ORDINARY_ATTACKS, Z_STATUS, Z_SEQ,
 Z_PENDING, Z_PENDING_CAPACITY, Z_PATH_POS, Z_PATH_CAPACITY, Z_CLOCKS_CHANGED, Z_NEXT_OTHER_SOURCE,
 Z_OFFSPRING, Z_GAPS_LEFT, Z_PENDING_TOP, Z_N_DAYS) = range(19)
Z_CROSSING_STATE = 19                          # per crossing: OPEN / PARTIAL / CLOSED
Z_GENERATION = Z_CROSSING_STATE + N_CROSSINGS  # per crossing: closures so far (reopen() checks it)
Z_COUNTS = Z_GENERATION + N_CROSSINGS          # per COUNT_COLUMNS entry
Z_FATAL = Z_COUNTS + len(COUNT_COLUMNS)        # per FATALITY_CATEGORIES entry
Z_ON = Z_FATAL + len(FATALITY_CATEGORIES)      # per MECHANISMS entry: 1 when switched on
N_Z = Z_ON + len(MECHANISMS)
OPEN, PARTIAL, CLOSED = 0, 1, 2

# Slots of the tallies (RunTally's dicts), by name
F_DECAPITATION = X_FIRST + FIRST_EVENTS.index("decapitation_strike")
F_CLASH = X_FIRST + FIRST_EVENTS.index("clash")
F_CHINA_OFFER = X_FIRST + FIRST_EVENTS.index("china_mediation_offer")
F_INCURSION = X_FIRST + FIRST_EVENTS.index("incursion")
F_REGIONAL = X_FIRST + FIRST_EVENTS.index("regional_war")
#: the first-day slot an emitted kind fills (-1: none), as RunTally.first(kind) in emit()
FIRST_OF_EMIT = np.array([X_FIRST + FIRST_EVENTS.index(k) if k in FIRST_EVENTS else -1 for k in EMIT_KINDS],
                         np.int64)
C_ATTACKS = Z_COUNTS + COUNT_COLUMNS.index("attacks")
C_MASS = Z_COUNTS + COUNT_COLUMNS.index("mass_casualty_attacks")
C_STRIKES = Z_COUNTS + COUNT_COLUMNS.index("strikes")
C_DECAPITATION = Z_COUNTS + COUNT_COLUMNS.index("decapitation_strikes")
C_CIVILIAN_HARM = Z_COUNTS + COUNT_COLUMNS.index("civilian_harm_strikes")
C_RETALIATIONS = Z_COUNTS + COUNT_COLUMNS.index("retaliations")
C_CLASHES = Z_COUNTS + COUNT_COLUMNS.index("clashes")
C_SEIZURES = Z_COUNTS + COUNT_COLUMNS.index("seizures")
C_CLOSURES = Z_COUNTS + COUNT_COLUMNS.index("closures")
C_OFFERS = Z_COUNTS + COUNT_COLUMNS.index("mediation_offers")
C_CEASEFIRES = Z_COUNTS + COUNT_COLUMNS.index("ceasefires")
C_COLLAPSES = Z_COUNTS + COUNT_COLUMNS.index("ceasefire_collapses")
C_CHINESE = Z_COUNTS + COUNT_COLUMNS.index("attacks_on_chinese_nationals")
K_TTP = Z_FATAL + FATALITY_CATEGORIES.index("ttp_violence")
K_PAK = Z_FATAL + FATALITY_CATEGORIES.index("pak_military")
K_AFGHAN = Z_FATAL + FATALITY_CATEGORIES.index("afghan_forces")
K_CIVILIANS = Z_FATAL + FATALITY_CATEGORIES.index("civilians")
K_MILITANTS = Z_FATAL + FATALITY_CATEGORIES.index("militants_in_strikes")
M_TTP = Z_ON + MECHANISMS.index("ttp_attacks")
M_MASS = Z_ON + MECHANISMS.index("mass_casualty_attacks")
M_STRIKES = Z_ON + MECHANISMS.index("cross_border_strikes")
M_RETALIATION = Z_ON + MECHANISMS.index("retaliation")
M_CLASHES = Z_ON + MECHANISMS.index("spontaneous_clashes")
M_SEIZURES = Z_ON + MECHANISMS.index("seizures")
M_CROSSINGS = Z_ON + MECHANISMS.index("crossings")
M_MEDIATION = Z_ON + MECHANISMS.index("mediation")
M_COLLAPSE = Z_ON + MECHANISMS.index("ceasefire_collapse")
M_CALM = Z_ON + MECHANISMS.index("calm_steps_down")
M_CHINESE = Z_ON + MECHANISMS.index("chinese_nationals_attacks")
M_REGIONAL = Z_ON + MECHANISMS.index("regional_involvement")

# The ladder (one int array per chunk): for key = rung x N_EMIT + event, its moves are
# lad[LAD_TARGET + j] for j in lad[LAD_START + key] .. lad[LAD_END + key] - 1, with probability
# par[P_LADDER + j] (per run: the transition parameters may be sampled).
LAD_START = 0
LAD_END = N_RUNGS * N_EMIT
LAD_TARGET = 2 * N_RUNGS * N_EMIT

# Run status (why the kernel stopped early)
ST_OK, ST_PENDING_FULL, ST_PATH_FULL, ST_MAX_EVENTS = 0, 1, 2, 3

# Pending table: pend_t[slot] (inf = free) and pend_i[slot] = (kind, a, b, sequence)
PK_STRIKE, PK_RETALIATION, PK_PARTIAL, PK_TRADE, PK_INJECT = range(5)

POISSON_INVERSION_BELOW = 10.0  # Poisson means below this: inversion; above: Hoermann's PTRS
INITIAL_PENDING_CAPACITY = 32    # pending-table slots per run (doubled, and the run re-run, when full)
INITIAL_PATH_ROWS_PER_RUN = 16   # rung-path rows per run in a chunk's buffer (doubled likewise)

#: One run's world as the compiled helpers see it: typed pointers into the kernel's arrays,
#: indexed like 1-D arrays. Pointers, not arrays: numba reference-counts every array in a tuple
#: passed to a helper (two calls per array per call, not pruned), which made the engine 20 times
#: slower than its random variates. Capacities of the pending table and the path buffer are in z.
World = namedtuple("World", [
    "x",       # float64[N_X]: float state and the run's float tallies
    "z",       # int64[N_Z]: integer state, counts, fatalities, switches, capacities
    "par",     # float64[n_columns]: this run's parameters (then its ladder probabilities)
    "rng",     # uint64[6 x 4]: the six xoshiro256** streams, stream s at 4 s .. 4 s + 3
    "lad",     # int64: the ladder's (rung, event) -> moves index (LAD_START, LAD_END, LAD_TARGET)
    "pend_t",  # float64[capacity]: pending events' times (inf: free slot)
    "pend_i",  # int64[capacity x 4]: pending events' (kind, a, b, sequence) at 4 slot ..
    "path",    # float64[capacity x 2]: the chunk's rung paths, (entry day, rung) at 2 position ..
    "shut",    # int8[n_days]: this run's crossings_closed_daily row (bit c: crossing c shut to trade)
])


@intrinsic
def _address_as_pointer(typingctx, address, dtype):
    """An integer address as a typed pointer."""
    signature = types.CPointer(dtype.dtype)(address, dtype)

    def codegen(context, builder, sig, args):
        return builder.inttoptr(args[0], context.get_value_type(sig.return_type))

    return signature, codegen


@njit(cache=True)
def _pointer(array):
    """A typed pointer to a C-contiguous array's data. Valid while the array lives: the kernels
    make pointers to their own arguments and locals only and drop them before returning."""
    return _address_as_pointer(array.ctypes.data, array.dtype)


# =============================================================================================
# Random numbers: splitmix64 seeding, xoshiro256**, exact samplers
# =============================================================================================

#: Tiny leaf functions of the random-number generator, inlined by LLVM wherever they are called
#: (a call would spill every floating-point register around it in the hot loop).
_leaf = njit(cache=True, forceinline=True)

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)
_RUN_KEY = _U64(0xD1B54A32D192ED03)
_STREAM_KEY = _U64(0xABC98388FB8FAC03)


@njit(cache=True)
def _mix64(z):
    """splitmix64's finaliser: a bijection of 64-bit words that scrambles every bit."""
    z = (z ^ (z >> _U64(30))) * _U64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> _U64(27))) * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


@njit(cache=True)
def _seed_streams(rng, seed, run_index):
    """Seed the run's six xoshiro256** states from (seed, run index, stream) only."""
    key = _mix64(_mix64(_U64(seed) + _GOLDEN) ^ (_U64(run_index) * _RUN_KEY))
    for stream in range(N_STREAMS):
        state = _mix64(key ^ (_U64(stream + 1) * _STREAM_KEY))
        for j in range(4):  # four successive splitmix64 outputs
            state += _GOLDEN
            rng[4 * stream + j] = _mix64(state)


@_leaf
def _rotl(x, k):
    return (x << _U64(k)) | (x >> _U64(64 - k))


@_leaf
def _step(state):
    """xoshiro256** (Blackman and Vigna): the next 64-bit output and the next state, a tuple of
    four words (kept in registers by the hot loop, in rng[] by everyone else)."""
    s0, s1, s2, s3 = state
    result = _rotl(s1 * _U64(5), 7) * _U64(9)
    t = s1 << _U64(17)
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = _rotl(s3, 45)
    return result, (s0, s1, s2, s3)


@_leaf
def _load_stream(rng, s):
    return rng[4 * s], rng[4 * s + 1], rng[4 * s + 2], rng[4 * s + 3]


@_leaf
def _store_stream(rng, s, state):
    rng[4 * s], rng[4 * s + 1], rng[4 * s + 2], rng[4 * s + 3] = state


@_leaf
def _to_unit(bits):
    """Uniform on [0, 1) from the top 53 bits of a 64-bit word."""
    return float(bits >> _U64(11)) * (1.0 / 9007199254740992.0)


@_leaf
def _step_uniform(state):
    bits, state = _step(state)
    return _to_unit(bits), state


@_leaf
def _step_exponential(state):
    """Standard exponential by inversion; 1 - u is exact for a 53-bit u, so log(1 - u) loses nothing."""
    u, state = _step_uniform(state)
    return -math.log(1.0 - u), state


@_leaf
def _next64(rng, s):
    """The next 64-bit output of stream s."""
    result, state = _step(_load_stream(rng, s))
    _store_stream(rng, s, state)
    return result


@_leaf
def _raw_uniform(rng, s):
    """Uniform on [0, 1) with 53 random bits."""
    return _to_unit(_next64(rng, s))


@_leaf
def _uniform(w, s):
    w.x[X_DRAWS + D_UNIFORM] += 1.0
    return _raw_uniform(w.rng, s)


@_leaf
def _raw_exponential(rng, s):
    value, state = _step_exponential(_load_stream(rng, s))
    _store_stream(rng, s, state)
    return value


@_leaf
def _exponential(w, s, mean):
    """Exponential with the given mean (numpy's ``exponential(scale)``)."""
    w.x[X_DRAWS + D_EXPONENTIAL] += 1.0
    return _raw_exponential(w.rng, s) * mean


@njit(cache=True)
def _poisson_inversion(rng, s, lam):
    """Poisson(lam) by sequential inversion (one uniform): for small means."""
    u = _raw_uniform(rng, s)
    k = 0
    p = math.exp(-lam)
    cdf = p
    while u >= cdf and k < 1000:  # the cap is never reached for lam < 10 but for rounding at u ~ 1
        k += 1
        p *= lam / k
        cdf += p
    return k


def poisson_table(lam):
    """For :func:`_poisson_tabled`: Poisson(lam)'s CDF at 0, 1, 2, 3 and its probability at 3,
    by the same recurrence as sequential inversion (scalars or arrays)."""
    p0 = np.exp(-np.asarray(lam, dtype=float))
    p1 = p0 * lam
    p2 = p1 * lam / 2.0
    p3 = p2 * lam / 3.0
    c0 = p0
    c1 = c0 + p1
    c2 = c1 + p2
    c3 = c2 + p3
    return np.stack([c0, c1, c2, c3, p3], axis=-1)


@njit(cache=True)
def _fill_poisson_table(table, lam):
    """poisson_table(lam) into table[0:5], in compiled code (same recurrence)."""
    p0 = math.exp(-lam)
    p1 = p0 * lam
    p2 = p1 * lam / 2.0
    p3 = p2 * lam / 3.0
    table[0] = p0
    table[1] = table[0] + p1
    table[2] = table[1] + p2
    table[3] = table[2] + p3
    table[4] = p3


@_leaf
def _poisson_tabled(rng, s, lam, table, at):
    """Poisson(lam) by inversion (one uniform) against a precomputed CDF (``poisson_table``, at
    table[at:at + 5]): branch-free for counts 0..3, the sequential search beyond (rare)."""
    return _poisson_tabled_at(_raw_uniform(rng, s), lam, table, at)


@_leaf
def _poisson_tabled_at(u, lam, table, at):
    """The Poisson(lam) count at uniform u, by the table (see _poisson_tabled)."""
    if u < table[at + 3]:
        return int(u >= table[at]) + int(u >= table[at + 1]) + int(u >= table[at + 2])
    k = 3
    p = table[at + 4]
    cdf = table[at + 3]
    while u >= cdf and k < 1000:
        k += 1
        p *= lam / k
        cdf += p
    return k


@njit(cache=True)
def _poisson_ptrs(rng, s, lam):
    """Poisson by Hoermann's transformed rejection with squeeze (PTRS, 1993): exact, any large mean."""
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = 0.931 + 2.53 * slam
    a = -0.059 + 0.02483 * b
    invalpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2.0)
    while True:
        u = _raw_uniform(rng, s) - 0.5
        v = _raw_uniform(rng, s)
        us = 0.5 - abs(u)
        k = math.floor((2.0 * a / us + b) * u + lam + 0.43)
        if us >= 0.07 and v <= vr:
            return int(k)
        if k < 0.0 or (us < 0.013 and v > us):
            continue
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)
                <= -lam + k * loglam - math.lgamma(k + 1.0)):
            return int(k)


@njit(cache=True)
def _poisson(w, s, lam):
    """Poisson(lam); 0 without a draw when lam <= 0 (as ``rng.poisson(0)``)."""
    if lam <= 0.0:
        return 0
    if lam < POISSON_INVERSION_BELOW:
        w.x[X_DRAWS + D_POISSON_SMALL] += 1.0
        w.x[X_DRAWS + D_POISSON_SMALL_SUM] += lam
        return _poisson_inversion(w.rng, s, lam)
    w.x[X_DRAWS + D_POISSON_LARGE] += 1.0
    w.x[X_DRAWS + D_POISSON_LARGE_SUM] += lam
    return _poisson_ptrs(w.rng, s, lam)


# =============================================================================================
# Bookkeeping: BorderConflict.notify / emit / move_to / recent_deaths / kill / pending table
# =============================================================================================


@njit(cache=True)
def _first(w, column):
    """RunTally.first: remember the first day of an event."""
    if math.isnan(w.x[column]):
        w.x[column] = w.x[X_NOW]


@njit(cache=True)
def _notify(w):
    """BorderConflict.notify: every hazard clock is redrawn once the current event is done."""
    w.z[Z_NOTIFY] = 1


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def _combat_rate(w):
    """BorderConflict.combat_rate: deaths per day at the current rung (ceasefire-damped)."""
    rate = w.par[P_COMBAT_AT_RUNG + w.z[Z_RUNG]]  # zero below a ground operation or when switched off
    if w.z[Z_CEASEFIRE]:
        rate *= w.par[P_CF_CLASH]
    return rate


@njit(cache=True)
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


@njit(cache=True)
def _add_interstate_deaths(w, deaths):
    x = w.x
    x[X_PRESSURE] = _recent_deaths(w) + deaths
    x[X_PRESSURE_TIME] = x[X_NOW]
    x[X_FLOW_SINCE] = x[X_NOW]


@njit(cache=True)
def _kill(w, category, deaths, interstate):
    w.z[category] += deaths
    if interstate and deaths != 0:
        _add_interstate_deaths(w, deaths)


@njit(cache=True)
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


@njit(cache=True)
def _set_clock(w, source, when):
    """A source's next time. The loop keeps the earliest of the sources other than TTP attacks
    cached (most events are attacks, which move only their own clock); a change invalidates it."""
    w.x[X_CLOCK + source] = when
    if source != SRC_ATTACK:
        w.z[Z_CLOCKS_CHANGED] = 1


@njit(cache=True)
def _note_violence(w):
    """A strike or clash: last_violence moves, so the calm watch's deadline moves with it."""
    x = w.x
    x[X_LAST_VIOLENCE] = x[X_NOW]
    if w.z[M_CALM]:
        _set_clock(w, SRC_CALM, max(x[X_LAST_VIOLENCE], x[X_QUIET_FROM]) + w.par[P_CALM_DAYS])


@njit(cache=True)
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


@njit(cache=True)
def _pop_pending(w):
    """Take the earliest pending event (FIFO among equal times); return its slot."""
    best = -1
    best_t = next_t = np.inf  # the earliest event and the time of the one after it
    for slot in range(w.z[Z_PENDING_TOP]):
        t = w.pend_t[slot]
        if t == np.inf:
            continue
        if best < 0 or t < best_t or (t == best_t and w.pend_i[4 * slot + 3] < w.pend_i[4 * best + 3]):
            next_t = best_t
            best, best_t = slot, t
        elif t < next_t:
            next_t = t
    w.pend_t[best] = np.inf
    w.z[Z_PENDING] -= 1
    if w.z[Z_PENDING] == 0:
        w.z[Z_PENDING_TOP] = 0
    _set_clock(w, SRC_PENDING, next_t)
    return best


# =============================================================================================
# Mechanisms: one helper per BorderConflict method
# =============================================================================================


@njit(cache=True)
def _attack_rate(w):
    """The TTP attack intensity in the birth-death form: background_rate() + decay x pending offspring.

    BorderConflict's excitation, exc(t) = sum of jumps decayed since each attack, is the expected
    number of pending offspring times the decay rate: each attack begets Poisson(branching)
    offspring, each after an Exp(decay) delay -- so by memorylessness only their count matters."""
    background = w.par[P_BACKGROUND]
    if w.z[Z_CEASEFIRE]:
        background *= w.par[P_CF_ATTACK]
    return background + w.par[P_DECAY] * w.z[Z_OFFSPRING]


@njit(cache=True)
def _offspring(w):
    """Poisson(branching ratio) offspring of one attack, by inversion from the cached exp(-mean)."""
    mean = w.par[P_OFFSPRING_MEAN]
    w.x[X_DRAWS + D_POISSON_OFFSPRING] += 1.0
    w.x[X_DRAWS + D_POISSON_OFFSPRING_SUM] += mean
    return _poisson_tabled(w.rng, S_ATTACKS, mean, w.par, P_OFFSPRING_TABLE)


@njit(cache=True)
def _mass_casualty_deaths(w):
    """BorderConflict.mass_casualty_deaths: inverse CDF of the truncated power law, rounded."""
    lo, hi, alpha = w.par[P_MASS_MIN], w.par[P_MASS_MAX], w.par[P_MASS_ALPHA]
    if hi <= lo:
        return int(np.rint(lo))
    u = _uniform(w, S_ATTACKS)
    if abs(alpha - 1.0) < 1e-12:
        return int(np.rint(lo * (hi / lo) ** u))
    # (lo ** e + u * (hi ** e - lo ** e)) ** (1 / e), e = 1 - alpha, its constant powers precomputed
    powers = P_MASS_POWERS
    return int(np.rint((w.par[powers] + u * w.par[powers + 1]) ** w.par[powers + 2]))


@njit(cache=True)
def _attack(w, mass_flag, given_deaths):
    """BorderConflict.attack. mass_flag -1: decide by p_mass_casualty_attack; given_deaths -1: draw."""
    w.z[Z_OFFSPRING] += _offspring(w)  # the excitation's jump: this attack's offspring to come
    if mass_flag < 0:
        mass = w.z[M_MASS] and _uniform(w, S_ATTACKS) < w.par[P_P_MASS]
    else:
        mass = mass_flag == 1
    _attack_consequences(w, mass, given_deaths)


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def _mediation_offer(w):
    """BorderConflict.mediation_offer: pick the mediator, emit, perhaps a ceasefire."""
    par = w.par
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


@njit(cache=True)
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


@njit(cache=True)
def _collapse_ceasefire(w):
    """BorderConflict.collapse_ceasefire."""
    x, z = w.x, w.z
    _close_combat_segment(w)
    z[Z_CEASEFIRE] = 0
    x[X_DAYS_CF] += x[X_NOW] - x[X_CF_SINCE]
    w.z[C_COLLAPSES] += 1
    _emit(w, E_COLLAPSE)
    _notify(w)


@njit(cache=True)
def _violation_may_collapse_ceasefire(w):
    if w.z[Z_CEASEFIRE] and w.z[M_COLLAPSE]:
        if _uniform(w, S_DIPLOMACY) < w.par[P_P_COLLAPSE_VIOLATION]:
            _collapse_ceasefire(w)


@njit(cache=True)
def _chinese_nationals_attack(w):
    """BorderConflict.chinese_nationals_attack."""
    w.z[Z_CHINESE_ATTACKS] += 1
    w.z[C_CHINESE] += 1
    _emit(w, E_CHINESE)
    _notify(w)


@njit(cache=True)
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


@njit(cache=True)
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
    else:
        _inject(w, a, b)


# =============================================================================================
# Hazard clocks: BorderConflict.hazard and ttp_attacks, redrawn where SimPy redraws
# =============================================================================================


@njit(cache=True)
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


@njit(cache=True)
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


@njit(cache=True)
def _next_gap(w):
    """A standard exponential from the pool (refilled when empty)."""
    if w.z[Z_GAPS_LEFT] == 0:
        _draw_gaps(w)
    w.z[Z_GAPS_LEFT] -= 1
    return w.x[X_GAPS + w.z[Z_GAPS_LEFT]]


@njit(cache=True)
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


@njit(cache=True)
def _redraw(w, source):
    """BorderConflict.hazard: draw a source's next time afresh at its current rate (inf at zero)."""
    if source == SRC_ATTACK:
        _redraw_attacks(w)
        return
    rate = _hazard_rate(w, source)
    when = w.x[X_NOW] + _exponential(w, _SOURCE_STREAM[source], 1.0 / rate) if rate > 0.0 else np.inf
    _set_clock(w, source, when)


@njit(cache=True)
def _redraw_all(w):
    """After notify(): every hazard process (and the thinning bound) draws afresh."""
    for source in (SRC_ATTACK, SRC_CLASH, SRC_OFFER, SRC_COLLAPSE, SRC_CHINESE, SRC_IRAN, SRC_CHINA):
        if w.z[_SOURCE_MECHANISM[source]]:
            _redraw(w, source)


# =============================================================================================
# One run, and a chunk of runs
# =============================================================================================


@njit(cache=True)
def _reset(w, seed, run_index, max_events, on, ie_kind, ie_day, ie_deaths, pending_capacity, path_start,
           path_capacity):
    """BorderConflict.__init__ and start(): the state at day 0, the processes' first draws."""
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
    for crossing in range(N_CROSSINGS):
        x[X_SHUT_SINCE + crossing] = np.nan
    for kind in range(N_FIRST):
        x[X_FIRST + kind] = np.nan
    for source in range(N_SOURCES):
        _set_clock(w, source, np.inf)
    z[Z_MAX_EVENTS] = max_events
    if path_start >= path_capacity:
        z[Z_STATUS] = ST_PATH_FULL
        return
    w.path[2 * path_start] = 0.0  # RunTally.path_times / path_rungs start at (0, 0)
    w.path[2 * path_start + 1] = 0.0
    z[Z_PATH_POS] = path_start + 1
    for j in range(ie_kind.shape[0]):  # inject processes, in the scenario's (day-sorted) order
        _schedule(w, ie_day[j], PK_INJECT, ie_kind[j], ie_deaths[j])
    _redraw_all(w)
    if w.z[M_CALM]:
        _set_clock(w, SRC_CALM, par[P_CALM_DAYS])


@njit(cache=True)
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
            z[Z_NEXT_OTHER_SOURCE] = SRC_PENDING
            x[X_NEXT_OTHER] = x[X_CLOCK + SRC_PENDING]
            for k in range(SRC_ATTACK + 1, N_SOURCES):
                if x[X_CLOCK + k] < x[X_NEXT_OTHER]:
                    x[X_NEXT_OTHER] = x[X_CLOCK + k]
                    z[Z_NEXT_OTHER_SOURCE] = k
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
            _mediation_offer(w)
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


@njit(cache=True)
def _simulate_runs(begin, first_run, seed, horizon, max_events, params, on, lad, ie_kind, ie_day, ie_deaths,
                   pending_capacity, counts, fatal, first, days_at, draws, days_closed, trade_loss, days_cf,
                   final_rung, max_rung, ceasefire_at, open_at, path, path_offsets, daily, closed_daily):
    """Runs begin..n-1 of a chunk into preallocated outputs. Returns (status, run offset reached).

    ``params`` holds one row per parameter column, one column per run."""
    n_columns, n = params.shape
    n_days = daily.shape[1]
    x = np.empty(N_X)
    z = np.empty(N_Z, np.int64)
    rng = np.empty(N_STREAMS * 4, np.uint64)
    pend_t = np.empty(pending_capacity)
    pend_i = np.empty(pending_capacity * 4, np.int64)
    par = np.empty(n_columns)
    for i in range(begin, n):
        for column in range(n_columns):  # this run's parameters, contiguous
            par[column] = params[column, i]
        shut = closed_daily[i]
        shut[:] = 0  # (a run re-run after a buffer grew starts clean)
        w = World(_pointer(x), _pointer(z), _pointer(par), _pointer(rng), _pointer(lad), _pointer(pend_t),
                  _pointer(pend_i), _pointer(path), _pointer(shut))
        path_start = path_offsets[i]
        _reset(w, seed, first_run + i, max_events, on, ie_kind, ie_day, ie_deaths, pending_capacity, path_start,
               path.shape[0])
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
            daily[i, first_day:until_day] = int(path[j, 1])
    return ST_OK, n


@njit(cache=True)
def _floor_runs(first_run, seed, draws, sink):
    """The benchmark's floor: per run, seed the six streams and draw exactly the variates the
    engine drew (counts per kind, Poisson means at their per-run average) -- and nothing else."""
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
    sink[0] = total


@njit(cache=True)
def _sample(kind, seed, parameter, n):
    """n draws of one sampler from stream 0 of run 0 (for the sampler tests): kind 0 uniform,
    1 standard exponential, 2 Poisson(parameter) as the engine draws it, 3 an attack's offspring
    count Poisson(parameter) by its table."""
    state = np.empty(N_STREAMS * 4, np.uint64)
    rng = _pointer(state)
    _seed_streams(rng, seed, 0)
    table = np.empty(5)
    _fill_poisson_table(table, parameter)
    out = np.empty(n)
    for i in range(n):
        if kind == 0:
            out[i] = _raw_uniform(rng, 0)
        elif kind == 1:
            out[i] = _raw_exponential(rng, 0)
        elif kind == 2:
            if parameter < POISSON_INVERSION_BELOW:
                out[i] = _poisson_inversion(rng, 0, parameter)
            else:
                out[i] = _poisson_ptrs(rng, 0, parameter)
        else:
            out[i] = _poisson_tabled(rng, 0, parameter, table, 0)
    return out


# =============================================================================================
# Stale-cache guard: the compiled code bakes in the codes above, derived from sim.model and
# sim.records; numba's cache only watches this file. A changed vocabulary flushes the cache.
# =============================================================================================

_LAYOUT_KEY = zlib.crc32(repr((EMIT_KINDS, RUNGS, CROSSINGS, MEDIATORS, MECHANISMS, INITIAL_EVENT_KINDS,
                               FIRST_EVENTS, COUNT_COLUMNS, FATALITY_CATEGORIES, _DERIVED, _RAW, _BLOCKS,
                               sorted(_COMBAT_RATE_KEYS.items()))).encode())


@njit(cache=True)
def _compiled_layout_key():
    return _LAYOUT_KEY


_KERNELS = (_simulate_runs, _floor_runs)
_checked = False


def _ensure_fresh_cache() -> None:
    global _checked
    if _checked:
        return
    if _compiled_layout_key() != _LAYOUT_KEY:
        for value in list(globals().values()):
            cache = getattr(value, "_cache", None)
            if cache is not None and hasattr(value, "py_func"):
                cache.flush()
        _compiled_layout_key.recompile()
    _checked = True


# =============================================================================================
# Python side: per-run inputs from the config, outputs to the Arrow record
# =============================================================================================


def _inputs(config, start: int, stop: int, sampled) -> dict:
    """Everything the kernel reads for runs start..stop-1, derived with sim.model.prepare_inputs.

    Parameters not sampled stay scalars (broadcast); the matrix has one row per parameter column
    (the kernel gathers each run's column into a contiguous row)."""
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
    rows = np.empty((N_PARAMS + len(moves), n))  # rows[column]: that column for every run
    for name in _DERIVED:
        rows[_COLUMN[name]] = getattr(inputs, name)
    for name in _RAW:
        rows[_COLUMN[name]] = values[name]
    rows[P_OFFSPRING_MEAN] = inputs.excitation_jump / inputs.excitation_decay_per_day
    rows[P_OFFSPRING_TABLE:P_OFFSPRING_TABLE + 5] = poisson_table(rows[P_OFFSPRING_MEAN]).T
    rows[P_OFFSPRING0_MEAN] = inputs.initial_excitation / inputs.excitation_decay_per_day
    with np.errstate(all="ignore"):  # used only where max > min and alpha != 1 (as in SimPy)
        e = 1.0 - np.asarray(values["mass_casualty_tail_exponent"])
        low_e = values["mass_casualty_min_fatalities"] ** e
        rows[P_MASS_POWERS] = low_e
        rows[P_MASS_POWERS + 1] = values["mass_casualty_max_fatalities"] ** e - low_e
        rows[P_MASS_POWERS + 2] = 1.0 / e
    for rung in range(N_RUNGS):
        rows[P_STRIKE_AT_RUNG + rung] = values["p_strike_after_attack"] * values["strike_multiplier_per_rung"] ** rung
        rows[P_ESCALATION_AT_RUNG + rung] = np.asarray(values["mediation_multiplier_per_rung"]) ** (rung - 1.0)
        key = _COMBAT_RATE_KEYS.get(rung)
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
        daily=np.zeros((n, n_days), np.int8), closed_daily=np.zeros((n, n_days), np.int8),
    )
    path = np.empty((max(1, INITIAL_PATH_ROWS_PER_RUN * n), 2))
    path_offsets = np.zeros(n + 1, np.int64)
    pending_capacity = INITIAL_PENDING_CAPACITY
    begin = 0
    while True:
        status, at = _simulate_runs(
            begin, start, config.seed, float(config.horizon_days), config.max_events_per_run,
            given["params"], given["on"], given["lad"], given["ie_kind"], given["ie_day"], given["ie_deaths"],
            pending_capacity, out["counts"], out["fatal"], out["first"], out["days_at"], out["draws"],
            out["days_closed"], out["trade_loss"], out["days_cf"], out["final_rung"], out["max_rung"],
            out["ceasefire_at"], out["open_at"], path, path_offsets, out["daily"], out["closed_daily"])
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
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values)).cast(pa.list_(value_type))


def simulate_chunk(config, start: int, stop: int, sampled) -> pa.Table:
    """Simulate runs start..stop-1 of ``config`` and return their records as one Arrow table.

    ``sampled`` maps uncertain parameter names to per-run values for those runs (empty when
    ``uncertainty=fixed``); other parameters take the scenario's point values. The table has
    exactly :func:`sim.records.rows_to_table`'s schema, ``param.<name>`` columns included.
    """
    out = _simulate_arrays(config, start, stop, sampled)
    n = stop - start
    base = schema()
    codes = classify_outcome_codes(out["max_rung"], out["ceasefire_at"], out["open_at"])
    outcome = pa.DictionaryArray.from_arrays(pa.array(codes, pa.int8()), pa.array(OUTCOME_CLASSES, pa.string()))
    columns = {
        "run_index": pa.array(np.arange(start, stop, dtype=np.int64)),
        "outcome": outcome.cast(pa.string()),
        "max_rung": pa.array(out["max_rung"]),
        "final_rung": pa.array(out["final_rung"]),
        "ceasefire_at_horizon": pa.array(out["ceasefire_at"]),
        "crossings_open_at_horizon": pa.array(out["open_at"]),
    }
    for k, category in enumerate(FATALITY_CATEGORIES):
        columns[f"fatalities_{category}"] = pa.array(out["fatal"][:, k])
    columns["fatalities_total"] = pa.array(out["fatal"].sum(axis=1))
    for k, name in enumerate(COUNT_COLUMNS):
        columns[name] = pa.array(out["counts"][:, k])
    for k, kind in enumerate(FIRST_EVENTS):
        columns[f"first_{kind}_day"] = pa.array(out["first"][:, k])
    for c, crossing in enumerate(CROSSINGS):
        columns[f"days_closed_{crossing}"] = pa.array(out["days_closed"][:, c])
    columns["trade_loss_usd"] = pa.array(out["trade_loss"])
    columns["days_under_ceasefire"] = pa.array(out["days_cf"])
    for r, rung in enumerate(RUNGS):
        columns[f"days_at_{rung}"] = pa.array(out["days_at"][:, r])
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
                                    pa.array(np.asarray(values, dtype=float)))
    return table


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
