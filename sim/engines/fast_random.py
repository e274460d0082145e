"""Random numbers of the compiled engine: splitmix64 seeding, xoshiro256** streams, exact samplers.

Each run seeds its six streams from (seed, run index, stream) only. Uniforms and exponentials are
drawn by inversion; Poisson variates by sequential inversion (small means), against a precomputed
CDF table (an attack's offspring) or by Hoermann's PTRS (large means). The samplers that take a
run's ``World`` count their draws in its variate tallies (``DRAW_STATS``).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from sim.engines.fast_layout import (D_EXPONENTIAL, D_POISSON_LARGE, D_POISSON_LARGE_SUM, D_POISSON_SMALL,
                                     D_POISSON_SMALL_SUM, D_UNIFORM, N_STREAMS, X_DRAWS, _pointer)

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


POISSON_INVERSION_BELOW = 10.0  # Poisson means below this: inversion; above: Hoermann's PTRS


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
