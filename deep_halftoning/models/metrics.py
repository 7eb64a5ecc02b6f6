"""Image quality metrics, PSNR and SSIM (torchmetrics) on images in [0, 1]: one definition for training,
evaluation and the tests.

:func:`image_metrics` gives the stateful metrics a stage accumulates over validation batches; :func:`psnr` and
:func:`ssim` score one image against its target, as NumPy ``H x W`` / ``H x W x C`` arrays or ``N x C x H x W``
tensors.
"""

from __future__ import annotations

import numpy as np
import torch
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure

Image = np.ndarray | torch.Tensor


def image_metrics() -> tuple[PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure]:
    """PSNR (per image, then averaged) and SSIM, to accumulate over batches."""
    return PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3)), StructuralSimilarityIndexMeasure(data_range=1.0)


def psnr(prediction: Image, target: Image) -> float:
    """Peak signal-to-noise ratio in dB of ``prediction`` against ``target`` (over all pixels and channels)."""
    return float(peak_signal_noise_ratio(_batch(prediction), _batch(target), data_range=1.0))


def ssim(prediction: Image, target: Image) -> float:
    """Structural similarity of ``prediction`` to ``target`` (Gaussian window 11, sigma 1.5, averaged)."""
    return float(structural_similarity_index_measure(_batch(prediction), _batch(target), data_range=1.0))


def _batch(image: Image) -> torch.Tensor:
    """A float32 ``N x C x H x W`` tensor of a NumPy ``H x W`` or ``H x W x C`` image (tensors as they are)."""
    if isinstance(image, torch.Tensor):
        return image.float()
    array = np.asarray(image, np.float32)
    if array.ndim == 2:
        array = array[..., None]
    if array.ndim != 3:
        raise ValueError(f"expected an H x W or H x W x C image, got shape {array.shape}")
    return torch.from_numpy(np.ascontiguousarray(array.transpose(2, 0, 1)))[None]
