"""The evaluation loop: halftone every clean photo with every row, descreen it with every method, score it."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ..inference import analyse
from ..io import write_image
from ..models.metrics import psnr, ssim
from .figures import comparison_figure
from .methods import Method
from .photos import read_photo
from .rows import make_halftone, row_target
from .scores import Score, Scores


def evaluate(
    images: list[Path],
    methods: dict[str, Method],
    halftones: list[str],
    out: Path,
    max_side: int,
    figure: Path | None = None,
    seconds: dict[str, float] | None = None,
) -> Scores:
    """PSNR and SSIM per photo for every (halftone, method) (``halftone``: the halftone itself); writes a
    comparison grid per image and halftone to ``out`` and, with ``figure``, one labelled figure of centre crops
    of the first image. ``seconds``, when given, receives the time spent making each halftone and running each
    method (``make <halftone>``, ``<method>``), summed over photos."""
    values: dict[tuple[str, str], tuple[list[float], list[float]]] = {
        (h, m): ([], []) for h in halftones for m in ["halftone", *methods]
    }
    timing = seconds if seconds is not None else {}
    out.mkdir(parents=True, exist_ok=True)
    panels: dict[str, dict[str, np.ndarray]] = {}
    for index, path in enumerate(tqdm(images, desc="images", unit="image")):
        clean = read_photo(path, max_side)
        for h in halftones:
            results = _descreened(clean, h, index, methods, timing)
            target = row_target(clean, h)
            for name, result in results.items():
                values[(h, name)][0].append(psnr(result, target))
                values[(h, name)][1].append(ssim(result, target))
            write_image(out / f"{path.stem}_{h}.png", np.concatenate([target, *results.values()], axis=1))
            if index == 0:
                panels[h] = {**results, "original": target}
    if figure is not None and panels:
        comparison_figure(panels, figure)
    return {key: Score.of(*value) for key, value in values.items()}


def _descreened(
    clean: np.ndarray, halftone: str, seed: int, methods: dict[str, Method], timing: dict[str, float]
) -> dict[str, np.ndarray]:
    """The halftone of row ``halftone`` of ``clean`` and each method's result (clipped to [0, 1]), by column;
    the seconds each took are added to ``timing``."""
    start = time.perf_counter()
    screened = make_halftone(clean, halftone, seed=seed)
    timing[f"make {halftone}"] = timing.get(f"make {halftone}", 0.0) + time.perf_counter() - start
    analysis = analyse(screened)
    results = {"halftone": screened}
    for name, fn in methods.items():
        start = time.perf_counter()
        results[name] = np.clip(fn(screened, analysis), 0, 1)
        timing[name] = timing.get(name, 0.0) + time.perf_counter() - start
    return results
