"""Amplitude-modulated (AM) screening, as a print shop's RIP does it.

Each ink gets its own screen: a lattice of dots at an angle, with a ruling in
lines per inch (lpi) at the output resolution (dpi). Dots grow from a spot
function (round, elliptical, square or line): a sub-sample is inked where the
spot function exceeds the level that gives the pixel's ink coverage, levels
taken from the spot function's own distribution so tone is reproduced
linearly. Every output pixel is sampled on an ``s x s`` sub-grid and
area-averaged, so with ``s > 1`` the result is continuous-valued like a scan of
the print; ``s = 1`` gives the binary film/plate itself.

A transfer curve per ink (``gammas``: coverage ``c`` is screened as ``c ** gamma``,
dot gain or loss) is folded into the spot levels of the 4096 coverage levels, so
it costs nothing per pixel. A plate can be moved by a sub-pixel offset
(misregistration): its screen phase moves exactly, in the fixed-point origin,
and its coverage plane moves with it by bilinear interpolation, so the dots and
the picture they draw stay together.

Screen coordinates are 32-bit fixed-point fractions of a screen cell, and the
spot functions use only exactly reproducible float32 steps, so the numba kernel
here and the torch version in :mod:`.torch_ops` agree bit for bit. The inner
loops have no table lookups and vectorise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numba import njit

from ._parallel import parallel_map, row_chunks

DOT_SHAPES = ("round", "elliptical", "square", "line")
#: Classic screen angles in degrees, in ink order C, M, Y, K.
DEFAULT_ANGLES = (15.0, 75.0, 0.0, 45.0)
MAX_SUPERSAMPLE = 8  # up to 64 sub-samples per pixel and ink (counted in uint8)
#: Coverage is quantised to this many levels per ink (12 bits).
LEVELS = 4096
#: Weight of the second axis in ``wave(u) + weight * wave(v)`` per dot shape (square is separate).
AXIS_WEIGHT = {"round": 1.0, "elliptical": 0.6, "line": 0.0}
#: A 32-bit cell fraction shifted right by 8 bits, times this, is a float32 in [0, 1).
COORD_SCALE = 2.0**-24


def wave(t: np.ndarray) -> np.ndarray:
    """A cosine-like profile over one cell, ``t`` in [-0.5, 0.5): 1 at the centre, -1 at the edge.

    Two parabolas joined at ``|t| = 1/4``; float32 throughout, exactly as the kernels compute it.
    """
    a = np.abs(np.asarray(t, np.float32))
    b = np.float32(0.5) - a
    return np.where(
        a <= np.float32(0.25), np.float32(1.0) - np.float32(16.0) * a * a, np.float32(16.0) * b * b - np.float32(1.0)
    ).astype(np.float32)


def spot_function(dot: str, tu: np.ndarray, tv: np.ndarray) -> np.ndarray:
    """Spot value at cell coordinates ``(tu, tv)`` in [-0.5, 0.5); dots grow from the largest values."""
    tu, tv = np.asarray(tu, np.float32), np.asarray(tv, np.float32)
    if dot == "square":
        return -np.maximum(np.abs(tu), np.abs(tv))
    if dot not in AXIS_WEIGHT:
        raise ValueError(f"unknown dot shape {dot!r}; choose from {DOT_SHAPES}")
    return (wave(tu) + np.float32(AXIS_WEIGHT[dot]) * wave(tv)).astype(np.float32)


@lru_cache(maxsize=8)
def coverage_levels(dot: str = "round", grid: int = 1024) -> np.ndarray:
    """``LEVELS + 1`` spot levels: inking where ``spot > levels[i]`` covers ``i / LEVELS`` of a cell."""
    t = ((np.arange(grid) + 0.5) / grid - 0.5).astype(np.float32)
    values = np.sort(spot_function(dot, t[None, :], t[:, None]).ravel())[::-1]
    picks = np.round(np.arange(LEVELS + 1) * (values.size / LEVELS)).astype(np.int64)
    levels = np.concatenate([values, [-np.inf]])[picks].astype(np.float32)
    levels.setflags(write=False)
    return levels


@dataclass(frozen=True)
class ScreenGeometry:
    """Fixed-point steps of one ink's screen coordinates per sub-sample.

    ``u = gx * ux + gy * uy + u0 (mod 2**32)`` (and ``v`` alike) for sub-sample
    ``(gx, gy)``, in units of ``2**-32`` screen cells.
    """

    ux: int
    uy: int
    vx: int
    vy: int
    u0: int
    v0: int

    @classmethod
    def make(
        cls, angle: float, period: float, supersample: int, offset: tuple[float, float] = (0.0, 0.0)
    ) -> ScreenGeometry:
        """The screen at ``angle`` degrees with ``period`` pixels per cell, moved by ``offset``
        ``(dx, dy)`` pixels (the dots at ``p`` go to ``p + offset``)."""
        scale = float(1 << 32) / (period * supersample)
        c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        ux, uy, vx, vy = (round(c * scale), round(s * scale), round(-s * scale), round(c * scale))
        u0, v0 = (ux + uy) >> 1, (vx + vy) >> 1  # the centre of the first sub-sample
        dx, dy = offset
        if dx or dy:  # u(p) -> u(p - offset), in cells
            u0 -= round((c * dx + s * dy) * float(1 << 32) / period)
            v0 -= round((-s * dx + c * dy) * float(1 << 32) / period)
        return cls(*(x % (1 << 32) for x in (ux, uy, vx, vy, u0, v0)))


def screen_period(lpi: float, dpi: float) -> float:
    """Screen period in pixels for a ruling of ``lpi`` printed at ``dpi``."""
    if lpi <= 0 or dpi <= 0:
        raise ValueError(f"lpi and dpi must be positive, got lpi={lpi}, dpi={dpi}")
    period = dpi / lpi
    if period < 1.0:
        raise ValueError(f"the ruling ({lpi} lpi) must not exceed the resolution ({dpi} dpi)")
    return period


def screen_steps(
    angles: Sequence[float], period: float, supersample: int, offsets: np.ndarray | None = None
) -> np.ndarray:
    """``K x 6`` uint32 fixed-point steps (ux, uy, vx, vy, u0, v0), one row per ink;
    ``offsets`` (``K x 2``, pixels) move each ink's screen."""
    shifts = [(0.0, 0.0)] * len(angles) if offsets is None else [(float(x), float(y)) for x, y in offsets]
    rows = [ScreenGeometry.make(float(a), period, supersample, d) for a, d in zip(angles, shifts, strict=True)]
    return np.array([[g.ux, g.uy, g.vx, g.vy, g.u0, g.v0] for g in rows], np.uint32)


