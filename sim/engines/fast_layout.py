"""The compiled engine's memory layout: the integer codes and slots every fast_* module shares.

Vocabulary codes (derived from :mod:`sim.model` and :mod:`sim.records`, never a second list), the
columns of the per-run parameter matrix, the slots of one run's float and integer state (``x[]``,
``z[]``), its event sources, statuses and pending-event kinds, and :data:`World` -- one run's arrays
as typed pointers -- with the intrinsic that makes them. Numba freezes these values into the
compiled code as constants (:mod:`sim.engines.fast_cache` flushes its cache when they change).
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, types
from numba.extending import intrinsic

from sim.model import CROSSINGS, INITIAL_EVENT_KINDS, LADDER_EVENTS, MECHANISMS, MEDIATORS, RUNG_INDEX, RUNGS
from sim.records import COUNT_COLUMNS, FATALITY_CATEGORIES, FIRST_EVENTS

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
# Per-run parameter matrix: one row per parameter column (derived first, then raw, then blocks), one column per run
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

# Variate counters (per run): what the benchmark's floor must draw to match the engine. A power
# law variate is a mass-casualty attack's deaths: a uniform through the truncated power law's
# inverse CDF, (a + u b) ** c (its exponents c summed, as the Poisson means are).
DRAW_STATS = ("uniform", "exponential", "poisson_small", "poisson_small_mean_sum", "poisson_large",
              "poisson_large_mean_sum", "poisson_offspring", "poisson_offspring_mean_sum", "power_law",
              "power_law_exponent_sum")
(D_UNIFORM, D_EXPONENTIAL, D_POISSON_SMALL, D_POISSON_SMALL_SUM, D_POISSON_LARGE, D_POISSON_LARGE_SUM,
 D_POISSON_OFFSPRING, D_POISSON_OFFSPRING_SUM, D_POWER_LAW, D_POWER_LAW_EXPONENT_SUM) = range(10)
N_DRAW_STATS = 10

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
PK_STRIKE, PK_RETALIATION, PK_PARTIAL, PK_TRADE, PK_INJECT, PK_OFFER = range(6)

# The start state (sim.start.StartState), one float array per chunk: rung, ceasefire in force (0/1),
# day of a mediation offer under way (inf: none) and its mediator, then per crossing OPEN/PARTIAL/CLOSED
S0_RUNG, S0_CEASEFIRE, S0_OFFER_DAY, S0_MEDIATOR = range(4)
S0_CROSSING = 4
N_S0 = S0_CROSSING + N_CROSSINGS


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

