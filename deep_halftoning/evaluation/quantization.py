"""What a quantised descreener costs: calibration tiles, held-out PSNR per row, seconds per tile side by side.

Calibration uses halftones of the *training* photos only; the PSNR is measured on crops of the held-out
photos, halftoned by each evaluation row. Graphs are called as OpenVINO compiled models are: a list of
``N x C x H x W`` float32 arrays in, a sequence whose first item is the output. A pipeline whose CoarseNet
serves AM scans at a screen scale has two more graphs, CoarseNet at the canonical period and the details
graph at full resolution (:func:`~..inference.export.exported_parts`): :func:`screen_calibration` and
:func:`screen_scaled_psnr` serve them as :class:`~..inference.Descreener` does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..data.sources import embedded_records, holdout_records
from ..halftone import halftone
from ..halftone.screen import screen_period
from ..halftone.screen_scale import from_canonical, to_canonical
from ..inference.detect import analyse
from ..inference.export import side_multiple
from ..io import read_image
from ..models.blocks import pad_to_multiple
from ..models.metrics import psnr
from ..models.pipeline import DescreeningPipeline
from .photos import read_photo
from .rows import make_halftone, row_target

#: The halftones calibration is made of (AM at a ruling drawn per crop), with their fixed parameters.
CALIBRATION_METHODS = {"floyd-steinberg": {}, "jarvis-judice-ninke": {}, "bayer-8": {}, "am-cmyk": {"dpi": 600.0}}
#: The AM rulings (lpi) calibration crops are drawn from.
CALIBRATION_RULINGS = (85.0, 120.0, 150.0)
#: The AM rulings (lpi at 600 dpi: 10, 7 and 6 px screens) the screen-scaled graphs are calibrated on.
SCREEN_RULINGS = (60.0, 85.0, 100.0)
#: The rows the screen-scaled graphs are checked on: coarse cross-generator AM screens.
SCREEN_ROWS = ("am-ideal-6px", "am-ideal-8px", "am-ideal-10px")
#: Held-out crops: at most this many rows and columns of each photo (shrunk to 768 px), multiples of 32.
CROP = (384, 512)

Graph = Callable[[list[np.ndarray]], Sequence[np.ndarray]]


def _batch(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)


def calibration_set(per_photo: int, side: int = 256, seed: int = 0) -> list[np.ndarray]:
    """``1 x 3 x side x side`` halftone crops of the training photos: ``per_photo`` of each photo and method."""
    rng = np.random.default_rng(seed)
    crops = []
    for record in embedded_records("train", colour_only=True):
        photo = read_image(record.image)
        for method, params in CALIBRATION_METHODS.items():
            for _ in range(per_photo):
                y, x = (int(rng.integers(0, n - side + 1)) for n in photo.shape[:2])
                extra = {"lpi": float(rng.choice(CALIBRATION_RULINGS))} if method == "am-cmyk" else {"threads": 1}
                crops.append(_batch(halftone(photo[y : y + side, x : x + side], method, **params, **extra).image))
    return crops


def screen_calibration(
    pipeline: DescreeningPipeline, per_photo: int, side: int = 256, seed: int = 0
) -> tuple[list[np.ndarray], list[list[np.ndarray]]]:
    """Calibration inputs of the screen-scaled path's two graphs, from AM prints of the training photos at
    :data:`SCREEN_RULINGS` (``per_photo`` crops of each photo and ruling): CoarseNet's canonical tiles
    (``side`` square), and the details graph's ``[halftone, coarse image]`` pairs at full resolution (the
    coarse image made by ``pipeline`` in float, at the crop's nominal factor)."""
    rng = np.random.default_rng(seed)
    multiple = side_multiple(pipeline)
    coarse, details = [], []
    for record in embedded_records("train", colour_only=True):
        photo = read_image(record.image)
        for lpi in SCREEN_RULINGS:
            factor = pipeline.screen_scale.factor(screen_period(lpi, 600.0))
            size = min(int(np.ceil(side / factor)) + 2, *photo.shape[:2])
            for _ in range(per_photo):
                y, x = (int(rng.integers(0, n - size + 1)) for n in photo.shape[:2])
                crop = photo[y : y + size, x : x + size]
                scan = torch.from_numpy(_batch(halftone(crop, "am-cmyk", lpi=lpi, dpi=600.0).image))
                canonical = to_canonical(scan, factor)
                h, w = (min(side, n) // multiple * multiple for n in canonical.shape[-2:])
                coarse.append(canonical[..., :h, :w].numpy())
                tile = scan[..., :side, :side]
                with torch.inference_mode():
                    image = pipeline.coarse_at_scale(tile, factor)
                details.append([tile.numpy(), image.numpy()])
    return coarse, details


def screen_scaled_psnr(
    coarse: Graph, details: Graph, pipeline: DescreeningPipeline, pairs: dict[str, list[tuple[np.ndarray, np.ndarray]]]
) -> dict[str, np.ndarray]:
    """PSNR (dB) per row and photo of the screen-scaled path served by the graphs ``coarse`` and ``details``:
    the factor from each halftone's measured screen, CoarseNet's image made at the canonical period and read
    back to full resolution for the details graph."""
    multiple = side_multiple(pipeline)
    scores = {}
    for row, items in pairs.items():
        values = []
        for h, t in items:
            factor = pipeline.screen_scale.factor(analyse(h[0].transpose(1, 2, 0)).am_period)
            small, (sh, sw) = pad_to_multiple(to_canonical(torch.from_numpy(h), factor), multiple)
            image = torch.from_numpy(np.asarray(coarse([small.numpy()])[0]))[..., :sh, :sw]
            full = from_canonical(image, factor, (0, 0, *h.shape[-2:]))
            out = np.asarray(details([h, np.ascontiguousarray(full.numpy())])[0])
            values.append(psnr(torch.from_numpy(out), torch.from_numpy(t)))
        scores[row] = np.array(values)
    return scores


def held_out_pairs(photos: int, rows: Sequence[str]) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Per row, ``(halftone, target)`` of the first ``photos`` held-out photos' crops (:data:`CROP`), as
    ``1 x 3 x H x W`` arrays; the photo's index is the row's seed."""
    crops = []
    for record in holdout_records()[:photos]:
        clean = read_photo(record.image, 768)
        crops.append(clean[: min(CROP[0], clean.shape[0] // 32 * 32), : min(CROP[1], clean.shape[1] // 32 * 32)])
    return {
        row: [(_batch(make_halftone(c, row, seed)), _batch(row_target(c, row))) for seed, c in enumerate(crops)]
        for row in rows
    }


def row_psnr(graph: Graph, pairs: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> dict[str, np.ndarray]:
    """PSNR (dB) of ``graph``'s output against the target, per row and photo."""
    scores = {}
    for row, items in pairs.items():
        values = [psnr(torch.from_numpy(np.asarray(graph([h])[0])), torch.from_numpy(t)) for h, t in items]
        scores[row] = np.array(values)
    return scores


def tile_seconds(graphs: dict[str, Graph], tile: np.ndarray, repeats: int) -> dict[str, np.ndarray]:
    """Seconds per call of each graph on ``tile``, ``repeats`` times, the graphs taking turns in every round
    (so that a load on shared cores falls on all of them alike); one warm-up call each first."""
    for graph in graphs.values():
        graph([tile])
    seconds: dict[str, list[float]] = {name: [] for name in graphs}
    for _ in range(repeats):
        for name, graph in graphs.items():
            start = time.perf_counter()
            graph([tile])
            seconds[name].append(time.perf_counter() - start)
    return {name: np.array(values) for name, values in seconds.items()}
