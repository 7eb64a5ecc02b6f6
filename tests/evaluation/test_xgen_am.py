"""The cross-generator AM renderer of the evaluation (deep_halftoning/evaluation/renderers/xgen_am.py)."""

from __future__ import annotations

import ast
import itertools
import math
from pathlib import Path

import cv2
import numpy as np
import pytest

from deep_halftoning.evaluation.renderers import xgen_am as xg

#: The renderer's primaries, written out again here (sRGB 8-bit, by the inks present).
PRIMARIES = {
    "": (248, 247, 242),
    "C": (0, 158, 224),
    "M": (226, 0, 122),
    "Y": (255, 237, 0),
    "K": (35, 31, 32),
    "CM": (46, 49, 146),
    "CY": (0, 150, 64),
    "MY": (225, 30, 36),
    "CMY": (58, 48, 40),
    "CK": (20, 29, 38),
    "MK": (37, 20, 26),
    "YK": (35, 33, 20),
    "CMK": (22, 20, 33),
    "CYK": (17, 30, 26),
    "MYK": (38, 22, 18),
    "CMYK": (16, 14, 14),
}


def _linear_values(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def _linear(srgb8: tuple[int, int, int]) -> np.ndarray:
    return _linear_values(np.array(srgb8, np.float64) / 255.0)


def _gained(c: float, n: float = 1.8, solid: float = 0.03) -> float:
    """Murray-Davies-equivalent coverage of a Yule-Nielsen print, by hand."""
    reflectance = ((1 - c) + c * solid ** (1 / n)) ** n
    return (1 - reflectance) / (1 - solid)


def _expected(coverage: tuple[float, float, float, float]) -> np.ndarray:
    """Demichel-weighted Neugebauer sum at the dot-gained coverages, in linear light."""
    gained = [_gained(c) for c in coverage]
    total = np.zeros(3)
    for present in itertools.product((False, True), repeat=4):
        weight = math.prod(g if p else 1 - g for g, p in zip(gained, present, strict=True))
        key = "".join(ink for ink, p in zip("CMYK", present, strict=True) if p)
        total += weight * _linear(PRIMARIES[key])
    return total


def test_primaries_are_the_documented_measured_colours_not_products():
    assert xg.NEUGEBAUER_SRGB8 == PRIMARIES
    table = xg.neugebauer_primaries()
    for index in range(16):
        np.testing.assert_allclose(table[index], _linear(PRIMARIES[xg.primary_key(index)]), atol=1e-6)
    # the blue overprint is not the product of cyan and magenta (that would be far darker)
    product = _linear(PRIMARIES["C"]) * _linear(PRIMARIES["M"]) / _linear(PRIMARIES[""])
    assert np.abs(table[3] - product).max() > 0.02


def test_yule_nielsen_gain_is_about_15_percent_at_half_and_none_at_the_ends():
    gained = xg.yule_nielsen_gain(np.array([0.0, 0.5, 1.0]))
    np.testing.assert_allclose(gained, [0.0, _gained(0.5), 1.0], atol=1e-6)
    assert 0.13 < gained[1] - 0.5 < 0.17
    np.testing.assert_allclose(xg.yule_nielsen_gain(np.array([0.3, 0.7]), n=1.0), [0.3, 0.7], atol=1e-6)


@pytest.mark.parametrize("coverage", [0.05, 0.3, 0.5, 0.8, 0.97])
def test_diamond_level_covers_the_requested_fraction_of_a_cell(coverage):
    t = (np.arange(1000) + 0.5) / 1000 - 0.5
    spot = xg.diamond_spot(t[None, :], t[:, None])
    assert abs(float(np.mean(spot < xg.diamond_level(np.float32(coverage)))) - coverage) < 2e-3


def test_single_ink_flat_patch_reflects_murray_davies_at_the_gained_coverage():
    coverage = np.zeros((160, 160, 4), np.float32)
    coverage[..., 3] = 0.5
    mean = xg.render_print(coverage).reshape(-1, 3).mean(axis=0)
    c = _gained(0.5)
    expected = (1 - c) * _linear(PRIMARIES[""]) + c * _linear(PRIMARIES["K"])
    np.testing.assert_allclose(mean, expected, atol=3e-3)


def test_four_ink_flat_patch_matches_the_demichel_neugebauer_sum():
    inks = (0.3, 0.45, 0.2, 0.1)
    coverage = np.broadcast_to(np.array(inks, np.float32), (240, 240, 4)).copy()
    mean = xg.render_print(coverage).reshape(-1, 3).mean(axis=0)
    expected = _expected(inks)
    np.testing.assert_allclose(mean, expected, atol=2e-3)  # the quarter-cell K offset keeps the rosette unbiased
    np.testing.assert_allclose(xg.print_colour(np.array(inks, np.float32)), expected, atol=1e-5)


@pytest.mark.parametrize(("ink", "angle"), [(0, 15.0), (3, 45.0), (1, 75.0)])
def test_single_ink_screen_has_its_period_and_angle(ink, angle):
    coverage = np.zeros((512, 512, 4), np.float32)
    coverage[..., ink] = 0.5
    grey = xg.render_print(coverage).mean(axis=2)
    window = np.hanning(512)[:, None] * np.hanning(512)[None, :]
    spectrum = np.abs(np.fft.fft2((grey - grey.mean()) * window))
    fy, fx = np.meshgrid(np.fft.fftfreq(512), np.fft.fftfreq(512), indexing="ij")
    spectrum[np.hypot(fx, fy) < 0.05] = 0  # away from DC leakage
    peak = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    period = 1.0 / math.hypot(fx[peak], fy[peak])
    seen = math.degrees(math.atan2(-fy[peak], fx[peak])) % 90.0  # image rows grow downwards
    assert period == pytest.approx(600.0 / 150.0, abs=0.1)
    assert min(abs(seen - angle), 90 - abs(seen - angle)) < 2.0


@pytest.mark.parametrize("grey", [0.2, 0.5, 0.8])
def test_a_flat_grey_photo_prints_calibrated_to_the_paper(grey):
    photo = np.full((96, 96, 3), grey, np.float32)
    out = xg.xgen_am(photo, seed=0, noise_sigma=0.0)
    reflected = _linear_values(out[16:-16, 16:-16]).reshape(-1, 3).mean(axis=0)  # light, as the scanner sums it
    expected = ((grey + 0.055) / 1.055) ** 2.4 * _linear(PRIMARIES[""])  # relative to the paper white
    np.testing.assert_allclose(reflected, expected, atol=4e-3)


def test_output_is_seeded_and_shaped_like_the_photo(rng):
    photo = rng.random((37, 53, 3), dtype=np.float32)
    a, b, c = xg.xgen_am(photo, seed=1), xg.xgen_am(photo, seed=1), xg.xgen_am(photo, seed=2)
    assert a.shape == photo.shape and a.dtype == np.float32
    assert a.min() >= 0.0 and a.max() <= 1.0
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert 0.005 < float(np.std(a - c)) < 0.03  # only the sensor noise (sigma 0.01 each) differs
    quiet = [xg.xgen_am(photo, seed=s, noise_sigma=0.0) for s in (1, 2)]
    np.testing.assert_array_equal(*quiet)
    grey = xg.xgen_am(photo[..., 0], seed=0)
    assert grey.shape == (37, 53, 3)


def test_xgen_is_independent_of_the_package_screens():
    tree = ast.parse(Path(xg.__file__).read_text())
    imported = ["." * node.level + (node.module or "") for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert imported and not [name for name in imported if "deep_halftoning" in name or name.startswith(".")]


@pytest.mark.parametrize("period", [3, 8])
def test_an_ideal_ink_row_is_a_screen_of_its_period_over_its_own_target(period):
    """The ideal-ink rows measure screen removal alone: the print's low-pass (in linear light) is the row's
    target, the photo through the same enlargement, and its screen has the row's period."""
    from deep_halftoning.evaluation.rows import ideal_target, ideal_xgen
    from deep_halftoning.inference.detect import analyse

    photo = cv2.resize(np.random.default_rng(5).random((6, 6, 3)).astype(np.float32), (240, 240))
    printed, target = ideal_xgen(photo, 0, period=period), ideal_target(photo, period=period)
    assert printed.shape == target.shape == photo.shape
    assert analyse(printed).screens[0].period == pytest.approx(period, rel=0.03)

    def low_pass(image):
        return xg.linear_to_srgb(cv2.GaussianBlur(xg.srgb_to_linear(image), (0, 0), period))[24:-24, 24:-24]

    assert 10 * np.log10(1 / np.mean((low_pass(printed) - low_pass(target)) ** 2)) > 38
    process = xg.xgen_am(photo, 0, lpi=600.0 / (period * 1.25))  # the process inks of am-xgen+scan: their colour
    assert 10 * np.log10(1 / np.mean((low_pass(process) - low_pass(photo)) ** 2)) < 30
