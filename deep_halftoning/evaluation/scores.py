"""The scores of an evaluation: per-photo PSNR and SSIM of every (halftone row, method), and how the methods
compare."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ..inference import BASELINES
from .statistics import Summary, differences, summarise

#: metric -> (heading, cell precision)
METRICS = {"psnr": ("PSNR (dB)", 2), "ssim": ("SSIM", 3)}


class Score(NamedTuple):
    """Scores of one (halftone, method): means first (``score[0]``, ``score[1]``), then the per-photo values."""

    psnr: float
    ssim: float
    psnr_per_photo: tuple[float, ...]
    ssim_per_photo: tuple[float, ...]

    @classmethod
    def of(cls, psnr: Sequence[float], ssim: Sequence[float]) -> Score:
        return cls(float(np.mean(psnr)), float(np.mean(ssim)), tuple(map(float, psnr)), tuple(map(float, ssim)))

    def per_photo(self, metric: str) -> tuple[float, ...]:
        return {"psnr": self.psnr_per_photo, "ssim": self.ssim_per_photo}[metric]

    def mean(self, metric: str) -> float:
        return {"psnr": self.psnr, "ssim": self.ssim}[metric]


#: (halftone row, method) -> its :class:`Score`
Scores = dict[tuple[str, str], Score]


def model_columns(columns: Sequence[str]) -> list[str]:
    """The columns of ``columns`` that are models: neither the halftone itself nor a classical baseline."""
    return [m for m in columns if m != "halftone" and m not in BASELINES]


def best_classical(scores: Scores, halftone: str, columns: Sequence[str], metric: str = "psnr") -> str | None:
    """The classical baseline among ``columns`` with the best mean ``metric`` on ``halftone`` (None: none)."""
    baselines = [m for m in columns if m in BASELINES]
    if not baselines:
        return None
    return max(baselines, key=lambda m: scores[(halftone, m)].mean(metric))


def gain_values(scores: Scores, halftone: str, method: str, baseline: str, metric: str = "psnr") -> list[float]:
    """The per-photo differences ``method - baseline`` of ``metric`` on ``halftone``."""
    return differences(scores[(halftone, method)].per_photo(metric), scores[(halftone, baseline)].per_photo(metric))


def paired_gain(scores: Scores, halftone: str, method: str, baseline: str, metric: str = "psnr") -> Summary:
    """Summary of the per-photo differences ``method - baseline`` of ``metric`` on ``halftone`` (paired)."""
    return summarise(gain_values(scores, halftone, method, baseline, metric))
