"""Where chunks run: in this process, in local worker processes, or on a Dask cluster.

Every executor offers the same thing — :func:`imap_unordered`: call ``fn(*args)`` for each item,
at most ``window`` at a time, yielding results as they finish — so the runner never cares which
one it has. Exceptions inside ``fn`` are the runner's business (it catches them per run), so a
failing run never hangs a batch; closing the generator cancels what has not started.

>>> with open_executor("local", workers=1) as executor:
...     sorted(imap_unordered(executor, pow, [(2, 3), (3, 2)], window=2))
[8, 9]
"""

from __future__ import annotations

import contextlib
import multiprocessing
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterable, Iterator

__all__ = ["EXECUTORS", "SerialExecutor", "open_executor", "imap_unordered"]

EXECUTORS = ("local", "dask")


class SerialExecutor:
    """Runs each call at once, in this process (``workers=1``)."""

    def shutdown(self) -> None:
        pass


@contextlib.contextmanager
def open_executor(kind: str, *, workers: int, address: str | None = None):
    """An executor for ``kind`` ('local' or 'dask'), shut down on exit.

    ``dask`` connects to ``address`` (``tcp://host:8786``) when given, else starts a
    LocalCluster with ``workers`` single-threaded worker processes.
    """
    if kind == "local" and workers <= 1:
        yield SerialExecutor()
    elif kind == "local":
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
        try:
            yield pool
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
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


def imap_unordered(executor, fn: Callable, items: Iterable[tuple], *, window: int) -> Iterator[Any]:
    """Yield ``fn(*item)`` for each item as they finish, with at most ``window`` in flight."""
    items = iter(items)
    if isinstance(executor, SerialExecutor):
        for item in items:
            yield fn(*item)
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
        while pending:
            done, pending = _wait_first(pending, is_dask)
            for future in done:
                yield future.result()
    finally:
        for future in pending:
            future.cancel()


def _wait_first(pending: set, is_dask: bool):
    if is_dask:
        from dask.distributed import wait as dask_wait

        result = dask_wait(list(pending), return_when="FIRST_COMPLETED")
        return set(result.done), set(result.not_done)
    done, not_done = wait(pending, return_when=FIRST_COMPLETED)
    return done, not_done
