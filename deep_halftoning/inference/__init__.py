"""Descreening and rescreening of scans: the trained pipeline, classical baselines, screen detection.

The names load on first use, so that screen detection and the classical filters (NumPy and OpenCV) do
not pay for importing PyTorch.
"""

from __future__ import annotations

from ..lazy import lazy_names

#: Each public name and the module that defines it.
_HOMES = {
    "BASELINES": "baselines",
    "descreen_baseline": "baselines",
    "fft_descreen": "baselines",
    "gaussian": "baselines",
    "median": "baselines",
    "Descreener": "descreener",
    "ScaleChoice": "descreener",
    "load_pipeline": "descreener",
    "pick_device": "descreener",
    "Screen": "detect",
    "ScreenAnalysis": "detect",
    "analyse": "detect",
    "ShippedCheckpointError": "shipped",
    "load_manifest": "shipped",
    "pack_checkpoint": "shipped",
    "shipped_checkpoint": "shipped",
    "tiled_apply": "tiling",
}

__all__ = sorted(_HOMES)


__getattr__ = lazy_names(__name__, _HOMES, globals())