@njit(cache=True, nogil=True, inline="always")
def _wave(t):  # pragma: no cover - compiled
    a = abs(t)
    b = np.float32(0.5) - a
    if a <= np.float32(0.25):
        return np.float32(1.0) - np.float32(16.0) * a * a
    return np.float32(16.0) * b * b - np.float32(1.0)


@njit(cache=True, nogil=True, inline="always")
def _cell(u):  # pragma: no cover - compiled
    """A 32-bit cell fraction as float32 in [-0.5, 0.5) (exact: 24 significant bits)."""
    return np.float32(np.int32(u >> np.uint32(8))) * np.float32(COORD_SCALE) - np.float32(0.5)


@njit(cache=True, nogil=True, boundscheck=False)
def _sample_row(levels, ub, step_u, vb, step_v, weight, square, hit):  # pragma: no cover - compiled
    """``hit[x] = spot(x) > levels[x]`` for one sub-sample of every pixel in a row."""
    if square:
        for x in range(levels.shape[0]):
            tu = _cell(np.uint32(ub + np.uint32(x) * step_u))
            tv = _cell(np.uint32(vb + np.uint32(x) * step_v))
            hit[x] = -max(abs(tu), abs(tv)) > levels[x]
    else:
        for x in range(levels.shape[0]):
            tu = _cell(np.uint32(ub + np.uint32(x) * step_u))
            tv = _cell(np.uint32(vb + np.uint32(x) * step_v))
            hit[x] = _wave(tu) + weight * _wave(tv) > levels[x]


