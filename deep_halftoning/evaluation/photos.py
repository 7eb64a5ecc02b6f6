"""The clean photos an evaluation halftones: which ones, read how, named how."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ..data.sources import folder_records, holdout_records
from ..io import read_image


def evaluation_images(folder: Path | None) -> list[Path]:
    """The photos of ``folder``, or without one the held-out photos (:func:`holdout_records`, never trained on);
    raises :class:`FileNotFoundError` for a missing folder or package."""
    records = folder_records(folder) if folder else holdout_records()
    return [r.image for r in records]


def read_photo(path: Path, max_side: int) -> np.ndarray:
    """A clean photo as float32 ``H x W x 3`` (grey repeated), shrunk to ``max_side``."""
    clean = read_image(path, max_side=max_side)
    return np.repeat(clean[..., None], 3, axis=2) if clean.ndim == 2 else clean


def photo_names(images: Sequence[Path]) -> list[str]:
    """Short unique names of ``images``: their stems, or their paths where stems repeat."""
    stems = [p.stem for p in images]
    return stems if len(set(stems)) == len(stems) else [str(p) for p in images]
