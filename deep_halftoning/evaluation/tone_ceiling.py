"""How much of each row's error is tone and colour, not the screen: oracle bounds of PSNR against the clean photo.

For every photo and halftone row (:data:`~deep_halftoning.evaluation.rows.ROWS`), the PSNR of

* ``gaussian``: the tuned Gaussian baseline (the best classical filter of every row);
* ``gaussian + colour fit``: that result after the affine colour map (3 x 3 matrix and offset) that fits
  it best to the clean photo, an oracle that knows the answer: what a global tone and colour correction
  alone could add to the Gaussian;
* ``print's tone, clean detail``: the clean photo with its low frequencies replaced by the halftone's
  (``clean + G(halftone) - G(clean)``, ``G`` a Gaussian of ``sigma`` pixels): a descreener that removed
  the screen perfectly and restored every detail, but kept the print's tone and colour. Its PSNR bounds what
  a tone-preserving descreener can reach on the row;
* ``low-pass error``: PSNR of ``G(halftone)`` against ``G(clean)``, the tone and colour error alone.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from ..inference import analyse, descreen_baseline
from ..models.metrics import psnr
from .photos import read_photo
from .rows import make_halftone, row_target
from .statistics import summarise
from .tables import cell, header

COLUMNS = ("gaussian", "gaussian + colour fit", "print's tone, clean detail", "low-pass error")


def colour_fit(image: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``image`` through the affine colour map (least squares over all pixels) closest to ``target``."""
    pixels = image.reshape(-1, 3).astype(np.float64)
    design = np.concatenate([pixels, np.ones((pixels.shape[0], 1))], axis=1)
    matrix, *_ = np.linalg.lstsq(design, target.reshape(-1, 3).astype(np.float64), rcond=None)
    return np.clip(design @ matrix, 0.0, 1.0).reshape(image.shape).astype(np.float32)


def row_scores(clean: np.ndarray, screened: np.ndarray, sigma: float) -> dict[str, float]:
    """The four PSNRs of :data:`COLUMNS` for one photo and its halftone."""
    gaussian = np.clip(descreen_baseline(screened, "gaussian", analyse(screened)), 0.0, 1.0)
    low_screened, low_clean = (cv2.GaussianBlur(x, (0, 0), sigma) for x in (screened, clean))
    tone_kept = np.clip(clean + low_screened - low_clean, 0.0, 1.0)
    values = (gaussian, colour_fit(gaussian, clean), tone_kept)
    return dict(zip(COLUMNS, [*(psnr(v, clean) for v in values), psnr(low_screened, low_clean)], strict=True))


def ceiling_values(
    images: list[Path], halftones: list[str], sigma: float, max_side: int
) -> dict[tuple[str, str], list[float]]:
    """Per (halftone row, column of :data:`COLUMNS`): the per-photo PSNRs of :func:`row_scores`."""
    values: dict[tuple[str, str], list[float]] = {(h, c): [] for h in halftones for c in COLUMNS}
    for index, path in enumerate(tqdm(images, desc="images", unit="image")):
        clean = read_photo(path, max_side)
        for h in halftones:
            screened = make_halftone(clean, h, seed=index)
            for column, value in row_scores(row_target(clean, h), screened, sigma).items():
                values[(h, column)].append(value)
    return values


def ceiling_table(values: dict[tuple[str, str], list[float]], halftones: list[str], photos: int) -> str:
    """The markdown table of :func:`ceiling_values`: mean ± 95 % half-width per row and column."""
    lines = header(f"halftone ({photos} photos)", COLUMNS)
    for h in halftones:
        lines.append(f"| {h} | " + " | ".join(cell(summarise(values[(h, c)]), 2) for c in COLUMNS) + " |")
    return "\n".join(lines)


def ceiling_report(table: str, photos: int, max_side: int, sigma: float) -> str:
    """The markdown page of a :func:`ceiling_table`, with its legend."""
    legend = (
        f"PSNR (dB) against the clean photo, mean ± 95 % interval, {photos} photos shrunk to {max_side} px; "
        f"low-pass: Gaussian of {sigma:g} px. Written by `python experiments/tone_ceiling.py`: the columns are "
        "explained in its docstring and in [held-out-study.md](held-out-study.md)."
    )
    return f"# Tone and colour ceiling of each row\n\n{legend}\n\n{table}\n"
