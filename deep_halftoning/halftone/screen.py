"""Amplitude-modulated (AM) screening, as a print shop's RIP does it.

Each ink gets its own screen: a lattice of dots at an angle, with a ruling in
lines per inch (lpi) at the output resolution (dpi). Dots grow from a spot
function (round, elliptical, square or line). Every output pixel is sampled
on an ``s x s`` sub-grid and area-averaged, so with ``s > 1`` the result is
continuous-valued like a scan of the print; ``s = 1`` gives the binary
film/plate itself.

Screen coordinates are computed in 32.32 fixed point, so the numba kernel here
and the torch version in :mod:`.torch_ops` agree bit for bit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numba import njit

from ._parallel import parallel_map, row_chunks
from .ordered import cell_coords, rank_cells

DOT_SHAPES = ("round", "elliptical", "square", "line")
#: Classic screen angles in degrees, in ink order C, M, Y, K.
DEFAULT_ANGLES = (15.0, 75.0, 0.0, 45.0)
CELL_BITS = 6  # the spot function is ranked on a 64 x 64 grid per screen cell
FRACTION_BITS = 32
MAX_SUPERSAMPLE = 8  # s * s sub-samples must fit one 64-bit mask


def spot_function(dot: str, size: int) -> np.ndarray:
    """Spot function values on a ``size x size`` cell; the dot grows from the largest."""
    v, u = cell_coords(size)
    x, y = 2 * np.pi * u, 2 * np.pi * v
    if dot == "round":
        return np.cos(x) + np.cos(y)
    if dot == "elliptical":
        return np.cos(x) + 0.6 * np.cos(y)
    if dot == "square":
        return -np.maximum(np.abs(u), np.abs(v))
    if dot == "line":
        return np.cos(x)
    raise ValueError(f"unknown dot shape {dot!r}; choose from {DOT_SHAPES}")


def cell_thresholds(dot: str = "round", bits: int = CELL_BITS) -> np.ndarray:
    """Flattened ``(2**bits)**2`` float32 thresholds of one screen cell (tone-linear ranks)."""
    size = 1 << bits
    ranks = rank_cells(spot_function(dot, size))
    return ((ranks.ravel() + 0.5) / ranks.size).astype(np.float32)


@dataclass(frozen=True)
class ScreenGeometry:
    """Fixed-point steps of one ink's screen coordinates per sub-sample.

    ``u = gx * ux + gy * uy + u0`` (and ``v`` alike) for sub-sample ``(gx, gy)``,
    in units of ``2**-32`` screen cells.
    """

    ux: int
    uy: int
    vx: int
    vy: int
    u0: int
    v0: int

    @classmethod
    def make(cls, angle: float, period: float, supersample: int) -> ScreenGeometry:
        scale = float(1 << FRACTION_BITS) / (period * supersample)
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        ux, uy, vx, vy = (round(c * scale), round(s * scale), round(-s * scale), round(c * scale))
        return cls(ux, uy, vx, vy, (ux + uy) >> 1, (vx + vy) >> 1)


def screen_period(lpi: float, dpi: float) -> float:
    """Screen period in pixels for a ruling of ``lpi`` printed at ``dpi``."""
    if lpi <= 0 or dpi <= 0:
        raise ValueError(f"lpi and dpi must be positive, got lpi={lpi}, dpi={dpi}")
    period = dpi / lpi
    if period < 1.0:
        raise ValueError(f"the ruling ({lpi} lpi) must not exceed the resolution ({dpi} dpi)")
    return period


@njit(cache=True, nogil=True, boundscheck=False)
def _sample_row(vals, cell, ub, ux, vb, vx, bits, hit, ink_sum):  # pragma: no cover - compiled
    """Which sub-samples of one sub-row an ink covers; adds them to ``ink_sum``."""
    shift = np.uint64(32 - bits)
    cmask = np.uint64((1 << bits) - 1)
    ubits = np.uint64(bits)
    for g in range(vals.shape[0]):
        u = ub + np.uint64(g) * ux
        v = vb + np.uint64(g) * vx
        hit[g] = np.uint8(vals[g] > cell[(((u >> shift) & cmask) << ubits) | ((v >> shift) & cmask)])
    for g in range(vals.shape[0]):
        ink_sum[g] += hit[g]


@njit(cache=True, nogil=True, boundscheck=False)
def _screen_rows(inks, cell, steps, bits, s, black, coverage, image, start, stop):  # pragma: no cover
    """Screen output rows ``start:stop`` and area-average their ``s x s`` sub-samples.

    Ink ``c < image.shape[2]`` darkens output channel ``c``; when ``black`` is
    set, the last ink darkens every channel (K in CMYK, the only ink in grey).
    """
    height, width, n_inks = inks.shape
    n_out = image.shape[2]
    n_colour = n_inks - 1 if black else n_inks
    samples = width * s
    inv = np.float32(1.0 / (s * s))
    values = np.empty((n_inks, samples), np.float32)
    hits = np.zeros((n_inks, samples), np.uint8)
    ink_sum = np.empty((n_inks, samples), np.uint8)
    white_sum = np.empty((n_out, samples), np.uint8)
    last = n_inks - 1
    for y in range(start, stop):
        for k in range(n_inks):
            for x in range(width):
                for i in range(s):
                    values[k, x * s + i] = inks[y, x, k]
        ink_sum[:] = 0
        white_sum[:] = 0
        for j in range(s):
            gy = np.uint64(y * s + j)
            for k in range(n_inks):
                ub = steps[k, 4] + gy * steps[k, 1]
                vb = steps[k, 5] + gy * steps[k, 3]
                _sample_row(values[k], cell, ub, steps[k, 0], vb, steps[k, 2], bits, hits[k], ink_sum[k])
            for c in range(n_out):
                white = white_sum[c]
                if c < n_colour and black:
                    own, key = hits[c], hits[last]
                    for g in range(samples):
                        white[g] += np.uint8(1) - (own[g] | key[g])
                else:
                    own = hits[c] if c < n_colour else hits[last]
                    for g in range(samples):
                        white[g] += np.uint8(1) - own[g]
        for x in range(width):
            for k in range(n_inks):
                total = 0
                for i in range(s):
                    total += ink_sum[k, x * s + i]
                coverage[y, x, k] = np.float32(total) * inv
            for c in range(n_out):
                total = 0
                for i in range(s):
                    total += white_sum[c, x * s + i]
                image[y, x, c] = np.float32(total) * inv


def am_screen(
    inks: np.ndarray,
    angles: Sequence[float],
    lpi: float = 150.0,
    dpi: float = 600.0,
    dot: str = "round",
    supersample: int = 4,
    threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Screen ``H x W x K`` ink coverage; return ``(image, coverage)``.

    Inks are C, M, Y, K (``K = 4``, RGB image), C, M, Y (``K = 3``, RGB image) or
    K alone (``K = 1``, grey image). The image is the reflectance of the paper
    per channel, the coverage the inked fraction of each pixel per ink, both
    area-averaged over ``supersample**2`` sub-samples.
    """
    if inks.ndim != 3 or inks.shape[2] not in (1, 3, 4):
        raise ValueError(f"inks must be H x W x K with K in (1, 3, 4), got shape {inks.shape}")
    inks = np.ascontiguousarray(inks, dtype=np.float32)
    if len(angles) != inks.shape[2]:
        raise ValueError(f"need one angle per ink: {inks.shape[2]} inks, {len(angles)} angles")
    if not 1 <= supersample <= MAX_SUPERSAMPLE:
        raise ValueError(f"supersample must be in 1..{MAX_SUPERSAMPLE}, got {supersample}")
    period = screen_period(lpi, dpi)
    steps = screen_steps(angles, period, supersample)
    cell = cell_thresholds(dot)
    height, width, _ = inks.shape
    coverage = np.empty_like(inks)
    n_inks = inks.shape[2]
    image = np.empty((height, width, 1 if n_inks == 1 else 3), np.float32)
    parallel_map(
        lambda band: _screen_rows(inks, cell, steps, CELL_BITS, supersample, n_inks != 3, coverage, image, *band),
        row_chunks(height, threads),
        threads,
    )
    return image, coverage


def screen_steps(angles: Sequence[float], period: float, supersample: int) -> np.ndarray:
    """``K x 6`` uint64 fixed-point steps (ux, uy, vx, vy, u0, v0), one row per ink.

    Only the fraction of a screen coordinate matters, so everything is kept
    modulo ``2**32`` (unsigned wrap-around is exact modular arithmetic).
    """
    rows = [ScreenGeometry.make(float(a), period, supersample) for a in angles]
    table = np.array([[g.ux, g.uy, g.vx, g.vy, g.u0, g.v0] for g in rows], np.int64)
    return (table & 0xFFFFFFFF).astype(np.uint64)
