"""Interval statistics of per-photo values: the mean with the half-width of its t-interval, and paired
differences."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

#: The confidence of every interval an evaluation reports.
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Summary:
    """Mean of per-photo values with the half-width of its t-interval (``nan`` for fewer than 2 values)."""

    n: int
    mean: float
    half_width: float
    minimum: float
    maximum: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def summarise(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary:
    """Mean, t-interval half-width ``t((1 + confidence) / 2, n - 1) * s / sqrt(n)`` (``s``: sample standard
    deviation), minimum and maximum of ``values``."""
    x = np.asarray(values, np.float64)
    if x.size == 0:
        raise ValueError("no values to summarise")
    half = math.nan
    if x.size > 1:
        half = float(stats.t.ppf((1 + confidence) / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return Summary(int(x.size), float(x.mean()), half, float(x.min()), float(x.max()))


def differences(a: Sequence[float], b: Sequence[float]) -> list[float]:
    """The paired differences ``a - b``, photo by photo (the same photos, in the same order)."""
    if len(a) != len(b):
        raise ValueError(f"paired differences need as many values on each side, got {len(a)} and {len(b)}")
    return np.subtract(np.asarray(a, np.float64), np.asarray(b, np.float64)).tolist()
