"""The one PSNR and SSIM: the same numbers for NumPy images, tensors and the stages' accumulating metrics."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deep_halftoning.models.metrics import image_metrics, psnr, ssim


def test_psnr_is_the_mean_squared_error_in_decibels(rng):
    target = rng.random((24, 32, 3), dtype=np.float32)
    noisy = np.clip(target + rng.normal(0, 0.05, target.shape), 0, 1).astype(np.float32)
    expected = 10 * np.log10(1 / np.mean((noisy.astype(np.float64) - target) ** 2))
    assert psnr(noisy, target) == pytest.approx(expected, abs=1e-4)
    assert psnr(noisy[..., 0], target[..., 0]) == pytest.approx(
        10 * np.log10(1 / np.mean((noisy[..., 0].astype(np.float64) - target[..., 0]) ** 2)), abs=1e-4
    )
    assert ssim(target, target) == pytest.approx(1.0) and ssim(noisy, target) < 0.99
    with pytest.raises(ValueError, match="H x W"):
        psnr(noisy[None], target[None])


def test_the_stage_metrics_agree_with_the_functions(rng):
    images = [rng.random((2, 40, 48, 3), dtype=np.float32) for _ in range(2)]
    prediction, target = (torch.from_numpy(x.transpose(0, 3, 1, 2).copy()) for x in images)
    metric_psnr, metric_ssim = image_metrics()
    metric_psnr.update(prediction, target)
    metric_ssim.update(prediction, target)
    per_image = [psnr(images[0][i], images[1][i]) for i in range(2)]
    assert float(metric_psnr.compute()) == pytest.approx(np.mean(per_image), abs=1e-4)
    assert float(metric_ssim.compute()) == pytest.approx(ssim(prediction, target), abs=1e-5)
