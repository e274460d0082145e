"""Executors: the calling process works beside its spawned workers; a worker's exception comes
back to the caller instead of hanging the batch."""

from __future__ import annotations

import os
import time

import pytest

from sim.executors import CallerRunsPool, SerialExecutor, imap_unordered, open_executor


def _pid_after(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


def _fail_in_worker(parent: int) -> int:
    if os.getpid() != parent:
        raise ValueError("failed in a worker")
    return os.getpid()


def test_local_workers_count_the_calling_process():
    with open_executor("local", workers=1) as serial:
        assert isinstance(serial, SerialExecutor)
    with open_executor("local", workers=3) as pool:
        assert isinstance(pool, CallerRunsPool) and pool.workers == 3
        assert pool.pool._max_workers == 2  # two spawned, and this one


def test_the_caller_and_a_spawned_worker_both_take_items():
    with open_executor("local", workers=2) as pool:
        pids = list(imap_unordered(pool, _pid_after, [(0.2,)] * 12, window=4))
    assert len(pids) == 12
    assert os.getpid() in pids                 # the caller took items
    assert set(pids) - {os.getpid()}           # and so did the worker process


def test_an_exception_in_a_worker_reaches_the_caller():
    with open_executor("local", workers=2) as pool:
        with pytest.raises(ValueError, match="failed in a worker"):
            list(imap_unordered(pool, _fail_in_worker, [(os.getpid(),)] * 6, window=4))


def test_freed_chunk_memory_is_kept_for_reuse_where_malloc_is_glibcs():
    import ctypes
    import platform
    import resource

    from sim.executors import reuse_freed_memory

    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        assert reuse_freed_memory() is False
        return
    assert reuse_freed_memory() is True
    assert reuse_freed_memory() is True  # once per process; asking again changes nothing
    # A chunk-sized block, written, freed, then taken and written again: glibc's defaults map
    # it afresh each time (one page fault per 4 KiB page); kept on the heap it faults no more.
    libc = ctypes.CDLL(None)
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    size = 24 << 20
    faults = []
    for _ in range(2):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = libc.malloc(size)
        ctypes.memset(block, 1, size)
        libc.free(block)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    assert faults[1] < size // 4096 // 10, faults


def test_on_idle_is_called_once_when_only_the_workers_last_items_are_left():
    calls = []
    with open_executor("local", workers=2) as pool:
        results = []
        # the first two items go to the worker (one to run, one queued) and the rest run here at
        # once; then only the worker's slow item and the one queued behind it are left
        for pid in imap_unordered(pool, _pid_after, [(1.0,)] + [(0.01,)] * 5, window=4,
                                  on_idle=lambda: calls.append(len(results))):
            results.append(pid)
    assert len(results) == 6 and calls == [4]  # once: after this process's 4, before the worker's 2
    with open_executor("local", workers=1) as serial:  # this process runs everything: never idle
        assert len(list(imap_unordered(serial, pow, [(2, 3)] * 3, window=2, on_idle=lambda: calls.append(0)))) == 3
    assert calls == [4]
