"""The print around the AM screen: dot gain, misregistered plates, real inks, tinted paper."""

import cv2
import numpy as np
import pytest
import torch

from deep_halftoning.halftone import CATALOGUE, get_method, halftone, screen
from deep_halftoning.halftone import print_model as pm
from deep_halftoning.halftone.color import rgb_to_cmyk
from deep_halftoning.halftone.torch_ops import halftone_torch

NEUTRAL = {"dot_gain": 1.0, "dot_gain_jitter": 0.0, "misregistration": 0.0, "seed": 0}
NEUTRAL_INKS = {**NEUTRAL, "ink_jitter": 0.0, "ink_density": 1.0, "paper": 0.0}
PRINT = {"dot_gain": 0.8, "dot_gain_jitter": 0.1, "misregistration": 0.6, "seed": 11}
PRINT_INKS = {**PRINT, "ink_jitter": 0.9, "ink_density": 0.95, "paper": 0.1}


def _flat_rgb(rgb, size=128):
    return np.tile(np.asarray(rgb, np.float32), (size, size, 1))


def _phase_shift(before: np.ndarray, after: np.ndarray, bin_yx: tuple[int, int], period: float) -> float:
    """Shift in pixels of a periodic pattern along the axis of FFT bin ``bin_yx`` (one cycle per ``period``)."""
    ratio = np.fft.fft2(after)[bin_yx] / np.fft.fft2(before)[bin_yx]
    return float(-np.angle(ratio) * period / (2 * np.pi))


@pytest.mark.parametrize("method", ["am-cmyk", "am-cmyk-binary"])
def test_neutral_print_parameters_are_bit_identical(method, smooth_rgb):
    neutral = NEUTRAL_INKS if method == "am-cmyk" else NEUTRAL
    for mode in ("gray", "rgb", "cmyk"):
        plain = halftone(smooth_rgb, method, mode=mode, dot="elliptical")
        explicit = halftone(smooth_rgb, method, mode=mode, dot="elliptical", **neutral)
        np.testing.assert_array_equal(explicit.image, plain.image)
        np.testing.assert_array_equal(explicit.inks, plain.inks)
        assert explicit.params == plain.params  # optional parameters at their neutral value are left out
    # the screen alone, as before the print model existed
    supersample = 4 if method == "am-cmyk" else 1
    image, inks = screen.am_screen(rgb_to_cmyk(smooth_rgb), screen.DEFAULT_ANGLES, supersample=supersample)
    np.testing.assert_array_equal(halftone(smooth_rgb, method, **neutral).image, image)
    # the torch twin takes the neutral parameters and still equals the engine
    batch = torch.from_numpy(smooth_rgb[None]).permute(0, 3, 1, 2)
    out = halftone_torch(batch, method, **neutral)
    np.testing.assert_array_equal(out[0].permute(1, 2, 0).numpy(), image)


def test_resolve_leaves_optional_parameters_out_only_at_their_default():
    spec = get_method("am-cmyk")
    assert "dot_gain" not in spec.resolve({}) and "dot_gain" not in spec.resolve({"dot_gain": 1})
    assert spec.resolve({"dot_gain": "0.8"})["dot_gain"] == 0.8
    assert spec.resolve({})["lpi"] == 150.0  # ordinary parameters keep their defaults


def test_catalogue_documents_and_validates_the_print_parameters():
    params = {p.name: p for p in CATALOGUE["am-cmyk"].params}
    for name in ("dot_gain", "dot_gain_jitter", "misregistration", "ink_jitter", "ink_density", "paper", "seed"):
        assert params[name].optional and params[name].help
    assert "diamond" not in screen.DOT_SHAPES  # held out for the cross-generator evaluation
    binary = {p.name for p in CATALOGUE["am-cmyk-binary"].params}
    assert {"dot_gain", "misregistration"} <= binary and "ink_jitter" not in binary  # its plates stay binary
    for name, bad in [
        ("dot_gain", 5.0),
        ("dot_gain", 0.1),
        ("dot_gain_jitter", 0.9),
        ("misregistration", -0.1),
        ("misregistration", 3.0),
        ("ink_jitter", 1.5),
        ("ink_density", 2.0),
        ("paper", 0.5),
        ("seed", -1),
    ]:
        with pytest.raises(ValueError, match=f"parameter '{name}' must be in"):
            halftone(np.zeros((8, 8, 3), np.float32), "am-cmyk", **{name: bad})


@pytest.mark.parametrize("gamma", [0.6, 0.8, 1.3])
def test_dot_gain_moves_mean_coverage_as_the_power_law(gamma):
    flat = _flat_rgb((0.6, 1.0, 1.0))  # cyan 0.4 alone
    result = halftone(flat, "am-cmyk", lpi=100.0, dpi=600.0, dot_gain=gamma)
    cyan = result.inks[..., 0].mean()
    assert cyan == pytest.approx(0.4**gamma, abs=0.004), (gamma, cyan)
    assert result.inks[..., 1:].max() == 0
    assert result.image[..., 0].mean() == pytest.approx(1 - 0.4**gamma, abs=0.004)  # ideal inks: R = 1 - C


