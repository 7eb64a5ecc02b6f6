"""Descreening and rescreening of scans: the trained pipeline, classical baselines, screen detection."""

from .baselines import BASELINES, descreen_baseline, fft_descreen, gaussian, median
from .descreener import Descreener, load_pipeline, pick_device
from .detect import Screen, ScreenAnalysis, analyse
from .tiling import tiled_apply

__all__ = [
    "BASELINES",
    "Descreener",
    "Screen",
    "ScreenAnalysis",
    "analyse",
    "descreen_baseline",
    "fft_descreen",
    "gaussian",
    "load_pipeline",
    "median",
    "pick_device",
    "tiled_apply",
]
