"""Classical descreening: what people do without a network, and the model-free fallback.

* ``gaussian``: a Gaussian low-pass whose width follows the detected screen period;
* ``median``: a median filter of about one screen period;
* ``fft``: removes the detected screen peaks (and their harmonics) from the spectrum,
  as GIMP users do by hand, then a gentle low-pass above the screen frequency.
"""

from __future__ import annotations

import cv2
import numpy as np

from .detect import ScreenAnalysis, analyse

BASELINES = ("gaussian", "median", "fft")


def _period(analysis: ScreenAnalysis) -> float:
    """The screen period in pixels, or a typical one for dispersed patterns (no fundamental)."""
    if analysis.kind == "am" and analysis.screens:
        return float(max(s.period for s in analysis.screens))
    return 3.0 if analysis.kind == "dispersed" else 1.0


def gaussian(image: np.ndarray, sigma: float | None = None, analysis: ScreenAnalysis | None = None) -> np.ndarray:
    """Gaussian blur; ``sigma`` defaults to 0.45 x the detected screen period."""
    if sigma is None:
        sigma = 0.45 * _period(analysis or analyse(image))
    out = cv2.GaussianBlur(
        np.ascontiguousarray(image, np.float32), (0, 0), sigmaX=max(sigma, 0.3), borderType=cv2.BORDER_REFLECT_101
    )
    return np.clip(out, 0.0, 1.0)


def median(image: np.ndarray, size: int | None = None, analysis: ScreenAnalysis | None = None) -> np.ndarray:
    """Median filter of odd ``size`` (default: about one screen period)."""
    if size is None:
        size = int(round(_period(analysis or analyse(image))))
    size = max(3, size | 1)
    u8 = np.clip(image * 255.0 + 0.5, 0, 255).astype(np.uint8)  # OpenCV's large medians need 8-bit data
    return cv2.medianBlur(u8, size).astype(np.float32) / 255.0


def fft_descreen(image: np.ndarray, analysis: ScreenAnalysis | None = None, notch_width: float = 0.012) -> np.ndarray:
    """Notch out the screen peaks and their harmonics, then low-pass softly above the screen frequency."""
    analysis = analysis or analyse(image)
    h, w = image.shape[:2]
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[None, :]
    radius = np.hypot(fy, fx)
    keep = np.ones((h, w), np.float64)
    if analysis.kind == "am" and analysis.screens:
        for screen in analysis.screens:
            a = np.radians(screen.angle)
            u = screen.frequency * np.array([np.sin(a), np.cos(a)])
            v = np.array([u[1], -u[0]])
            for m in range(-3, 4):
                for k in range(-3, 4):
                    if m == 0 and k == 0:
                        continue
                    cy, cx = m * u + k * v
                    keep *= 1.0 - np.exp(-((fy - cy) ** 2 + (fx - cx) ** 2) / (2 * notch_width**2))
        cutoff = 0.8 * min(s.frequency for s in analysis.screens)
    else:
        cutoff = 0.6 / _period(analysis)
    keep *= 1.0 / (1.0 + (radius / cutoff) ** 8)  # Butterworth low-pass, order 4
    channels = image[..., None] if image.ndim == 2 else image
    out = np.empty_like(channels, dtype=np.float32)
    for c in range(channels.shape[2]):
        out[..., c] = np.real(np.fft.ifft2(np.fft.fft2(channels[..., c]) * keep))
    out = out[..., 0] if image.ndim == 2 else out
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def descreen_baseline(image: np.ndarray, method: str, analysis: ScreenAnalysis | None = None) -> np.ndarray:
    """Descreen with one of :data:`BASELINES`, sharing one screen analysis."""
    analysis = analysis or analyse(image)
    if method == "gaussian":
        return gaussian(image, analysis=analysis)
    if method == "median":
        return median(image, analysis=analysis)
    if method == "fft":
        return fft_descreen(image, analysis)
    raise ValueError(f"unknown baseline {method!r}; choose from {BASELINES}")
