"""Training targets computed from the clean crop."""

from __future__ import annotations

import cv2
import numpy as np


def canny_edges(clean: np.ndarray, sigma: float = 1.0, low: float = 50.0, high: float = 150.0) -> np.ndarray:
    """Binary Canny edges (float32 0/1, ``H x W``) of a clean image, after a Gaussian blur of ``sigma``.

    Thresholds are on the 0-255 grey scale, as OpenCV expects.
    """
    u8 = cv2.convertScaleAbs(clean, alpha=255.0)  # rounds and saturates to uint8
    if u8.ndim == 3:
        u8 = cv2.cvtColor(u8, cv2.COLOR_RGB2GRAY)
    if sigma > 0:
        u8 = cv2.GaussianBlur(u8, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101)
    return (cv2.Canny(u8, low, high, L2gradient=True) > 0).astype(np.float32)
