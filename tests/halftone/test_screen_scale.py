"""The one resampling of training and serving: a scan brought to the canonical screen period and back."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deep_halftoning.halftone import halftone
from deep_halftoning.halftone.screen_scale import (
    ScreenScale,
    canonical_size,
    canonical_window,
    from_canonical,
    to_canonical,
)
from deep_halftoning.inference.detect import analyse


def test_the_factor_brings_the_period_to_the_canonical_one_within_its_limits():
    scale = ScreenScale(canonical_period=4.0, min_factor=0.25, max_factor=1.0)
    assert scale.factor(8.0) == 0.5 and scale.factor(5.0) == 0.8
    assert scale.factor(3.0) == 1.0  # finer screens are not up-sampled
    assert scale.factor(40.0) == 0.25
    assert scale.factor(None) == scale.factor(float("nan")) == scale.factor(0.0) == 1.0
    assert scale.factor(4.0008) == scale.factor(4.08) == 1.0  # the canonical period, as measured: not resampled
    assert scale.factor(4.2) == pytest.approx(4.0 / 4.2)
    with pytest.raises(ValueError, match="min_factor"):
        ScreenScale(min_factor=0.5, max_factor=0.4)


def test_a_resampled_am_print_has_the_canonical_period(rng):
    page = np.clip(rng.random((3, 3)).repeat(150, 0).repeat(150, 1), 0.1, 0.9)
    print_ = halftone(np.stack([page] * 3, axis=2).astype(np.float32), "am-cmyk", lpi=75.0, dpi=600.0)
    period = analyse(print_.image).screens[0].period
    assert period == pytest.approx(8.0, rel=0.01)
    factor = ScreenScale(4.0).factor(period)
    small = to_canonical(torch.from_numpy(print_.image.transpose(2, 0, 1).copy())[None], factor)[0]
    assert tuple(small.shape[-2:]) == canonical_size(450, 450, factor)
    assert analyse(small.numpy().transpose(1, 2, 0)).screens[0].period == pytest.approx(4.0, rel=0.02)


@pytest.mark.parametrize("factor", [0.25, 0.57, 0.8, 1.3])
@pytest.mark.parametrize("size", [(37, 53), (101, 64)])
def test_the_canonical_image_is_pytorchs_antialiased_bilinear_resampling(factor, size):
    image = torch.rand(2, 3, *size)
    expected = F.interpolate(
        image,
        scale_factor=factor,
        mode="bilinear",
        antialias=factor < 1,
        align_corners=False,
        recompute_scale_factor=False,
    )
    torch.testing.assert_close(to_canonical(image, factor), expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("factor", [0.25, 0.57, 0.8])
def test_any_canonical_window_computed_from_the_page_equals_that_window_of_the_whole(factor):
    image = torch.rand(3, 203, 157)
    whole = to_canonical(image[None], factor)[0]
    height, width = whole.shape[-2:]
    for y, x, h, w in [(0, 0, 7, 9), (0, 5, 11, width - 5), (3, 0, height - 3, 6), (height - 5, width - 8, 5, 8),
                       (2, 3, height - 4, width - 6), (0, 0, height, width)]:  # fmt: skip
        torch.testing.assert_close(canonical_window(image, factor, (y, x, h, w)), whole[:, y : y + h, x : x + w])
    assert canonical_window(image, 1.0, (3, 4, 5, 6)).equal(image[:, 3:8, 4:10])


def test_any_window_read_back_equals_that_window_of_the_whole_image():
    image = torch.rand(2, 3, 47, 61)
    whole = from_canonical(image, 0.37, (0, 0, 127, 164))
    assert whole.shape == (2, 3, 127, 164)
    for y, x, h, w in ((33, 50, 60, 70), (0, 0, 9, 11), (120, 150, 7, 14), (0, 163, 127, 1), (126, 0, 1, 164)):
        window = from_canonical(image, 0.37, (y, x, h, w))  # inside, and touching every border
        torch.testing.assert_close(window, whole[..., y : y + h, x : x + w], rtol=0, atol=1e-6)
    assert from_canonical(image, 1.0, (3, 4, 5, 6)).equal(image[..., 3:8, 4:10])


def test_down_and_back_keeps_a_smooth_image_and_the_pixel_grid():
    smooth = F.interpolate(torch.rand(1, 3, 6, 6), size=(240, 240), mode="bicubic", align_corners=False)
    back = from_canonical(to_canonical(smooth, 0.5), 0.5, (0, 0, 240, 240))
    assert (back - smooth)[..., 8:-8, 8:-8].abs().max() < 0.01  # no shift: a shifted grid errs far more
    shifted = from_canonical(to_canonical(smooth, 0.5), 0.5, (1, 1, 240, 240))
    assert (shifted[..., :-1, :-1] - smooth[..., :-1, :-1])[..., 8:-8, 8:-8].abs().max() > 0.01
