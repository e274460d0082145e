"""The fast engine's stale-cache guard (sim.engines.fast_cache).

Numba's cache of a compiled function watches only that function's own file, while its machine
code also holds the vocabulary's codes and its callees from the other fast_* modules: the guard's
key must change with any of them, and a stale key must flush every compiled function's cache.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from numba.core.dispatcher import Dispatcher

from sim.engines import fast_cache
from sim.model import RUNGS


def compiled_functions_by_module() -> dict:
    """Every sim/engines/fast_* module found on disk that defines compiled functions -> them."""
    found = {}
    for path in sorted(Path(fast_cache.__file__).parent.glob("fast_*.py")):
        module = importlib.import_module(f"sim.engines.{path.stem}")
        functions = [value for value in vars(module).values()
                     if isinstance(value, Dispatcher) and value.py_func.__module__ == module.__name__]
        if functions:
            found[module] = functions
    return found


def test_the_compiled_layout_key_is_the_current_one():
    # the codes and callees baked into the cached kernels are the current ones
    fast_cache._ensure_fresh_cache()
    assert fast_cache._compiled_layout_key() == fast_cache._LAYOUT_KEY


def test_the_key_covers_every_module_with_compiled_code_and_changes_with_any_of_them(monkeypatch):
    by_module = compiled_functions_by_module()
    assert set(by_module) - {fast_cache} == set(fast_cache._COMPILED_MODULES)
    assert len(fast_cache._COMPILED_MODULES) >= 5
    sources = fast_cache._module_sources()
    assert set(sources) == {Path(module.__file__).name for module in fast_cache._COMPILED_MODULES}
    key = fast_cache._layout_key(sources)
    assert key == fast_cache._LAYOUT_KEY
    for name, text in sources.items():
        for edited in (text + b"\n", text.replace(b"0", b"1", 1), text[:-1]):
            assert edited != text
            assert fast_cache._layout_key({**sources, name: edited}) != key, name
    monkeypatch.setattr(fast_cache, "RUNGS", RUNGS + ("nuclear_exchange",))  # and with the vocabulary
    assert fast_cache._layout_key(sources) != key


def test_a_stale_key_flushes_the_cache_of_every_compiled_function_in_every_module(monkeypatch):
    fast_cache._compiled_layout_key()  # compiled (or loaded) with the true key before it is patched
    flushed, recompiled = [], []
    expected = []
    for module, functions in compiled_functions_by_module().items():
        for function in functions:
            if function is not fast_cache._compiled_layout_key:  # that one is recompiled instead
                expected.append(function)
                monkeypatch.setattr(function._cache, "flush", lambda function=function: flushed.append(function))
    monkeypatch.setattr(fast_cache._compiled_layout_key, "recompile", lambda: recompiled.append(True))
    monkeypatch.setattr(fast_cache, "_checked", False)
    monkeypatch.setattr(fast_cache, "_LAYOUT_KEY", fast_cache._compiled_layout_key() + 1)
    fast_cache._ensure_fresh_cache()
    assert sorted(map(id, flushed)) == sorted(map(id, expected))
    assert recompiled == [True]
    modules = {function.py_func.__module__ for function in flushed}
    assert {"sim.engines.fast_layout", "sim.engines.fast_random", "sim.engines.fast_kernel"} <= modules
    assert fast_cache._checked
    # once checked, or with the current key, nothing is flushed
    flushed.clear()
    fast_cache._ensure_fresh_cache()
    monkeypatch.setattr(fast_cache, "_checked", False)
    monkeypatch.setattr(fast_cache, "_LAYOUT_KEY", fast_cache._compiled_layout_key())
    fast_cache._ensure_fresh_cache()
    assert flushed == [] and recompiled == [True]
