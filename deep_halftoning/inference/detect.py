"""What kind of halftone is this? Spectral analysis of a scan.

AM screens show sharp, isolated peaks in the power spectrum at the screen
frequency (four per screen, 90 degrees apart); error diffusion and dither put
broad energy at high frequencies; continuous-tone images concentrate their
energy at low frequencies.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import cv2
import numpy as np


@dataclass(frozen=True)
class Screen:
    """One AM screen: frequency (cycles per pixel), period, angle in [0, 90), spectral peak power relative
    to the strongest screen, and the ruling in lines per inch when the scan's ``dpi`` is known."""

    frequency: float
    period: float
    angle: float
    strength: float
    lpi: float | None = None


@dataclass(frozen=True)
class ScreenAnalysis:
    """``kind`` is ``am``, ``dispersed`` (error diffusion or dither) or ``continuous``."""

    kind: str
    high_frequency_share: float
    peak_ratio: float
    screens: list[Screen] = field(default_factory=list)
    dpi: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def _spectrum(gray: np.ndarray, size: int) -> np.ndarray:
    h, w = gray.shape
    n = min(size, h, w)
    n -= n % 2
    y, x = (h - n) // 2, (w - n) // 2
    patch = gray[y : y + n, x : x + n].astype(np.float64)
    patch = (patch - patch.mean()) * np.outer(np.hanning(n), np.hanning(n))
    return np.fft.fftshift(np.abs(np.fft.fft2(patch)) ** 2)


def _radius_grid(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    f = np.fft.fftshift(np.fft.fftfreq(n))
    fy, fx = np.meshgrid(f, f, indexing="ij")
    return fy, fx, np.hypot(fy, fx)


def _explained(
    vector: np.ndarray, strength: float, known: list[tuple[np.ndarray, float]], tolerance: float, order: int = 3
) -> bool:
    """Whether a peak is a harmonic of a known screen, or a moire term of two, and clearly weaker.

    Harmonics (``m u + n v``) and moire terms (``u_1 - u_2`` ...) are small integer combinations
    of at most two known screen vectors; a peak as strong as its parents is a screen of its own
    (with the classic 15/45/75 degree angles, one screen's fundamental is also a combination
    of the other two).
    """
    coefficients = range(-order, order + 1)
    for i, (a, sa) in enumerate(known):
        for b, sb in known[i:]:
            if strength >= 0.5 * min(sa, sb):
                continue
            for m in coefficients:
                for k in coefficients:
                    if (m or k) and np.linalg.norm(m * a + k * b - vector) < tolerance:
                        return True
    return False


def analyse(image: np.ndarray, dpi: float | None = None, size: int = 512, max_screens: int = 4) -> ScreenAnalysis:
    """Classify a scan and, for AM, estimate each dominant screen's frequency and angle."""
    if min(image.shape[:2]) < 32:
        raise ValueError(f"image too small to analyse ({image.shape[1]}x{image.shape[0]}); need 32 pixels or more")
    # colour: sum the channels' spectra, so a screen that shows in one channel only (yellow) still counts
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    power = sum(_spectrum(plane, size) for plane in planes)
    n = power.shape[0]
    fy, fx, radius = _radius_grid(n)
    usable = radius > 0.02
    total = power[usable].sum() + 1e-12
    high_share = float(power[radius > 0.25].sum() / total)
    # peaks: local maxima far above the median power at their own radius, plus the very strongest
    # local maxima (screens sharing one frequency inflate the median of their ring)
    ring = np.clip((radius * n).astype(int), 0, n)
    background = np.zeros(n + 1)
    for r in range(n + 1):
        values = power[ring == r]
        background[r] = np.median(values) if values.size else 0.0
    contrast = power / (background[ring] + 1e-12)
    power32 = power.astype(np.float32)  # compare in the dilation's own precision
    local_max = power32 >= cv2.dilate(power32, np.ones((5, 5), np.uint8))
    peaks_band = local_max & usable & (radius < 0.49) & (fy >= 0)
    loudest = float(power[peaks_band].max()) if peaks_band.any() else 0.0
    candidates = peaks_band & ((contrast > 50) | (power > 0.1 * loudest))
    peak_ratio = float(contrast[candidates].max()) if candidates.any() else 0.0
    top = float(power[candidates].max()) if candidates.any() else 0.0
    coords = np.argwhere(candidates & (power > 0.02 * top))
    coords = coords[np.argsort(power[coords[:, 0], coords[:, 1]])[::-1][:48]]  # the strongest few suffice
    # (frequency, fy, fx, power relative to the strongest peak)
    peaks = sorted((float(radius[y, x]), float(fy[y, x]), float(fx[y, x]), float(power[y, x] / top)) for y, x in coords)
    strongest = max(peaks, key=lambda p: p[3]) if peaks else None
    screens: list[Screen] = []
    known: list[tuple[np.ndarray, float]] = []
    tolerance = 2.5 / n  # frequency bins
    for freq, py, px, strength in peaks:  # lowest frequencies first: fundamentals before their harmonics
        vector = np.array([py, px])
        same_screen = any(min(np.linalg.norm(vector - k), np.linalg.norm(vector + k)) < tolerance for k, _ in known)
        if same_screen or _explained(vector, strength, known, tolerance):
            continue
        known += [(vector, strength), (np.array([vector[1], -vector[0]]), strength)]
        angle = float(np.degrees(np.arctan2(py, px)) % 90.0)
        screens.append(Screen(freq, 1.0 / freq, angle, strength, None if dpi is None else freq * dpi))
    screens = sorted(screens, key=lambda s: -s.strength)[:max_screens]
    if strongest is not None and peak_ratio > 400 * n / 512 and strongest[0] < 0.42 and high_share < 0.8:
        kind = "am"
    elif high_share > 0.2:
        kind, screens = "dispersed", []
    else:
        kind, screens = "continuous", []
    return ScreenAnalysis(kind, high_share, peak_ratio, screens, dpi)
