"""Colour conversions between RGB, grey and CMYK ink coverage (all float32 in [0, 1])."""

from __future__ import annotations

import numpy as np

#: Rec. 601 luma weights, as Pillow and OpenCV use for RGB -> grey.
LUMA = np.array([0.299, 0.587, 0.114], np.float32)

#: For each printed ink, the RGB channels it absorbs (subtractive model).
CMYK_ABSORBS = {"C": (0,), "M": (1,), "Y": (2,), "K": (0, 1, 2)}


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """Luma (Rec. 601) of an ``H x W x 3`` RGB image (summed in a fixed order, as the torch path)."""
    rgb = np.asarray(rgb, np.float32)
    return (rgb[..., 0] * LUMA[0] + rgb[..., 1] * LUMA[1] + rgb[..., 2] * LUMA[2]).astype(np.float32)


def rgb_to_cmyk(rgb: np.ndarray, ucr: float = 1.0) -> np.ndarray:
    """Separate RGB into ``H x W x 4`` CMYK ink coverage.

    The grey component ``1 - max(R, G, B)`` is moved to black in proportion
    ``ucr`` (under-colour removal: 1 is the classic ``K = 1 - max(R, G, B)``,
    0 prints with CMY only). :func:`cmyk_to_rgb` inverts it for any ``ucr``.
    """
    if not 0.0 <= ucr <= 1.0:
        raise ValueError(f"ucr must be in [0, 1], got {ucr}")
    rgb = np.asarray(rgb, np.float32)
    k = np.float32(ucr) * (np.float32(1.0) - rgb.max(axis=-1))
    white = np.float32(1.0) - k
    safe = np.where(white > 0, white, np.float32(1.0))
    cmy = np.where(white[..., None] > 0, (white[..., None] - rgb) / safe[..., None], np.float32(0.0))
    return np.clip(np.concatenate([cmy, k[..., None]], axis=-1), 0.0, 1.0).astype(np.float32)


def cmyk_to_rgb(cmyk: np.ndarray) -> np.ndarray:
    """Subtractive rendering of CMYK coverage: ``R = (1 - C)(1 - K)`` and so on."""
    cmyk = np.asarray(cmyk, np.float32)
    paper = np.float32(1.0) - cmyk
    return (paper[..., :3] * paper[..., 3:4]).astype(np.float32)
