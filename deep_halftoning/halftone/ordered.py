"""Ordered dither: Bayer, clustered-dot, diagonal-dot and blue-noise threshold matrices.

A threshold matrix holds the ranks ``0 .. n-1`` of its cells; a pixel of value
``v`` is on where ``v > (rank + 0.5) / n`` for the matrix tiled over the image.
So a flat grey ``k / n`` switches on exactly ``k`` cells of each tile.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from ._parallel import parallel_map, row_chunks

_JIT = {"cache": True, "nogil": True, "boundscheck": False}


def bayer_matrix(size: int) -> np.ndarray:
    """Bayer's dispersed-dot index matrix, ``size`` a power of two (2 .. 256)."""
    if size < 2 or size & (size - 1) or size > 256:
        raise ValueError(f"Bayer matrix size must be a power of two in 2..256, got {size}")
    m = np.zeros((1, 1), np.int64)
    while m.shape[0] < size:
        m = np.block([[4 * m, 4 * m + 2], [4 * m + 3, 4 * m + 1]])
    return m


def rank_cells(values: np.ndarray) -> np.ndarray:
    """Ranks of ``values`` in descending order, ties broken by angle about the centre."""
    n = values.shape[0]
    v, u = cell_coords(n)
    order = np.lexsort((np.arctan2(v, u).ravel(), -np.round(values.ravel(), 9)))
    ranks = np.empty(n * n, np.int64)
    ranks[order] = np.arange(n * n)
    return ranks.reshape(n, n)


def cell_coords(size: int) -> tuple[np.ndarray, np.ndarray]:
    """``(v, u)`` coordinates in [-0.5, 0.5) of the cell centres of a ``size x size`` grid."""
    c = (np.arange(size) + 0.5) / size - 0.5
    return np.meshgrid(c, c, indexing="ij")


def clustered_dot_matrix(size: int = 8) -> np.ndarray:
    """Round clustered dot at 0 degrees: one dot per ``size x size`` cell, grown from its centre."""
    if size < 2:
        raise ValueError(f"clustered-dot size must be >= 2, got {size}")
    v, u = cell_coords(size)
    return rank_cells(np.cos(2 * np.pi * u) + np.cos(2 * np.pi * v))


def diagonal_dot_matrix(size: int = 8) -> np.ndarray:
    """Clustered dots on a 45-degree lattice: two dots per cell (centre and corners)."""
    if size < 2 or size % 2:
        raise ValueError(f"diagonal-dot size must be even and >= 2, got {size}")
    v, u = cell_coords(size)
    return rank_cells(np.cos(2 * np.pi * u) * np.cos(2 * np.pi * v))


@njit(cache=True)
def _void_and_cluster(initial, kernel):  # pragma: no cover - compiled
    n = initial.shape[0]
    pattern = initial.copy()
    energy = np.zeros((n, n))

    def splat(y, x, sign):
        for dy in range(n):
            for dx in range(n):
                energy[(y + dy) % n, (x + dx) % n] += sign * kernel[dy, dx]

    def extreme(want_ones, largest):
        best = -1
        for i in range(n * n):
            if pattern.flat[i] == want_ones and (
                best < 0
                or (largest and energy.flat[i] > energy.flat[best])
                or (not largest and energy.flat[i] < energy.flat[best])
            ):
                best = i
        return best // n, best % n

    for i in range(n * n):
        if pattern.flat[i]:
            splat(i // n, i % n, 1.0)
    # Phase 0: move minority pixels from the tightest cluster to the largest void.
    for _ in range(n * n):
        cy, cx = extreme(True, True)
        pattern[cy, cx] = False
        splat(cy, cx, -1.0)
        vy, vx = extreme(False, False)
        pattern[vy, vx] = True
        splat(vy, vx, 1.0)
        if vy == cy and vx == cx:
            break
    start = pattern.copy()
    start_energy = energy.copy()
    ones = int(pattern.sum())
    ranks = np.zeros((n, n), np.int64)
    # Phase 1: remove the tightest clusters of the start pattern, ranks ones-1 .. 0.
    for rank in range(ones - 1, -1, -1):
        cy, cx = extreme(True, True)
        pattern[cy, cx] = False
        splat(cy, cx, -1.0)
        ranks[cy, cx] = rank
    # Phases 2-3: fill the largest voids, ranks ones .. n*n-1.
    pattern[:] = start
    energy[:] = start_energy
    for rank in range(ones, n * n):
        vy, vx = extreme(False, False)
        pattern[vy, vx] = True
        splat(vy, vx, 1.0)
        ranks[vy, vx] = rank
    return ranks


@lru_cache(maxsize=16)
def blue_noise_matrix(size: int = 64, seed: int = 0, sigma: float = 1.5) -> np.ndarray:
    """Blue-noise threshold matrix by Ulichney's void-and-cluster method (generated once, cached).

    The result is read-only; it tiles seamlessly (the filter is toroidal).
    """
    if size < 4 or size > 256:
        raise ValueError(f"blue-noise size must be in 4..256, got {size}")
    d = np.minimum(np.arange(size), size - np.arange(size)).astype(np.float64)
    kernel = np.exp(-(d[:, None] ** 2 + d[None, :] ** 2) / (2.0 * sigma**2))
    rng = np.random.default_rng(seed)
    initial = np.zeros(size * size, bool)
    initial[rng.choice(size * size, max(1, size * size // 10), replace=False)] = True
    ranks = _void_and_cluster(initial.reshape(size, size), kernel)
    ranks.setflags(write=False)
    return ranks


def thresholds(ranks: np.ndarray) -> np.ndarray:
    """Threshold values ``(rank + 0.5) / n`` of an index matrix, float32."""
    return ((np.asarray(ranks, np.float64) + 0.5) / ranks.size).astype(np.float32)


@njit(**_JIT)
def _dither_rows(plane, out, tiled, start, stop):  # pragma: no cover - compiled
    period = tiled.shape[0]
    width = plane.shape[1]
    for y in range(start, stop):
        t = tiled[y % period]
        for x in range(width):
            out[y, x] = np.float32(1.0) if plane[y, x] > t[x] else np.float32(0.0)


def ordered_dither(
    plane: np.ndarray, ranks: np.ndarray, threads: int | None = None, out: np.ndarray | None = None
) -> np.ndarray:
    """Binary halftone of one ``H x W`` channel with the index matrix ``ranks`` tiled over it.

    ``out`` (float32, same shape) is reused when given: fresh memory costs more
    to fault in than the dither itself on large images.
    """
    plane = np.ascontiguousarray(plane, dtype=np.float32)
    if plane.ndim != 2:
        raise ValueError(f"ordered dither works on one H x W channel, got shape {plane.shape}")
    height, width = plane.shape
    t = thresholds(ranks)
    reps = -(-width // t.shape[1])
    tiled = np.ascontiguousarray(np.tile(t, (1, reps))[:, :width])
    if out is None:
        out = np.empty_like(plane)
    elif out.shape != plane.shape or out.dtype != np.float32 or not out.flags.c_contiguous:
        raise ValueError("out must be a C-contiguous float32 array shaped like the input")
    parallel_map(lambda band: _dither_rows(plane, out, tiled, *band), row_chunks(height, threads), threads)
    return out
