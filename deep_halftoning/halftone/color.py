"""Colour conversions between RGB, grey and CMYK ink coverage (all float32 in [0, 1])."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

#: Rec. 601 luma weights, as Pillow and OpenCV use for RGB -> grey.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luma (Rec. 601) of an ``H x W x 3`` RGB image (summed in a fixed order, as the torch path)."""
    rgb = np.asarray(rgb, np.float32)
    return (rgb[..., 0] * LUMA[0] + rgb[..., 1] * LUMA[1] + rgb[..., 2] * LUMA[2]).astype(np.float32)


def cmyk_planes(rgb: np.ndarray, ucr: float = 1.0) -> list[np.ndarray]:
    """C, M, Y, K coverage of an ``H x W x 3`` RGB image as four contiguous ``H x W`` planes.

    The grey component ``1 - max(R, G, B)`` is moved to black in proportion
    ``ucr`` (under-colour removal: 1 is the classic ``K = 1 - max(R, G, B)``,
    0 prints with CMY only). :func:`cmyk_to_rgb` inverts it for any ``ucr``.
    """
    return list(_separated(rgb, ucr, planar=True))


def _separated(rgb: np.ndarray, ucr: float, planar: bool) -> np.ndarray:
    """CMYK coverage as ``4 x H x W`` (``planar``) or ``H x W x 4``, written in one pass either way."""
    if not 0.0 <= ucr <= 1.0:
        raise ValueError(f"ucr must be in [0, 1], got {ucr}")
    rgb = np.ascontiguousarray(rgb, np.float32)
    out = np.empty((4, *rgb.shape[:2]) if planar else (*rgb.shape[:2], 4), np.float32)
    _separate(rgb, np.float32(ucr), out if planar else out.transpose(2, 0, 1))
    return out


@njit(cache=True, nogil=True)
def _separate(rgb: np.ndarray, ucr: np.float32, planes: np.ndarray) -> None:
    """One pass of :func:`cmyk_planes` in float32, operation for operation as the torch path does it."""
    one, zero = np.float32(1.0), np.float32(0.0)
    for y in range(rgb.shape[0]):
        for x in range(rgb.shape[1]):
            k = ucr * (one - max(max(rgb[y, x, 0], rgb[y, x, 1]), rgb[y, x, 2]))
            white = one - k
            for i in range(3):
                c = (white - rgb[y, x, i]) / white if white > zero else zero
                planes[i, y, x] = min(max(c, zero), one)
            planes[3, y, x] = min(max(k, zero), one)


def rgb_to_cmyk(rgb: np.ndarray, ucr: float = 1.0) -> np.ndarray:
    """Separate RGB into ``H x W x 4`` CMYK ink coverage (see :func:`cmyk_planes`)."""
    return _separated(rgb, ucr, planar=False)


def cmyk_planes_to_rgb(planes: Sequence[np.ndarray]) -> np.ndarray:
    """Subtractive rendering of C, M, Y, K planes to ``H x W x 3``: ``R = (1 - C)(1 - K)`` and so on."""
    key = np.float32(1.0) - planes[3]
    return np.stack([(np.float32(1.0) - planes[i]) * key for i in range(3)], axis=-1)


def cmyk_to_rgb(cmyk: np.ndarray) -> np.ndarray:
    """Subtractive rendering of ``H x W x 4`` CMYK coverage to RGB."""
    cmyk = np.asarray(cmyk, np.float32)
    return cmyk_planes_to_rgb([cmyk[..., i] for i in range(4)])
