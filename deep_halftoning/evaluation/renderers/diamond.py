"""A second AM renderer for the screen-detection grid: diamond ``|u| + |v|`` dots on one rotated square lattice
per ink, a gamma tone curve and its own share of grey-component replacement, vectorised NumPy, supersampled and
area-averaged. Its screen code is independent of :mod:`deep_halftoning.halftone.screen`; the CMYK separation is
the package's (:func:`~deep_halftoning.halftone.color.rgb_to_cmyk`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ...halftone.color import rgb_to_cmyk
from .xgen_am import diamond_level


def diamond_screen(
    rgb: np.ndarray,
    lpi: float,
    dpi: float,
    angles: Sequence[float],
    gamma: float = 0.8,
    gcr: float = 0.4,
    supersample: int = 4,
) -> np.ndarray:
    """Screen ``rgb`` with diamond dots on one rotated square lattice per ink (C, M, Y, K; a share ``gcr`` of
    the grey component printed in black), tone curve ``coverage**gamma``, rendered subtractively on an
    ``s x s`` sub-grid and area-averaged."""
    h, w = rgb.shape[:2]
    s = supersample
    period = dpi / lpi
    inks = rgb_to_cmyk(rgb, ucr=gcr) ** np.float32(gamma)
    sub = (np.arange(s, dtype=np.float32) + 0.5) / s
    ys = (np.arange(h, dtype=np.float32)[:, None] + sub[None, :]).reshape(-1)  # sub-sample rows
    xs = (np.arange(w, dtype=np.float32)[:, None] + sub[None, :]).reshape(-1)
    white = np.ones((h * s, w * s, 3), np.float32)
    for ink, angle in enumerate(angles):
        c, sn = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        u = (xs[None, :] * c + ys[:, None] * sn) / period
        v = (-xs[None, :] * sn + ys[:, None] * c) / period
        u -= np.floor(u) + 0.5
        v -= np.floor(v) + 0.5
        radius = np.repeat(np.repeat(diamond_level(inks[..., ink]), s, axis=0), s, axis=1)
        clear = (np.abs(u) + np.abs(v) >= radius).astype(np.float32)
        if ink == 3:
            white *= clear[..., None]
        else:
            white[..., ink] *= clear
    return white.reshape(h, s, w, s, 3).mean(axis=(1, 3))