@njit(cache=True, nogil=True, boundscheck=False)
def _screen_rows(inks, table, steps, s, weight, square, black, coverage, image, start, stop):  # pragma: no cover
    """Screen output rows ``start:stop``, area-averaging ``s x s`` sub-samples per pixel
    (``table``: ``K x (LEVELS + 1)`` spot levels, one row per ink).

    Sub-samples are visited one ``(j, i)`` offset at a time across the whole row,
    so every inner loop is contiguous over pixels. Ink ``c < image.shape[2]``
    darkens output channel ``c``; when ``black`` is set, the last ink darkens
    every channel (K in CMYK, the only ink in grey).
    """
    height, width, n_inks = inks.shape
    n_out = image.shape[2]
    n_colour = n_inks - 1 if black else n_inks
    last = n_inks - 1
    inv = np.float32(1.0 / (s * s))
    levels = np.empty((n_inks, width), np.float32)
    hits = np.zeros((n_inks, width), np.uint8)
    ink_count = np.empty((n_inks, width), np.uint8)
    white_count = np.empty((n_out, width), np.uint8)
    for y in range(start, stop):
        for k in range(n_inks):
            for x in range(width):
                levels[k, x] = table[k, np.int64(inks[y, x, k] * np.float32(LEVELS) + np.float32(0.5))]
        ink_count[:] = 0
        white_count[:] = 0
        for j in range(s):
            gy = np.uint32(y * s + j)
            for i in range(s):
                for k in range(n_inks):
                    ux, uy, vx, vy = steps[k, 0], steps[k, 1], steps[k, 2], steps[k, 3]
                    ub = np.uint32(steps[k, 4] + gy * uy + np.uint32(i) * ux)
                    vb = np.uint32(steps[k, 5] + gy * vy + np.uint32(i) * vx)
                    hit = hits[k]
                    _sample_row(levels[k], ub, np.uint32(s * ux), vb, np.uint32(s * vx), weight, square, hit)
                    count = ink_count[k]
                    for x in range(width):
                        count[x] += hit[x]
                for c in range(n_out):
                    white = white_count[c]
                    own = hits[c] if c < n_colour else hits[last]
                    if black and c < n_colour:
                        key = hits[last]
                        for x in range(width):
                            white[x] += np.uint8(1) - (own[x] | key[x])
                    else:
                        for x in range(width):
                            white[x] += np.uint8(1) - own[x]
        for x in range(width):
            for k in range(n_inks):
                coverage[y, x, k] = np.float32(ink_count[k, x]) * inv
            for c in range(n_out):
                image[y, x, c] = np.float32(white_count[c, x]) * inv


@lru_cache(maxsize=1)
def _log_levels() -> np.ndarray:
    """``log(i / LEVELS)`` for every coverage level, float32 (``-inf`` at 0: level 0 stays 0 for any gamma)."""
    with np.errstate(divide="ignore"):
        logs = np.log(np.arange(LEVELS + 1, dtype=np.float32) * np.float32(1.0 / LEVELS))
    logs.setflags(write=False)
    return logs


def tone_levels(levels: np.ndarray, gammas: Sequence[float]) -> np.ndarray:
    """``K x (LEVELS + 1)`` spot levels that screen coverage level ``i`` as ``(i / LEVELS) ** gamma_k``
    (rounded to the nearest level): a transfer curve per ink at no cost per pixel."""
    curves = np.exp(_log_levels()[None, :] * np.asarray(gammas, np.float32)[:, None])
    index = np.minimum((curves * np.float32(LEVELS) + np.float32(0.5)).astype(np.int64), LEVELS)
    return levels[index]


