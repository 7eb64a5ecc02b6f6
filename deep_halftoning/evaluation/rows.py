"""The halftone rows of an evaluation: how each row halftones a clean photo, and what it is.

A row is one entry of :data:`ROWS`: a function ``make(clean, seed) -> halftone`` (float32 ``H x W x 3`` in [0, 1])
and the note that explains it in ``results.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from ..halftone import halftone
from ..halftone.scan import ScanSettings, simulate_scan
from .renderers.xgen_am import xgen_am

#: The scan simulation of the scanned package rows.
SCAN = ScanSettings(blur_sigma=0.6, paper_strength=0.015, noise_sigma=0.01, rotation=0.0, jpeg_quality=90)


def package_halftone(clean: np.ndarray, seed: int, *, method: str, scanned: bool = False, **params) -> np.ndarray:
    """``clean`` halftoned by the package's ``method`` (colour photos: the method's colour mode, RGB per
    channel for error diffusion and ordered dither, CMYK for AM), then scan-simulated when ``scanned``."""
    out = halftone(clean, method, **params).image
    return simulate_scan(out, SCAN, seed=seed) if scanned else out


@dataclass(frozen=True)
class Row:
    """One halftone row: ``make(clean, seed)`` gives the halftone of a clean photo; ``note`` says what it is;
    ``target(clean)``, when given, is what a descreener should return (else the photo itself)."""

    make: Callable[[np.ndarray, int], np.ndarray]
    note: str
    target: Callable[[np.ndarray], np.ndarray] | None = None


#: row name -> :class:`Row`, in table order
ROWS: dict[str, Row] = {
    "floyd-steinberg": Row(
        partial(package_halftone, method="floyd-steinberg"),
        "Floyd-Steinberg error diffusion, each RGB channel on its own (raster scan)",
    ),
    "jarvis": Row(
        partial(package_halftone, method="jarvis-judice-ninke"),
        "Jarvis-Judice-Ninke error diffusion, each RGB channel on its own",
    ),
    "bayer-8": Row(
        partial(package_halftone, method="bayer-8"), "8 x 8 Bayer ordered dither, each RGB channel on its own"
    ),
    "am-cmyk+scan": Row(
        partial(package_halftone, method="am-cmyk", scanned=True, lpi=120.0, dpi=600.0),
        "the package's AM CMYK screen (120 lpi at 600 dpi, round dots) + scan simulation: the training family",
    ),
    "am-xgen+scan": Row(
        xgen_am,
        "cross-generator AM print and scan (deep_halftoning/evaluation/renderers/xgen_am.py: diamond dots, "
        "150 lpi at 600 dpi, Yule-Nielsen dot gain, 16-primary Neugebauer inks, GCR, scanned at 1/1.25): "
        "no training pair uses it",
    ),
}


#: Screen periods (pixels of the scan) of the per-period rows: cross-generator AM prints with ideal inks.
PERIODS = (3, 4, 6, 8, 10)
#: The period the per-period rows are printed at, before the print and the photo are enlarged together.
BASE_PERIOD = 3


def _resized(image: np.ndarray, size: tuple[int, int], smaller: bool) -> np.ndarray:
    interpolation = cv2.INTER_AREA if smaller else cv2.INTER_CUBIC
    return np.clip(cv2.resize(image, size, interpolation=interpolation), 0.0, 1.0).astype(np.float32)


def at_base_period(clean: np.ndarray, period: float) -> np.ndarray:
    """The photo shrunk so that a print of it at :data:`BASE_PERIOD` enlarges to ``period`` at its size."""
    h, w = clean.shape[:2]
    size = (max(1, round(w * BASE_PERIOD / period)), max(1, round(h * BASE_PERIOD / period)))
    return clean if period == BASE_PERIOD else _resized(clean, size, period > BASE_PERIOD)


def _at_period(image: np.ndarray, clean: np.ndarray, period: float) -> np.ndarray:
    """``image`` (at :data:`BASE_PERIOD`) brought back to the size of ``clean``, where its screen is ``period``."""
    return image if period == BASE_PERIOD else _resized(image, clean.shape[1::-1], period < BASE_PERIOD)


def ideal_xgen(clean: np.ndarray, seed: int, *, period: float) -> np.ndarray:
    """The cross-generator AM print and scan with ideal inks on white paper (its contone is the photo, so the
    row measures screen removal alone) at a screen of ``period`` pixels: printed at :data:`BASE_PERIOD` px and
    enlarged with the photo (:func:`ideal_target`), so every period sees the same detail per screen cell."""
    dpi, scan_scale = 600.0, 1.25
    base = at_base_period(clean, period)
    printed = xgen_am(base, seed, lpi=dpi / (BASE_PERIOD * scan_scale), dpi=dpi, scan_scale=scan_scale, inks="ideal")
    return _at_period(printed, clean, period)


def ideal_target(clean: np.ndarray, *, period: float) -> np.ndarray:
    """What :func:`ideal_xgen` printed: the photo through the same shrinking and enlarging."""
    return _at_period(at_base_period(clean, period), clean, period)


for _period in PERIODS:
    ROWS[f"am-ideal-{_period}px"] = Row(
        partial(ideal_xgen, period=_period),
        f"cross-generator AM print and scan as am-xgen+scan, with ideal inks on white paper (the contone is the "
        f"photo: screen removal alone), printed at {BASE_PERIOD} px and enlarged with the photo to a "
        f"{_period} px screen (the photo enlarged the same way is the target)",
        partial(ideal_target, period=_period),
    )
#: The rows an evaluation runs unless told otherwise: every kind of halftone once, the ideal-ink AM at 6 px.
DEFAULT_ROWS = [name for name in ROWS if not name.startswith("am-ideal-")] + ["am-ideal-6px"]


def make_halftone(clean: np.ndarray, name: str, seed: int) -> np.ndarray:
    """The halftone of row ``name`` of ``clean``."""
    return ROWS[name].make(clean, seed)


def row_target(clean: np.ndarray, name: str) -> np.ndarray:
    """What a descreener should return for row ``name``'s halftone of ``clean``."""
    target = ROWS[name].target
    return clean if target is None else target(clean)
