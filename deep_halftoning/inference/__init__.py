"""Descreening and rescreening of scans: the trained pipeline, classical baselines, screen detection."""

from .baselines import BASELINES, descreen_baseline, fft_descreen, gaussian, median
from .descreener import Descreener, load_pipeline, pick_device
from .detect import Screen, ScreenAnalysis, analyse
from .shipped import ShippedCheckpointError, load_manifest, pack_checkpoint, shipped_checkpoint
from .tiling import tiled_apply

__all__ = [
    "BASELINES",
    "Descreener",
    "Screen",
    "ScreenAnalysis",
    "ShippedCheckpointError",
    "analyse",
    "descreen_baseline",
    "fft_descreen",
    "gaussian",
    "load_manifest",
    "load_pipeline",
    "median",
    "pack_checkpoint",
    "pick_device",
    "shipped_checkpoint",
    "tiled_apply",
]
