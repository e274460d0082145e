"""The stale-cache guard of the compiled engine: flush numba's on-disk cache when it may be stale.

Numba invalidates the cached machine code of a function only when that function's own source
file changes. But the machine code also holds what numba froze into it at compile time: the codes
and slots of :mod:`sim.engines.fast_layout`, derived from the vocabulary of :mod:`sim.model` and
:mod:`sim.records`, and the code of every callee, from whichever fast_* module, compiled into the
caller. A changed vocabulary, or an edit to ``fast_random.py``, would leave stale code in the
cache of every function whose own file did not change.

The layout key covers both: a CRC-32 of the vocabulary and of the source of every module holding
compiled functions. ``_compiled_layout_key`` returns the key it was compiled with, and is cached
itself; before the first chunk of a process, a cached key other than the current one flushes the
cache of every compiled function in those modules, which then compile afresh (minutes).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Mapping

from numba import njit

from sim.engines import fast_bookkeeping, fast_kernel, fast_layout, fast_mechanisms, fast_random, fast_stats
from sim.engines.fast_layout import _BLOCKS, _DERIVED, _RAW, EMIT_KINDS
from sim.model import COMBAT_RATE_PARAMETER_BY_RUNG, CROSSINGS, INITIAL_EVENT_KINDS, MECHANISMS, MEDIATORS, RUNGS
from sim.records import COUNT_COLUMNS, FATALITY_CATEGORIES, FIRST_EVENTS

#: Every module holding compiled functions, but this one (numba itself recompiles
#: _compiled_layout_key when this file changes). Python-only modules (fast_engine) cannot make
#: compiled code stale, so editing them costs no recompilation.
_COMPILED_MODULES = (fast_layout, fast_random, fast_bookkeeping, fast_mechanisms, fast_kernel, fast_stats)


def _module_sources(modules=_COMPILED_MODULES) -> dict[str, bytes]:
    """File name -> source bytes of each module, read from the file numba compiles it from."""
    return {Path(module.__file__).name: Path(module.__file__).read_bytes() for module in modules}


def _layout_key(sources: Mapping[str, bytes]) -> int:
    """CRC-32 of the vocabulary baked into the compiled code and of the given sources."""
    vocabulary = (EMIT_KINDS, RUNGS, CROSSINGS, MEDIATORS, MECHANISMS, INITIAL_EVENT_KINDS, FIRST_EVENTS,
                  COUNT_COLUMNS, FATALITY_CATEGORIES, _DERIVED, _RAW, _BLOCKS,
                  sorted(COMBAT_RATE_PARAMETER_BY_RUNG.items()))
    files = sorted((name, zlib.crc32(text)) for name, text in sources.items())
    return zlib.crc32(repr((vocabulary, files)).encode())


_LAYOUT_KEY = _layout_key(_module_sources())


@njit(cache=True)
def _compiled_layout_key():
    return _LAYOUT_KEY


def _compiled_functions(module) -> list:
    """The compiled functions (numba dispatchers) defined in a module, not those it imports."""
    return [value for value in vars(module).values()
            if getattr(value, "_cache", None) is not None and hasattr(value, "py_func")
            and value.py_func.__module__ == module.__name__]


_checked = False


def _ensure_fresh_cache() -> None:
    """Once per process, before the first kernel call: if the cache holds code compiled under
    another layout key, flush every compiled function's cache (they compile afresh on first call)."""
    global _checked
    if _checked:
        return
    if _compiled_layout_key() != _LAYOUT_KEY:
        for module in _COMPILED_MODULES:
            for function in _compiled_functions(module):
                function._cache.flush()
        _compiled_layout_key.recompile()  # (flushes its own cache, then saves the current key)
    _checked = True
