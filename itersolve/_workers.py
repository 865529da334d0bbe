"""``workers=``: scipy's convention for running a batch of independent tasks in parallel.

An int is a number of worker processes (``1``: here, serially; ``-1``: all cores), run
through joblib, so that ``with joblib.parallel_config(backend="dask"):`` and a
``distributed.Client`` move the same call onto a cluster. Any other callable is used as
``workers(func, iterable)`` and must return the results in order: the builtin ``map``,
``multiprocessing.Pool().map``, or a Dask client's
``lambda f, it: client.gather(client.map(f, list(it)))``.

The tasks are cut into contiguous chunks, a few per worker, and each chunk is one call in
a worker: the per-call overhead of a process pool or a cluster is paid per chunk, not per
task. A chunk that runs away from the caller (another process or thread) limits Numba to
one thread, so that workers do not oversubscribe the cores between them (joblib's loky
workers cap ``NUMBA_NUM_THREADS`` already; a Dask worker does not).
"""

from __future__ import annotations

import numbers
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["check_workers", "map_tasks"]

# Chunks per worker: enough to even out tasks of unequal cost, few enough that the
# per-chunk cost (pickling the shared arguments) stays small.
CHUNKS_PER_WORKER = 4


def check_workers(workers: Any) -> int | Callable:
    """``workers`` checked: an int ``>= 1`` or ``-1``, or a callable (returned as it is)."""
    if callable(workers):
        return workers
    if isinstance(workers, bool) or not isinstance(workers, numbers.Integral):
        raise TypeError(
            "`workers` must be an int (1: serial, -1: all cores) or a map-like callable "
            f"workers(func, iterable), got {type(workers).__name__}"
        )
    workers = int(workers)
    if workers == 0 or workers < -1:
        raise ValueError(f"`workers` must be a positive int or -1 (all cores), got {workers}")
    return workers


def map_tasks(function: Callable, tasks: Sequence, workers: int | Callable, *shared) -> list:
    """``[function(task, *shared) for task in tasks]``, run as ``workers`` says, in order.

    ``function`` must be picklable for worker processes (a module-level function; joblib
    and Dask also pickle closures with cloudpickle). ``shared`` is sent once per chunk.
    """
    tasks = list(tasks)
    if workers == 1 or len(tasks) <= 1:
        return [function(task, *shared) for task in tasks]
    origin = (os.getpid(), threading.get_ident())
    if callable(workers):
        chunks = _chunks(tasks, CHUNKS_PER_WORKER * (os.cpu_count() or 1))
        calls = [(function, chunk, shared, origin) for chunk in chunks]
        returned = workers(_run_chunk, calls)
        try:
            outputs = list(returned)
        except TypeError:
            raise TypeError(
                "`workers(func, iterable)` must return the results, in order; it returned "
                f"{type(returned).__name__}"
            ) from None
        if len(outputs) != len(calls):
            raise ValueError(
                f"`workers` returned {len(outputs)} results for {len(calls)} calls: a map-like "
                "callable must return one result per item, in order"
            )
    else:
        import joblib  # only when a batch runs in parallel

        # never more processes than tasks: workers=64 on a batch of 3 starts 3
        n_jobs = workers if workers == -1 else min(workers, len(tasks))
        chunks = _chunks(tasks, CHUNKS_PER_WORKER * joblib.effective_n_jobs(n_jobs))
        outputs = joblib.Parallel(n_jobs=n_jobs)(
            joblib.delayed(_run_chunk)((function, chunk, shared, origin)) for chunk in chunks
        )
    return [result for output in outputs for result in output]


def _chunks(tasks: list, count: int) -> list[list]:
    """``tasks`` cut into at most ``count`` contiguous chunks of near-equal length."""
    count = max(1, min(count, len(tasks)))
    size, extra = divmod(len(tasks), count)
    bounds = [k * size + min(k, extra) for k in range(count + 1)]
    return [tasks[bounds[k] : bounds[k + 1]] for k in range(count)]


def _run_chunk(call: tuple) -> list:
    function, chunk, shared, origin = call
    if (os.getpid(), threading.get_ident()) == origin:  # the builtin map: no cap needed
        return [function(task, *shared) for task in chunk]
    import numba

    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        return [function(task, *shared) for task in chunk]
    finally:
        numba.set_num_threads(previous)
