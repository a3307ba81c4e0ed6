"""Where per-item work runs: a local process pool, this process, or a Dask cluster.

A runner maps a picklable top-level function over a list of items and yields the results in
item order, as they arrive, so callers can cache and stream each one. Audio tracks (decoding,
statistics, musicnn) and lyric batches (e5) use the same runners. Every worker process
follows the thread policy of `songscape.threads` (one thread each), so a result is the same
float for float wherever it was computed.

Dask (optional extra ``songscape[distributed]``): an existing scheduler (``tcp://HOST:PORT``)
or a local cluster of single-threaded worker processes on loopback started for the stage.
At most a few items per worker thread are in flight, so memory stays bounded. The workers
must see the audio files at the same paths as this process and have songscape installed.
Dask starts worker processes with ``MALLOC_TRIM_THRESHOLD_=65536``, which fixes glibc's mmap
threshold so every large array is a fresh mmap with page faults (extraction took twice the
CPU time); the local cluster unsets it; for workers of your own, set
``distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_: null`` in their Dask config.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from itertools import islice
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from songscape.threads import interrupts_held, single_thread, worker_setup

if TYPE_CHECKING:
    from songscape.config import DistributedConfig

T = TypeVar("T")
R = TypeVar("R")
POOL_MIN_ITEMS = 8  # fewer items run in this process: starting a pool costs more
JOBS_PER_THREAD = 4  # Dask futures in flight per worker thread
CONNECT_TIMEOUT_S = 20


class Runner(Protocol):
    """Runs ``function`` on every item and yields the results in item order; an item whose
    worker was lost yields ``failed(reason)`` instead of ending the stage."""

    def __call__(self, function: Callable[[T], R], items: list[T],
                 failed: Callable[[str], R]) -> Iterator[R]: ...


class DistributedError(RuntimeError):
    """The Dask cluster cannot be used; the message says why."""


def local_runner(workers: int | None = None) -> Runner:
    """Items on a local process pool of ``workers`` processes (default: one per core), or in
    this process when there is one worker or fewer than `POOL_MIN_ITEMS` items."""
    count = workers or os.cpu_count() or 1

    def run(function: Callable[[T], R], items: list[T], failed: Callable[[str], R]) -> Iterator[R]:
        if count == 1 or len(items) < POOL_MIN_ITEMS:
            with single_thread():
                yield from map(function, items)
            return
        with ProcessPoolExecutor(max_workers=min(count, len(items)), initializer=worker_setup) as pool:
            with interrupts_held():  # the workers are forked on the first submission
                results = pool.map(function, items)
            yield from results

    return run


def _client(stack: ExitStack, scheduler: str | None, workers: int | None, timeout_s: float) -> Any:
    """A client of ``scheduler``, or of a local cluster of ``workers`` single-threaded worker
    processes on loopback (closed with ``stack``)."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise DistributedError("a Dask cluster needs the optional extra: "
                               "pip install 'songscape[distributed]'") from None
    if scheduler:
        try:
            return stack.enter_context(Client(scheduler, timeout=timeout_s))
        except (OSError, TimeoutError) as error:
            raise DistributedError(f"cannot reach the Dask scheduler at {scheduler}: {error}") from None
    with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
        cluster = stack.enter_context(LocalCluster(n_workers=workers or 1, threads_per_worker=1,
                                                   processes=True, host="127.0.0.1",
                                                   dashboard_address=None))
    return stack.enter_context(Client(cluster))


_worker_ready = False


def _run_on_worker(function: Callable[[T], R], item: T) -> R:
    """``function(item)`` in a Dask worker process set up by the thread policy (once per
    process, as in the local pool, so the floats are the same)."""
    global _worker_ready
    if not _worker_ready:
        worker_setup()
        _worker_ready = True
    return function(item)


def _outcome(future: Any, failed: Callable[[str], R]) -> R:
    """A finished item's result; an item whose worker failed (crashed, lost) becomes
    ``failed(reason)``, never the end of the stage."""
    try:
        return future.result()
    except Exception as error:  # noqa: BLE001 — whatever the worker raised, this item fails alone
        return failed(f"Dask worker failed: {type(error).__name__}: {error}")


def dask_runner(scheduler: str | None = None, workers: int | None = None,
                timeout_s: float = CONNECT_TIMEOUT_S) -> Runner:
    """A runner on the Dask scheduler at ``scheduler`` (``tcp://HOST:PORT``, waiting at most
    ``timeout_s`` to connect), or on a local cluster of ``workers`` processes started for the
    stage and closed after it."""
    if not scheduler and not workers:
        raise DistributedError("give a scheduler address or a number of workers")

    def run(function: Callable[[T], R], items: list[T], failed: Callable[[str], R]) -> Iterator[R]:
        if not items:
            return
        with ExitStack() as stack:
            client = _client(stack, scheduler, workers, timeout_s)
            threads = max(1, sum(client.nthreads().values()))
            queue = iter(items)
            in_flight = deque(client.submit(_run_on_worker, function, item, pure=False)
                              for item in islice(queue, JOBS_PER_THREAD * threads))
            while in_flight:
                future = in_flight.popleft()
                following = next(queue, None)
                if following is not None:
                    in_flight.append(client.submit(_run_on_worker, function, following, pure=False))
                yield _outcome(future, failed)

    return run


def runner_for(distributed: DistributedConfig, workers: int | None = None) -> Runner:
    """The runner a run's settings ask for: Dask when a scheduler or a number of Dask workers
    is given, else the local pool of ``workers`` processes."""
    if distributed.scheduler or distributed.workers:
        return dask_runner(distributed.scheduler, distributed.workers)
    return local_runner(workers)
