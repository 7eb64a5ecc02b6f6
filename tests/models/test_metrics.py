"""The one PSNR and SSIM: the same numbers for NumPy images, tensors and the stages' accumulating metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deep_halftoning.models.metrics import image_metrics, psnr, ssim


def _decibels(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((a.astype(np.float64) - b) ** 2)))


def test_psnr_and_ssim_of_numpy_images(rng):
    target = rng.random((24, 32, 3), dtype=np.float32)
    noisy = np.clip(target + rng.normal(0, 0.05, target.shape), 0, 1).astype(np.float32)
    assert psnr(noisy, target) == pytest.approx(_decibels(noisy, target), abs=1e-4)
    assert psnr(noisy[..., 0], target[..., 0]) == pytest.approx(_decibels(noisy[..., 0], target[..., 0]), abs=1e-4)
    assert ssim(target, target) == pytest.approx(1.0) and ssim(noisy, target) < 0.99
    grey = [torch.from_numpy(x[..., 0].copy())[None, None] for x in (noisy, target)]
    assert ssim(noisy[..., 0], target[..., 0]) == pytest.approx(ssim(*grey), abs=1e-6)
    with pytest.raises(ValueError, match="H x W"):
        psnr(noisy[None], target[None])


def test_the_stage_metrics_average_per_image_values(rng):
    target = rng.random((2, 40, 48, 3), dtype=np.float32)
    noise = rng.normal(0, 1, target.shape).astype(np.float32) * np.array([0.01, 0.2], np.float32)[:, None, None, None]
    prediction = np.clip(target + noise, 0, 1)
    as_tensor = [torch.from_numpy(x.transpose(0, 3, 1, 2).copy()) for x in (prediction, target)]
    metric_psnr, metric_ssim = image_metrics()
    metric_psnr.update(*as_tensor)
    metric_ssim.update(*as_tensor)
    per_image = [psnr(prediction[i], target[i]) for i in range(2)]
    assert per_image[0] > per_image[1] + 10
    assert float(metric_psnr.compute()) == pytest.approx(np.mean(per_image), abs=1e-4)
    assert float(metric_ssim.compute()) == pytest.approx(ssim(*as_tensor), abs=1e-5)