def test_each_ink_follows_its_own_curve():
    gammas = (0.6, 0.85, 1.0, 1.3)
    inks = np.full((120, 120, 4), 0.3, np.float32)
    _, coverage = screen.am_screen(inks, screen.DEFAULT_ANGLES, lpi=100.0, dpi=600.0, gammas=gammas)
    for k, gamma in enumerate(gammas):
        assert coverage[..., k].mean() == pytest.approx(0.3**gamma, abs=0.004), k
    _, linear = screen.am_screen(inks, screen.DEFAULT_ANGLES, lpi=100.0, dpi=600.0)
    np.testing.assert_array_equal(coverage[..., 2], linear[..., 2])  # gamma 1 is the identity
    levels = screen.tone_levels(screen.coverage_levels("round"), (0.5,))
    assert levels[0, 0] == screen.coverage_levels("round")[0]  # no ink stays no ink
    assert levels[0, -1] == screen.coverage_levels("round")[-1]  # solid stays solid


def test_dot_gain_jitter_spreads_the_inks_exponents():
    model = pm.PrintModel.draw(4, dot_gain=0.9, dot_gain_jitter=0.2, seed=3)
    assert np.all(np.abs(model.gammas / 0.9 - 1) <= 0.2) and len(set(model.gammas.tolist())) == 4
    np.testing.assert_array_equal(model.gammas, pm.PrintModel.draw(4, dot_gain=0.9, dot_gain_jitter=0.2, seed=3).gammas)
    assert not np.array_equal(model.gammas, pm.PrintModel.draw(4, dot_gain=0.9, dot_gain_jitter=0.2, seed=4).gammas)
    assert np.all(pm.PrintModel.draw(4, dot_gain=1.2, seed=3).gammas == 1.2)


def test_ink_model_on_a_flat_patch_equals_the_hand_formula():
    coverage = np.tile(np.array([0.5, 0.25, 0.0, 0.1], np.float32), (4, 5, 1))
    transmittance = np.array([[0.1, 0.6, 0.9], [0.95, 0.1, 0.5], [1.0, 1.0, 0.05], [0.1, 0.1, 0.12]])
    paper = np.array([0.95, 0.94, 0.9])
    out = pm.render(coverage, transmittance, paper)
    red = 0.95 * (1 - 0.5 * 0.9) * (1 - 0.25 * 0.05) * (1 - 0.0 * 0.0) * (1 - 0.1 * 0.9)
    green = 0.94 * (1 - 0.5 * 0.4) * (1 - 0.25 * 0.9) * (1 - 0.0 * 0.0) * (1 - 0.1 * 0.9)
    blue = 0.9 * (1 - 0.5 * 0.1) * (1 - 0.25 * 0.5) * (1 - 0.0 * 0.95) * (1 - 0.1 * 0.88)
    assert out.shape == (4, 5, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.broadcast_to([red, green, blue], out.shape), rtol=1e-6)
    # ideal inks on white paper: the classic subtractive rendering
    ideal = pm.render(coverage, pm.IDEAL_INKS, np.ones(3))
    np.testing.assert_allclose(ideal[0, 0], [(1 - 0.5) * 0.9, (1 - 0.25) * 0.9, 1.0 * 0.9], rtol=1e-6)


def test_halftone_renders_its_coverage_with_the_drawn_inks_and_paper():
    flat = _flat_rgb((0.55, 0.7, 0.8), 64)
    result = halftone(flat, "am-cmyk", lpi=100.0, dpi=600.0, **PRINT_INKS)
    model = pm.PrintModel.draw(4, **PRINT_INKS)
    assert not model.ideal
    absorbed = 1.0 - result.inks[..., :, None] * (1.0 - model.transmittance)  # H x W x ink x channel
    np.testing.assert_allclose(result.image, model.paper * absorbed.prod(axis=2), rtol=1e-5)
    assert result.image.max() <= model.paper.max() + 1e-6  # nothing is whiter than the paper
    gray = halftone(flat[..., 0], "am-cmyk", lpi=100.0, dpi=600.0, **PRINT_INKS)
    assert gray.image.ndim == 2 and gray.image.max() <= 1.0


def test_ink_and_paper_draws_stay_in_their_ranges():
    assert pm.PrintModel.draw(4, seed=5).ideal
    np.testing.assert_array_equal(pm.PrintModel.draw(4, ink_jitter=0.0, seed=5).transmittance, pm.IDEAL_INKS)
    warm = cool = 0
    for seed in range(40):
        real = pm.PrintModel.draw(4, ink_jitter=1.0, paper=0.12, seed=seed)
        low, high = pm.INK_RANGES[..., 0], pm.INK_RANGES[..., 1]
        assert np.all(real.transmittance[:3] >= low - 1e-6) and np.all(real.transmittance[:3] <= high + 1e-6)
        assert np.all(real.transmittance[3] <= pm.BLACK_RANGE[1] + pm.BLACK_TINT + 1e-6)
        assert np.all(real.paper >= 0.88 - 1e-6) and np.all(real.paper <= 1.0)
        warm += real.paper[0] > real.paper[2]
        cool += real.paper[0] < real.paper[2]
        half = pm.PrintModel.draw(4, ink_jitter=0.5, paper=0.12, seed=seed)  # same draws, half way
        np.testing.assert_allclose(half.transmittance, (pm.IDEAL_INKS + real.transmittance) / 2, atol=1e-6)
    assert warm > 5 and cool > 5
    thin = pm.PrintModel.draw(4, ink_density=0.8)  # a thinner ink film absorbs less
    np.testing.assert_allclose(thin.transmittance, 1 - 0.8 * (1 - pm.IDEAL_INKS), atol=1e-7)


