import numpy as np
import pytest
import torch

from deep_halftoning.halftone import halftone
from deep_halftoning.halftone.torch_ops import TORCH_METHODS, halftone_torch


def _reference(images: np.ndarray, method: str, **kwargs) -> np.ndarray:
    out = np.stack([halftone(img, method, **kwargs).image for img in images])
    return out[:, None] if out.ndim == 3 else out.transpose(0, 3, 1, 2)


@pytest.mark.parametrize("method", TORCH_METHODS)
@pytest.mark.parametrize("mode", [None, "gray", "rgb", "cmyk"])
def test_torch_equals_numpy(method, mode, rng):
    images = rng.random((3, 29, 41, 3), dtype=np.float32)
    batch = torch.from_numpy(images).permute(0, 3, 1, 2)
    out = halftone_torch(batch, method, mode=mode)
    np.testing.assert_array_equal(out.numpy(), _reference(images, method, mode=mode))


def test_torch_am_with_parameters_and_grey_batches(rng):
    images = rng.random((2, 33, 30), dtype=np.float32)
    params = {
        "lpi": 85.0,
        "dpi": 300.0,
        "dot": "elliptical",
        "angles": (0, 30, 60, 22.5),
        "supersample": 3,
    }
    out = halftone_torch(torch.from_numpy(images)[:, None], "am-cmyk", **params)
    np.testing.assert_array_equal(out.numpy(), _reference(images, "am-cmyk", **params))
    rgb = rng.random((2, 20, 20, 3), dtype=np.float32)
    out = halftone_torch(torch.from_numpy(rgb).permute(0, 3, 1, 2), "blue-noise", size=16, seed=3)
    np.testing.assert_array_equal(out.numpy(), _reference(rgb, "blue-noise", size=16, seed=3))


def test_torch_rejects_what_it_cannot_do():
    batch = torch.zeros(1, 3, 8, 8)
    with pytest.raises(ValueError, match="no torch implementation"):
        halftone_torch(batch, "floyd-steinberg")
    with pytest.raises(ValueError, match="N x C x H x W"):
        halftone_torch(torch.zeros(3, 8, 8), "bayer-8")
    with pytest.raises(TypeError):
        halftone_torch(batch.to(torch.uint8), "bayer-8")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_torch_on_cuda_matches_cpu(rng):  # pragma: no cover - GPU only
    batch = torch.from_numpy(rng.random((4, 3, 64, 64), dtype=np.float32))
    for method in ("bayer-8", "am-cmyk"):
        cpu = halftone_torch(batch, method)
        gpu = halftone_torch(batch.cuda(), method).cpu()
        assert (cpu != gpu).float().mean() < 1e-3
