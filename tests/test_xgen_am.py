"""The cross-generator AM renderer (experiments/xgen_am.py) and the evaluation statistics (experiments/evaluate.py)."""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "experiments"))
import xgen_am as xg  # noqa: E402

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
    source = Path(xg.__file__).read_text()
    assert "deep_halftoning" not in source.split('"""', 2)[2]


def test_t_interval_against_a_hand_computation():
    from evaluate import summarise

    summary = summarise([1.0, 2.0, 3.0, 4.0])
    assert summary.mean == pytest.approx(2.5)
    assert summary.half_width == pytest.approx(3.182446 * 1.290994 / 2, abs=1e-4)  # = 2.054
    assert (summary.minimum, summary.maximum) == (1.0, 4.0)
    assert math.isnan(summarise([3.0]).half_width)


def test_tables_show_intervals_best_classical_and_paired_gain():
    from evaluate import Score, metric_table, paired_gain

    scores = {
        ("bayer-8", "halftone"): Score.of([10.0, 12.0, 14.0], [0.1, 0.2, 0.3]),
        ("bayer-8", "model"): Score.of([31.0, 33.0, 35.0], [0.8, 0.9, 1.0]),
        ("bayer-8", "gaussian"): Score.of([30.0, 31.0, 32.0], [0.7, 0.8, 0.9]),
        ("bayer-8", "median"): Score.of([20.0, 21.0, 22.0], [0.5, 0.6, 0.7]),
    }
    gain = paired_gain(scores, "bayer-8", "model", "gaussian")
    assert gain.mean == pytest.approx(2.0)
    assert gain.half_width == pytest.approx(4.302653 * 1.0 / math.sqrt(3), abs=1e-4)
    table = metric_table(scores, ["bayer-8"], ["halftone", "model", "gaussian", "median"])
    assert "| halftone | halftone | model | gaussian | median | best classical | gain model |" in table
    assert "**33.00 ± 4.97**" in table and "| gaussian | +2.00 ± 2.48 |" in table


def test_colour_fit_undoes_an_affine_colour_map(rng):
    import tone_ceiling

    photo = rng.random((24, 32, 3), dtype=np.float32) * 0.6 + 0.2
    matrix = np.array([[0.9, 0.05, 0.0], [0.1, 0.8, 0.1], [0.0, 0.2, 0.7]], np.float32)
    tinted = photo @ matrix + np.float32(0.05)
    assert np.abs(tone_ceiling.colour_fit(tinted, photo) - photo).max() < 1e-4


def test_tone_ceiling_separates_tone_from_screen(tmp_path, rng):
    """A print whose tone is right gets a high low-pass score; a darkened one a low one that the colour fit
    gives back; the table names every row asked for."""
    import cv2
    import tone_ceiling
    from conftest import save_photo

    photo = cv2.resize(rng.random((4, 4, 3), dtype=np.float32), (64, 64), interpolation=cv2.INTER_LINEAR) * 0.8 + 0.1
    screened = (rng.random(photo.shape) < photo).astype(np.float32)
    right = tone_ceiling.row_scores(photo, screened, sigma=3.0)
    dark = tone_ceiling.row_scores(photo, screened * 0.8, sigma=3.0)
    assert right["low-pass error"] > dark["low-pass error"] + 6
    assert dark["gaussian + colour fit"] > dark["gaussian"] + 3
    assert right["print's tone, clean detail"] > right["gaussian"]
    for name in ("a.png", "b.png"):
        save_photo(tmp_path / "photos" / name, rng, (64, 80))
    out = tmp_path / "ceiling.md"
    code = tone_ceiling.main(
        ["--images", str(tmp_path / "photos"), "--halftones", "floyd-steinberg", "bayer-8", "--out", str(out)]
    )
    table = out.read_text()
    assert code == 0 and "| floyd-steinberg |" in table and "| bayer-8 |" in table and "2 photos" in table


def test_routed_specialists_follow_the_analysed_kind(monkeypatch):
    from types import SimpleNamespace

    import evaluate

    def fake_methods(checkpoints, device, tile):
        return {kind: lambda image, analysis, p=path: f"{p}({image})" for kind, path in checkpoints.items()}

    monkeypatch.setattr(evaluate, "model_methods", fake_methods)
    name, routes = evaluate.parse_route("split=am:am.ckpt,dispersed:ed.ckpt")
    routed = evaluate.routed_methods({name: routes}, None, 64)["split"]
    assert routed("x", SimpleNamespace(kind="am")) == "am.ckpt(x)"
    assert routed("x", SimpleNamespace(kind="dispersed")) == "ed.ckpt(x)"
    assert routed("x", SimpleNamespace(kind="continuous")) == "am.ckpt(x)"  # the first is the fallback
    for bad in ("split", "split=am.ckpt", "=am:a.ckpt", "split=am:"):
        with pytest.raises(SystemExit, match="NAME=KIND:CKPT"):
            evaluate.parse_route(bad)


def test_paired_differences_between_two_evaluations(tmp_path):
    import json

    import paired

    def results(path, photos, column, psnr):
        scores = [{"halftone": "fs", "method": column, "psnr_per_photo": psnr}]
        path.write_text(json.dumps({"images": photos, "scores": scores}))
        return path

    a = results(tmp_path / "a.json", ["/x/p1.png", "/x/p2.png", "/x/p3.png"], "new", [30.0, 31.0, 32.5])
    b = results(tmp_path / "b.json", ["/y/p1.png", "/y/p2.png", "/y/p3.png"], "old", [29.0, 30.0, 31.0])
    table = paired.paired_table(f"{a}:new", f"{b}:old")
    assert "| fs | +1.17 ± 0.72 |" in table  # differences 1, 1, 1.5: t(0.975, 2) * 0.289 / sqrt(3)
    with pytest.raises(SystemExit, match="columns: new"):
        paired.paired_table(f"{a}:old", f"{b}:old")
    other = results(tmp_path / "c.json", ["/y/p1.png", "/y/p2.png", "/y/q.png"], "old", [29.0, 30.0, 31.0])
    with pytest.raises(SystemExit, match="different photos"):
        paired.paired_table(f"{a}:new", f"{other}:old")
