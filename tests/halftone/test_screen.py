import numpy as np
import pytest

from deep_halftoning.halftone import color, halftone, screen


def _dominant_frequency(plane: np.ndarray) -> tuple[float, float]:
    """(angle in degrees mod 90, frequency in cycles per pixel) of the strongest FFT peak."""
    spectrum = np.abs(np.fft.fft2(plane - plane.mean()))
    n = plane.shape[0]
    spectrum[0, 0] = 0
    fy, fx = np.unravel_index(np.argmax(spectrum), spectrum.shape)
    fy = fy - n if fy > n // 2 else fy
    fx = fx - n if fx > n // 2 else fx
    return float(np.degrees(np.arctan2(fy, fx)) % 90), float(np.hypot(fx, fy) / n)


@pytest.mark.parametrize("dot", ["round", "elliptical"])
def test_fft_peaks_at_requested_angle_and_ruling(dot):
    lpi, dpi, n = 100.0, 600.0, 600  # period 6 px, an integer number of periods
    angles = (15.0, 75.0, 0.0, 45.0)
    rgb = np.empty((n, n, 3), np.float32)
    rgb[:] = (0.5, 0.6, 0.7)  # with half under-colour removal: C .41, M .29, Y .18, K .15
    result = halftone(rgb, "am-cmyk", ucr=0.5, lpi=lpi, dpi=dpi, angles=angles, dot=dot, supersample=2)
    assert result.mode == "cmyk" and result.inks.shape == (n, n, 4)
    for k, angle in enumerate(angles):
        found_angle, frequency = _dominant_frequency(result.inks[..., k])
        off = abs(found_angle - angle % 90)
        assert min(off, 90 - off) < 1.5, (k, found_angle)
        assert frequency == pytest.approx(lpi / dpi, rel=0.03), (k, frequency)


def test_am_tone_and_continuous_output(smooth_rgb):
    for level in (0.15, 0.5, 0.8):
        flat = np.full((120, 120), level, np.float32)
        out = halftone(flat, "am-cmyk", lpi=100, dpi=600).image
        assert out.ndim == 2 and abs(out.mean() - level) < 0.01
    result = halftone(smooth_rgb, "am-cmyk")
    assert not result.binary and len(np.unique(result.image)) > 2
    expected = color.cmyk_to_rgb(color.rgb_to_cmyk(smooth_rgb))
    assert np.abs(result.image.mean(axis=(0, 1)) - expected.mean(axis=(0, 1))).max() < 0.03
    binary = halftone(smooth_rgb, "am-cmyk-binary")
    assert binary.binary and set(np.unique(binary.image)) <= {0.0, 1.0}


def test_supersampled_coverage_is_the_mean_of_the_binary_plate():
    flat = np.full((48, 48), 0.37, np.float32)
    fine = halftone(flat, "am-cmyk", supersample=4, dpi=600)
    plate = halftone(np.full((192, 192), 0.37, np.float32), "am-cmyk-binary", dpi=2400)
    blocks = plate.image.reshape(48, 4, 48, 4).mean(axis=(1, 3))
    assert np.abs(fine.image - blocks).mean() < 0.01


def test_dot_shapes_and_validation():
    t = (np.arange(256) + 0.5) / 256 - 0.5
    for dot in screen.DOT_SHAPES:
        levels = screen.coverage_levels(dot)
        assert levels.shape == (screen.LEVELS + 1,) and np.all(np.diff(levels) <= 0)
        spot = screen.spot_function(dot, t[None, :], t[:, None])
        for i in (512, 2048, 3584):  # inking above level i covers i / LEVELS of the cell
            assert (spot > levels[i]).mean() == pytest.approx(i / screen.LEVELS, abs=0.01)
    np.testing.assert_allclose(screen.wave(t), np.cos(2 * np.pi * t), atol=0.06)  # a cosine-like profile
    with pytest.raises(ValueError, match="dot"):
        halftone(np.zeros((8, 8), np.float32), "am-cmyk", dot="star")
    with pytest.raises(ValueError, match="ruling"):
        halftone(np.zeros((8, 8), np.float32), "am-cmyk", lpi=700, dpi=600)
    with pytest.raises(ValueError, match="supersample"):
        halftone(np.zeros((8, 8), np.float32), "am-cmyk", supersample=9)


@pytest.mark.parametrize("ucr", [0.0, 0.5, 1.0])
def test_cmyk_separation_round_trips(ucr, smooth_rgb):
    cmyk = color.rgb_to_cmyk(smooth_rgb, ucr)
    np.testing.assert_allclose(color.cmyk_to_rgb(cmyk), smooth_rgb, atol=1e-5)
    if ucr == 1.0:
        np.testing.assert_allclose(cmyk[..., 3], 1 - smooth_rgb.max(axis=-1), atol=1e-6)
    if ucr == 0.0:
        assert cmyk[..., 3].max() == 0
    planes = color.cmyk_planes(smooth_rgb, ucr)  # the planar layout holds the very same values
    assert all(plane.flags.c_contiguous for plane in planes)
    np.testing.assert_array_equal(np.stack(planes, axis=-1), cmyk)
