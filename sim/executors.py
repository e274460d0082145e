"""Where chunks run: in this process, in local worker processes, or on a Dask cluster.

Every executor offers the same thing — :func:`imap_unordered`: call ``fn(*args)`` for each item,
at most ``window`` at a time, yielding results as they finish — so the runner never cares which
one it has. Exceptions inside ``fn`` are the runner's business (it catches them per run), so a
failing run never hangs a batch; closing the generator cancels what has not started.

Locally, ``workers=N`` means N processes at work: N - 1 spawned worker processes and this one,
which takes an item itself whenever the workers are busy (:class:`CallerRunsPool`). The calling
process would otherwise sit idle, and a spawned worker spends its first ~1.5 s importing numpy,
numba and the compiled engine; meanwhile this process is already simulating.

>>> with open_executor("local", workers=1) as executor:
...     sorted(imap_unordered(executor, pow, [(2, 3), (3, 2)], window=2))
[8, 9]
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import platform
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable, Iterator

__all__ = ["EXECUTORS", "SerialExecutor", "CallerRunsPool", "open_executor", "imap_unordered",
           "reuse_freed_memory"]

EXECUTORS = ("local", "dask")

# glibc's mallopt parameters (malloc.h) and the values chunks want: arrays up to glibc's largest
# mmap threshold come from the heap, and up to 64 MiB freed at its top stays there for reuse
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD_BYTES, _TRIM_THRESHOLD_BYTES = 32 << 20, 64 << 20
_allocator_tuned: list[bool] = []  # [result] once tried in this process


def reuse_freed_memory() -> bool:
    """Let glibc's malloc keep the memory a chunk frees for the next chunk (once per process).

    A chunk of 10,000 runs allocates some 10 MB of output arrays and frees them when its part is
    written. By default glibc maps arrays of a few MB afresh from the kernel and unmaps them when
    freed, so every chunk took 2,700-2,800 page faults zeroing the same pages again (11-13 ms of
    system time in a 0.2 s chunk on a KVM guest; ``benchmarks/README.md``). Serving arrays up to
    32 MiB from the heap, and keeping up to 64 MiB freed at its top, leaves 150-190 (the chunks
    ran 1-2 % faster); the memory kept is what a chunk used at its peak. Returns False (and
    changes nothing) where the C library is not glibc.

    >>> reuse_freed_memory() in (True, False)
    True
    """
    if not _allocator_tuned:
        _allocator_tuned.append(_set_glibc_thresholds())
    return _allocator_tuned[0]


def _set_glibc_thresholds() -> bool:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)) and bool(mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD_BYTES))


class SerialExecutor:
    """Runs each call at once, in this process (``workers=1``)."""

    def shutdown(self) -> None:
        pass


class CallerRunsPool:
    """Spawned worker processes plus the calling process, which runs an item whenever they are busy."""

    def __init__(self, workers: int):
        self.workers = workers  # processes at work, this one included
        self.pool = ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("spawn"))

    def shutdown(self) -> None:
        # Queued items are cancelled; the workers then exit on their own, without this process
        # waiting ~0.3 s for their interpreters to tear down (it has the summary to write).
        self.pool.shutdown(wait=False, cancel_futures=True)


@contextlib.contextmanager
def open_executor(kind: str, *, workers: int, address: str | None = None):
    """An executor for ``kind`` ('local' or 'dask'), shut down on exit.

    ``dask`` connects to ``address`` (``tcp://host:8786``) when given, else starts a
    LocalCluster with ``workers`` single-threaded worker processes.
    """
    if kind == "local" and workers <= 1:
        yield SerialExecutor()
    elif kind == "local":
        pool = CallerRunsPool(workers)
        try:
            yield pool
        finally:
            pool.shutdown()
    elif kind == "dask":
        from dask.distributed import Client, LocalCluster

        if address:
            client = Client(address)
            cluster = None
        else:
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=40)
            client = Client(cluster)
        try:
            yield client
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    else:
        raise ValueError(f"unknown executor {kind!r}")


def imap_unordered(executor, fn: Callable, items: Iterable[tuple], *, window: int,
                   on_idle: Callable[[], None] | None = None) -> Iterator[Any]:
    """Yield ``fn(*item)`` for each item as they finish, with at most ``window`` in flight.

    ``on_idle`` is called once, in this process, when every item has been handed out and only
    the workers' last ones are still running (this process would otherwise just wait); never
    with the serial executor."""
    items = iter(items)
    if isinstance(executor, SerialExecutor):
        for item in items:
            yield fn(*item)
        return
    if isinstance(executor, CallerRunsPool):
        yield from _caller_runs(executor, fn, items, on_idle)
        return
    is_dask = type(executor).__module__.startswith("distributed")
    submit = (lambda item: executor.submit(fn, *item, pure=False)) if is_dask else (lambda item: executor.submit(fn, *item))
    pending = set()
    try:
        for item in items:
            pending.add(submit(item))
            if len(pending) >= window:
                done, pending = _wait_first(pending, is_dask)
                for future in done:
                    yield future.result()
        if pending and on_idle is not None:
            on_idle()
        while pending:
            done, pending = _wait_first(pending, is_dask)
            for future in done:
                yield future.result()
    finally:
        for future in pending:
            future.cancel()


def _caller_runs(executor: CallerRunsPool, fn: Callable, items: Iterable[tuple],
                 on_idle: Callable[[], None] | None = None) -> Iterator[Any]:
    """Keep each worker process busy with one item and one queued; run the next item here.

    Items are taken in order, so the first ones go to the workers and this process starts on the
    next at once, while the workers are still starting up. Near the end a worker gets no second
    item to queue while this process is free to take it: the last items then end together
    instead of one waiting on a worker's queue.
    """
    spawned = executor.workers - 1
    items = list(items)
    pending = set()
    try:
        for position, item in enumerate(items):
            if _to_pool(len(pending), spawned, left=len(items) - position):
                pending.add(executor.pool.submit(fn, *item))
                continue
            result = fn(*item)
            done = {future for future in pending if future.done()}
            pending -= done
            for future in done:
                yield future.result()
            yield result
        if pending and on_idle is not None:
            on_idle()
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    finally:
        for future in pending:
            future.cancel()


def _to_pool(pending: int, spawned: int, *, left: int) -> bool:
    """Whether the next item goes to the worker processes (else this process runs it): each worker
    gets one item to run and one queued, but no queued one among the last ``spawned + 1`` items.

    >>> [_to_pool(pending, 1, left=10) for pending in (0, 1, 2)]
    [True, True, False]
    >>> [_to_pool(pending, 1, left=2) for pending in (0, 1)]
    [True, False]
    """
    return pending < spawned or (pending < 2 * spawned and left > spawned + 1)


def _wait_first(pending: set, is_dask: bool):
    if is_dask:
        from dask.distributed import wait as dask_wait

        result = dask_wait(list(pending), return_when="FIRST_COMPLETED")
        return set(result.done), set(result.not_done)
    done, not_done = wait(pending, return_when=FIRST_COMPLETED)
    return done, not_done
