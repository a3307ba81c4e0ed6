"""The thread and device policy: how many processes, how many threads each, and which device,
decided here only.

- **Extraction and embedding** (decoding, statistics, musicnn, e5) run one item at a time in
  each of ``workers`` processes (default: one per core), and every worker process uses exactly
  one thread for BLAS, OpenMP and PyTorch intra-op work (`worker_setup`). More threads per
  process only make them compete for the same cores, and a fixed count of one keeps the
  floats identical wherever a track is computed (local pool, in-process, Dask worker).
- **In this process** (one worker, a handful of items, the GPU path): the same single thread,
  for the duration only (`single_thread`).
- **Training and encoding** the representations run in the main process with one PyTorch
  intra-op thread (`TRAINING_THREADS`): the models are small, so a second thread gains
  nothing when the machine is idle (VAE on 1 000 × 57: 7.1 s with 2 threads, 7.0 s with 1)
  and, because OpenMP threads spin while they wait, loses 3× as soon as another process
  wants a core (20.3 s against 6.7 s, measured with one busy process on 2 cores).
- **Allocator**: PyTorch's convolution outputs are megabytes each. glibc returns such blocks
  to the kernel when they are freed and maps them again, zero-filled, on the next forward
  (about 30 000 page faults and more system than user time per musicnn patch at batch 10).
  Worker processes keep freed memory for reuse (`guard_allocator`), and musicnn runs one
  patch per forward, whose outputs stay under glibc's 32 MiB mmap ceiling.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from threadpoolctl import threadpool_limits

TRAINING_THREADS = 1
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# glibc mallopt parameters and values: keep blocks up to the 32 MiB ceiling on the heap, and
# do not give freed heap memory back to the kernel below 512 MiB
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_MMAP_THRESHOLD, _TRIM_THRESHOLD = 32 << 20, 512 << 20


def _torch_threads(count: int) -> int | None:
    """Set PyTorch's intra-op threads when PyTorch is loaded; the previous count, else None."""
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    return previous


def guard_allocator() -> bool:
    """Keep large freed blocks in the process (glibc only; elsewhere nothing to do).
    Returns whether the setting was applied."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD)) and bool(
        libc.mallopt(_M_TRIM_THRESHOLD, _TRIM_THRESHOLD))


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) in this thread while worker processes are forked: one that arrives
    inside ``fork``'s own handlers (logging's ``_releaseLock``) would be printed as "Exception
    ignored" and lost, and the run would go on. A Ctrl-C held here is raised when the forks are
    done. The workers start with it held too: `worker_setup` lets it through again."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def worker_setup() -> None:
    """Set-up of a worker process, once: Ctrl-C let through (`interrupts_held`), one thread for
    every library, now and for those imported later, and the allocator guard."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    for variable in _THREAD_VARIABLES:
        os.environ[variable] = "1"
    threadpool_limits(1)
    _torch_threads(1)
    guard_allocator()


@contextmanager
def single_thread() -> Iterator[None]:
    """One BLAS/OpenMP/PyTorch thread in this process for the duration."""
    with threadpool_limits(1):
        previous = _torch_threads(1)
        try:
            yield
        finally:
            if previous is not None:
                _torch_threads(previous)


@contextmanager
def training_threads() -> Iterator[None]:
    """`TRAINING_THREADS` PyTorch threads in this process for the duration."""
    import torch  # training needs it anyway

    previous = torch.get_num_threads()
    torch.set_num_threads(TRAINING_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def choose_device(setting: str) -> str:
    """Where PyTorch work runs: ``auto`` is ``cuda`` when a CUDA device is available, else
    ``cpu``; ``cuda`` without one is an error that says so."""
    import torch

    if setting == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if setting.startswith("cuda") and not torch.cuda.is_available():
        from songscape.config import ConfigError  # the config imports what runs in threads

        raise ConfigError(f"device: '{setting}' asked for, but PyTorch sees no CUDA device here; "
                          "use device: auto or cpu")
    return setting