@pytest.mark.parametrize("offset", [(0.25, 0.0), (0.0, -0.5), (0.375, 0.25), (-0.6, 0.7)])
def test_misregistration_moves_the_plate_by_the_requested_offset(offset):
    n, period = 64, 8.0  # angle 0, 8 px per cell: the fundamental sits on FFT bins (0, 8) and (8, 0)
    flat = np.full((n, n, 1), 0.3, np.float32)
    kw = {"lpi": 75.0, "dpi": 600.0, "supersample": 8}
    _, before = screen.am_screen(flat, [0.0], **kw)
    _, after = screen.am_screen(flat, [0.0], offsets=np.array([offset]), **kw)
    assert _phase_shift(before[..., 0], after[..., 0], (0, 8), period) == pytest.approx(offset[0], abs=0.03)
    assert _phase_shift(before[..., 0], after[..., 0], (8, 0), period) == pytest.approx(offset[1], abs=0.03)
    # the picture moves with its dots: the centroid of a blob of ink follows the offset
    yy, xx = np.mgrid[0:n, 0:n]
    blob = (0.9 * np.exp(-((xx - 31.5) ** 2 + (yy - 31.5) ** 2) / (2 * 8.0**2)))[..., None].astype(np.float32)
    _, still = screen.am_screen(blob, [0.0], **kw)
    _, moved = screen.am_screen(blob, [0.0], offsets=np.array([offset]), **kw)

    def centroid(c):
        return np.array([(c[..., 0] * xx).sum(), (c[..., 0] * yy).sum()]) / c.sum()

    np.testing.assert_allclose(centroid(moved) - centroid(still), offset, atol=0.05)


def test_plane_shift_is_bilinear_with_reflected_edges(rng):
    planes = rng.random((23, 31, 3), dtype=np.float32)
    offsets = np.array([[0.3, -0.7], [0.0, 0.0], [-1.25, 0.5]])
    moved = screen.shift_planes(planes, offsets)
    for k, (dx, dy) in enumerate(offsets):
        matrix = np.array([[1.0, 0.0, dx], [0.0, 1.0, dy]])
        flags, border = cv2.INTER_LINEAR, cv2.BORDER_REFLECT
        expected = cv2.warpAffine(
            np.ascontiguousarray(planes[..., k]), matrix, (31, 23), flags=flags, borderMode=border
        )
        np.testing.assert_allclose(moved[..., k], expected, atol=2e-3)  # OpenCV's weights are 1/32 steps
    np.testing.assert_array_equal(moved[..., 1], planes[..., 1])


def test_misregistration_moves_the_colour_plates_against_the_key(smooth_rgb):
    kw = {"dot_gain": 0.9, "seed": 5}
    still = halftone(smooth_rgb, "am-cmyk", **kw)
    moved = halftone(smooth_rgb, "am-cmyk", misregistration=0.7, **kw)
    np.testing.assert_array_equal(moved.inks[..., 3], still.inks[..., 3])  # K stays put
    assert all((moved.inks[..., k] != still.inks[..., k]).mean() > 0.05 for k in range(3))
    offsets = pm.PrintModel.draw(4, misregistration=0.7, seed=5).offsets
    assert np.all(np.abs(offsets) <= 0.7) and not offsets[3].any() and offsets[:3].any()
    cmy = pm.PrintModel.draw(3, misregistration=0.7, seed=5).offsets
    np.testing.assert_allclose(cmy.mean(axis=0), 0.0, atol=1e-12)  # no key: the print stays on the page
    assert not pm.PrintModel.draw(1, misregistration=0.7, seed=5).offsets.any()  # one plate: nothing to misregister
    binary = halftone(smooth_rgb, "am-cmyk-binary", misregistration=0.7, dot_gain=0.8, seed=2)
    assert set(np.unique(binary.image)) <= {0.0, 1.0}  # plates moved and tone curved stay binary


def test_screen_rejects_bad_offsets_and_gammas():
    inks = np.zeros((8, 8, 4), np.float32)
    with pytest.raises(ValueError, match="offsets"):
        screen.am_screen(inks, screen.DEFAULT_ANGLES, offsets=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="gamma"):
        screen.am_screen(inks, screen.DEFAULT_ANGLES, gammas=(1.0, 1.0))
    with pytest.raises(ValueError, match="gammas must be positive"):
        screen.am_screen(inks, screen.DEFAULT_ANGLES, gammas=(1.0, 0.0, 1.0, 1.0))
