"""Shared fixtures: small deterministic images."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def smooth_rgb(rng: np.random.Generator) -> np.ndarray:
    """A 96 x 128 smooth colour image in [0, 1], like a photo's low frequencies."""
    import cv2

    small = rng.random((6, 8, 3), dtype=np.float32)
    return np.clip(cv2.resize(small, (128, 96), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


@pytest.fixture
def ramp() -> np.ndarray:
    """A horizontal grey ramp 0 -> 1, 64 x 256."""
    return np.tile(np.linspace(0.0, 1.0, 256, dtype=np.float32), (64, 1))
