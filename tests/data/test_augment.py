import numpy as np
import pytest

from deep_halftoning.data.augment import ensure_min_size, random_crop, random_flip_rotate


def _coded(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    """An image whose label is a function of its pixels, to check alignment."""
    rng = np.random.default_rng(0)
    label = rng.integers(0, 20, (h, w)).astype(np.uint8)
    image = np.repeat((label / 19.0).astype(np.float32)[..., None], 3, axis=2)
    return image, label


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (30, 200), (300, 400)])
@pytest.mark.parametrize("policy", ["reflect", "upscale"])
def test_crops_have_the_requested_size(shape, policy):
    image, label = _coded(*shape)
    rng = np.random.default_rng(1)
    for scale in ((1.0, 1.0), (0.5, 1.0), (1.0, 2.0)):
        crop, lab = random_crop(image, label, 32, rng, scale, policy)
        assert crop.shape == (32, 32, 3) and lab.shape == (32, 32) and crop.dtype == np.float32
        assert crop.min() >= 0.0 and crop.max() <= 1.0


def test_crop_keeps_label_aligned():
    image, label = _coded(120, 150)
    rng = np.random.default_rng(2)
    for _ in range(5):
        crop, lab = random_crop(image, label, 48, rng)
        crop, lab = random_flip_rotate(crop, lab, rng)
        np.testing.assert_allclose(crop[..., 0], lab / 19.0, atol=1e-6)


def test_small_image_policies():
    image, label = _coded(10, 40)
    padded, plabel = ensure_min_size(image, label, 32, "reflect")
    assert padded.shape[:2] == (32, 40) and plabel.shape == (32, 40)
    grown, glabel = ensure_min_size(image, label, 32, "upscale")
    assert grown.shape[:2] == (32, 128) and glabel.shape == (32, 128)
    with pytest.raises(ValueError, match="policy"):
        ensure_min_size(image, label, 32, "stretch")


def test_flips_and_rotations_cover_all_eight_orientations():
    image = np.arange(12, dtype=np.float32).reshape(3, 4, 1).repeat(3, axis=2) / 11
    rng = np.random.default_rng(3)
    seen = {random_flip_rotate(image, None, rng)[0][..., 0].tobytes() for _ in range(200)}
    assert len(seen) == 8
    same, _ = random_flip_rotate(image, None, rng, flips=False, rot90=False)
    np.testing.assert_array_equal(same, image)
