"""The halftone rows of an evaluation: how each row halftones a clean photo, and what it is.

A row is one entry of :data:`ROWS`: a function ``make(clean, seed) -> halftone`` (float32 ``H x W x 3`` in [0, 1])
and the note that explains it in ``results.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

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
    """One halftone row: ``make(clean, seed)`` gives the halftone of a clean photo; ``note`` says what it is."""

    make: Callable[[np.ndarray, int], np.ndarray]
    note: str


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


def ideal_xgen(clean: np.ndarray, seed: int, *, period: float) -> np.ndarray:
    """The cross-generator AM print and scan of ``clean`` with ideal inks on white paper (its contone is the
    photo, so the row measures screen removal alone), at a screen of ``period`` scan pixels."""
    dpi, scan_scale = 600.0, 1.25
    return xgen_am(clean, seed, lpi=dpi / (period * scan_scale), dpi=dpi, scan_scale=scan_scale, inks="ideal")


for _period in PERIODS:
    ROWS[f"am-ideal-{_period}px"] = Row(
        partial(ideal_xgen, period=_period),
        f"cross-generator AM print and scan as am-xgen+scan, with ideal inks on white paper (the contone is the "
        f"photo: screen removal alone), screen period {_period} px",
    )
#: The rows an evaluation runs unless told otherwise: every kind of halftone once, the ideal-ink AM at 6 px.
DEFAULT_ROWS = [name for name in ROWS if not name.startswith("am-ideal-")] + ["am-ideal-6px"]


def make_halftone(clean: np.ndarray, name: str, seed: int) -> np.ndarray:
    """The halftone of row ``name`` of ``clean``."""
    return ROWS[name].make(clean, seed)
