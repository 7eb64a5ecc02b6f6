"""Run independent jobs on a small thread pool.

Our numba kernels release the GIL (``nogil=True``), so plain threads use every
core without the cost of processes and without numba's threading layer (which
must not be entered from several threads at once).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def default_threads() -> int:
    """Cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS / Windows
        return max(1, os.cpu_count() or 1)


def parallel_map(fn: Callable[[T], R], items: Sequence[T], threads: int | None = None) -> list[R]:
    """``[fn(x) for x in items]``, spread over ``threads`` threads (default: all cores)."""
    threads = default_threads() if threads is None else threads
    if threads <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(threads, len(items))) as pool:
        return list(pool.map(fn, items))


def row_chunks(height: int, threads: int | None = None) -> list[tuple[int, int]]:
    """Split ``range(height)`` into contiguous ``(start, stop)`` bands, one or more per thread."""
    threads = default_threads() if threads is None else threads
    parts = max(1, min(height, threads * 2 if threads > 1 else 1))
    bounds = [round(i * height / parts) for i in range(parts + 1)]
    return [(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True) if b > a]
