"""The benchmark page: photos laid out on an A4 sheet at 600 dpi, AM-screened and scanned."""

from __future__ import annotations

import cv2
import numpy as np

from ..data.sources import embedded_records
from ..halftone import halftone
from ..halftone.scan import ScanSettings, simulate_scan
from ..io import read_image

A4_600DPI = (7016, 4960)


def make_page(scale: float, lpi: float = 150.0) -> np.ndarray:
    """Photos laid out on a white page, screened at ``lpi`` (150: a 4 px period) at 600 dpi and scanned."""
    height, width = (round(s * scale) for s in A4_600DPI)
    page = np.ones((height, width, 3), np.float32)
    photos = [read_image(r.image) for r in embedded_records("train")]
    rows, cols, margin = 4, 2, round(200 * scale)
    cell_h, cell_w = (height - 2 * margin) // rows, (width - 2 * margin) // cols
    for i in range(rows * cols):
        photo = photos[i % len(photos)]
        photo = np.repeat(photo[..., None], 3, axis=2) if photo.ndim == 2 else photo
        y, x = margin + (i // cols) * cell_h, margin + (i % cols) * cell_w
        page[y : y + cell_h - 40, x : x + cell_w - 40] = cv2.resize(
            photo, (cell_w - 40, cell_h - 40), interpolation=cv2.INTER_CUBIC
        ).clip(0, 1)
    screened = halftone(page, "am-cmyk", lpi=lpi, dpi=600.0).image
    return simulate_scan(
        screened, ScanSettings(blur_sigma=0.6, paper_strength=0.01, noise_sigma=0.01, rotation=0.0, jpeg_quality=None)
    )