def am_screen(
    inks: np.ndarray,
    angles: Sequence[float],
    lpi: float = 150.0,
    dpi: float = 600.0,
    dot: str = "round",
    supersample: int = 4,
    threads: int | None = None,
    offsets: np.ndarray | None = None,
    gammas: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Screen ``H x W x K`` ink coverage; return ``(image, coverage)``.

    Inks are C, M, Y, K (``K = 4``, RGB image), C, M, Y (``K = 3``, RGB image) or
    K alone (``K = 1``, grey image). The image is the reflectance of the paper
    per channel, the coverage the inked fraction of each pixel per ink, both
    area-averaged over ``supersample**2`` sub-samples. ``offsets`` (``K x 2``,
    ``(dx, dy)`` pixels per ink, or ``None``) misregister the plates: each
    ink's screen and coverage move by its offset. ``gammas`` (one per ink, or
    ``None``) are transfer curves: ink ``k``'s coverage ``c`` prints as ``c ** gammas[k]``.
    """
    if inks.ndim != 3 or inks.shape[2] not in (1, 3, 4):
        raise ValueError(f"inks must be H x W x K with K in (1, 3, 4), got shape {inks.shape}")
    inks = np.ascontiguousarray(np.clip(inks, 0.0, 1.0), dtype=np.float32)
    if len(angles) != inks.shape[2]:
        raise ValueError(f"need one angle per ink: {inks.shape[2]} inks, {len(angles)} angles")
    if not 1 <= supersample <= MAX_SUPERSAMPLE:
        raise ValueError(f"supersample must be in 1..{MAX_SUPERSAMPLE}, got {supersample}")
    if offsets is not None:
        offsets = np.asarray(offsets, np.float64)
        if offsets.shape != (inks.shape[2], 2) or not np.isfinite(offsets).all():
            raise ValueError(f"offsets must be finite, one (dx, dy) per ink: shape {(inks.shape[2], 2)}")
        if offsets.any():
            inks = shift_planes(inks, offsets)
        else:
            offsets = None
    steps = screen_steps(angles, screen_period(lpi, dpi), supersample, offsets)
    table = coverage_levels(dot)
    if gammas is not None and len(gammas) != inks.shape[2]:
        raise ValueError(f"need one gamma per ink: {inks.shape[2]} inks, {len(gammas)} gammas")
    if gammas is not None and not all(g > 0 and math.isfinite(g) for g in gammas):
        raise ValueError(f"gammas must be positive and finite, got {list(gammas)}")
    if gammas is None or all(g == 1 for g in gammas):
        tables = np.broadcast_to(table, (inks.shape[2], table.size))
    else:
        tables = tone_levels(table, gammas)
    weight = np.float32(AXIS_WEIGHT.get(dot, 0.0))
    height, width, n_inks = inks.shape
    coverage = np.empty_like(inks)
    image = np.empty((height, width, 1 if n_inks == 1 else 3), np.float32)
    parallel_map(
        lambda band: _screen_rows(
            inks, tables, steps, supersample, weight, dot == "square", n_inks != 3, coverage, image, *band
        ),
        row_chunks(height, threads),
        threads,
    )
    return image, coverage


def shift_planes(planes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """A copy of ``H x W x K`` float32 ``planes`` with plane ``k`` moved by ``offsets[k] = (dx, dy)``
    pixels (``out(p) = in(p - offset)``): bilinear, edges reflected (``cv2.warpAffine`` with
    ``INTER_LINEAR`` and ``BORDER_REFLECT`` does the same, 2.5x slower on four small planes)."""
    planes = np.ascontiguousarray(planes, np.float32)
    offsets = np.asarray(offsets, np.float64)
    if planes.ndim != 3 or offsets.shape != (planes.shape[2], 2):
        raise ValueError(f"need H x W x K planes and K x 2 offsets, got {planes.shape} and {offsets.shape}")
    return _shift_planes(planes, offsets, np.empty_like(planes))


@njit(cache=True, nogil=True, boundscheck=False)
def _reflected_taps(n, shift):  # pragma: no cover - compiled
    """Source indices ``(i0, i1)`` and the weight of ``i1`` for ``out[i] = in(i - shift)``, reflected."""
    base = math.floor(-shift)
    weight = np.float32(-shift - base)
    taps = np.empty((2, n), np.int64)
    period = 2 * n
    for i in range(n):
        for j in range(2):
            m = (i + base + j) % period
            taps[j, i] = period - 1 - m if m >= n else m
    return taps[0], taps[1], weight


@njit(cache=True, nogil=True, boundscheck=False)
def _shift_planes(planes, offsets, out):  # pragma: no cover - compiled
    height, width, n = planes.shape
    one = np.float32(1.0)
    for k in range(n):
        if offsets[k, 0] == 0 and offsets[k, 1] == 0:
            out[:, :, k] = planes[:, :, k]
            continue
        x0, x1, fx = _reflected_taps(width, offsets[k, 0])
        y0, y1, fy = _reflected_taps(height, offsets[k, 1])
        for y in range(height):
            a, b = y0[y], y1[y]
            for x in range(width):
                top = (one - fx) * planes[a, x0[x], k] + fx * planes[a, x1[x], k]
                bottom = (one - fx) * planes[b, x0[x], k] + fx * planes[b, x1[x], k]
                out[y, x, k] = (one - fy) * top + fy * bottom
    return out
