import numpy as np
import pytest

from deep_halftoning.halftone import error_diffusion as ed
from deep_halftoning.halftone import halftone

ED_METHODS = [*ed.KERNELS, "ostromoukhov", "zhou-fang"]

# Floyd-Steinberg by hand on a flat 100/255 patch (raster scan, threshold 0.5),
# in units of 1/255:
#   row 0: 100 -> 0 (e=+100; right gets 43.75, below 31.25, below-right 6.25)
#          143.75 -> 1 (e=-111.25)   51.33 -> 0
#   row 1: 110.39 -> 0   129.40 -> 1   54.14 -> 0
FLAT_100 = np.full((2, 3), 100 / 255, np.float32)
FS_REFERENCE = np.array([[0, 1, 0], [0, 1, 0]], np.float32)


def test_floyd_steinberg_matches_hand_computation():
    np.testing.assert_array_equal(ed.error_diffusion(FLAT_100, "floyd-steinberg"), FS_REFERENCE)


def test_generic_kernel_with_fs_weights_matches_hand_computation():
    dys, dxs, weights = ed.KERNELS["floyd-steinberg"].arrays()
    out = ed._diffuse(FLAT_100, np.empty_like(FLAT_100), dys, dxs, weights, False)
    np.testing.assert_array_equal(out, FS_REFERENCE)


TONE_PRESERVING = [m for m in ED_METHODS if m != "atkinson"]


@pytest.mark.parametrize("method", TONE_PRESERVING)
def test_binary_and_tone_preserving_on_flats_and_ramp(method, ramp):
    for level in (0.1, 0.25, 0.5, 0.62, 0.9):
        out = halftone(np.full((192, 192), level, np.float32), method).image
        assert set(np.unique(out)) <= {0.0, 1.0}
        assert abs(out.mean() - level) < 0.005, (method, level, out.mean())
    out = halftone(ramp, method).image
    assert abs(out.mean() - ramp.mean()) < 0.004
    # tone is local too: each eighth of the ramp keeps its mean
    for band in np.array_split(np.arange(256), 8):
        assert abs(out[:, band].mean() - ramp[:, band].mean()) < 0.03


def test_atkinson_keeps_mid_tones_and_drops_extremes():
    """Atkinson spreads only 6/8 of the error: mid-tones hold, light tones go to paper white."""
    mid = halftone(np.full((192, 192), 0.5, np.float32), "atkinson").image
    assert abs(mid.mean() - 0.5) < 0.005
    assert halftone(np.full((64, 64), 0.1, np.float32), "atkinson").image.max() == 0


@pytest.mark.parametrize("method", ED_METHODS)
def test_serpentine_differs_from_raster(method, smooth_rgb):
    gray = smooth_rgb[..., 0]
    raster = halftone(gray, method, serpentine=False).image
    serpentine = halftone(gray, method, serpentine=True).image
    assert (raster != serpentine).mean() > 0.01


def test_extremes_stay_flat():
    for method in ED_METHODS:
        assert halftone(np.zeros((20, 20), np.float32), method).image.max() == 0
        assert halftone(np.ones((20, 20), np.float32), method).image.min() == 1


def test_variable_coefficient_tables():
    table = ed.ostromoukhov_table()
    assert table.shape == (256, 3)
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(table[0], [13 / 18, 0, 5 / 18], atol=1e-6)
    np.testing.assert_array_equal(table[:128], table[::-1][:128])
    weights, strength = ed.zhou_fang_tables()
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, atol=1e-6)
    assert strength[0] == 0 and strength[127] == pytest.approx(1.0)
    assert strength[44] == pytest.approx(0.34) and strength[90] < strength[85]


def test_zhou_fang_is_seeded(smooth_rgb):
    gray = smooth_rgb[..., 1]
    a, b, c = (ed.zhou_fang(gray, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a, b)
    assert (a != c).any()


def test_rejects_bad_input():
    with pytest.raises(ValueError, match="unknown error-diffusion kernel"):
        ed.error_diffusion(FLAT_100, "nope")
    with pytest.raises(ValueError, match="one H x W channel"):
        ed.error_diffusion(np.zeros((2, 2, 3), np.float32))


WINDOW_KERNELS = [name for name, kernel in ed.KERNELS.items() if ed.window_weights(kernel) is not None]


def test_kernels_inside_three_rows_and_five_columns_take_the_fast_path():
    assert {"jarvis-judice-ninke", "stucki", "burkes", "sierra-3", "atkinson"} <= set(WINDOW_KERNELS)
    assert ed.window_weights(ed.KERNELS["stevenson-arce"]) is None  # four rows, seven columns
    assert ed.window_weights(ed.KERNELS["shiau-fan-2"]) is None  # a tap three columns back


@pytest.mark.parametrize("serpentine", [False, True])
@pytest.mark.parametrize("kernel", WINDOW_KERNELS)
def test_fast_window_path_matches_the_generic_kernel(kernel, serpentine, smooth_rgb, rng):
    """Same taps, same float32 arithmetic: the register-based path decides every pixel as the scatter loop does."""
    dys, dxs, weights = ed.KERNELS[kernel].arrays()
    window = ed.window_weights(ed.KERNELS[kernel])
    for plane in (np.ascontiguousarray(smooth_rgb[..., 1]), rng.random((37, 61), dtype=np.float32)):
        generic = ed._diffuse(plane, np.empty_like(plane), dys, dxs, weights, serpentine)
        np.testing.assert_array_equal(ed._diffuse_window(plane, np.empty_like(plane), window, serpentine), generic)
        if kernel != "floyd-steinberg":  # which has its own fixed-point path
            np.testing.assert_array_equal(ed.error_diffusion(plane, kernel, serpentine), generic)


NOISY_METHODS = ["floyd-steinberg", "jarvis-judice-ninke", "stevenson-arce", "shiau-fan-2", "ostromoukhov", "zhou-fang"]


@pytest.mark.parametrize("method", ED_METHODS)
def test_zero_threshold_noise_is_the_noise_free_halftone(method, smooth_rgb):
    plain = halftone(smooth_rgb, method, serpentine=True).image
    np.testing.assert_array_equal(halftone(smooth_rgb, method, serpentine=True, threshold_noise=0.0).image, plain)
    if method != "zhou-fang":  # whose own seed drives its modulation
        np.testing.assert_array_equal(
            halftone(smooth_rgb, method, serpentine=True, threshold_noise=0, seed=9).image, plain
        )
    np.testing.assert_array_equal(ed.error_diffusion(FLAT_100, "floyd-steinberg", False, 0.0, 5), FS_REFERENCE)


@pytest.mark.parametrize("method", NOISY_METHODS)
def test_threshold_noise_changes_decisions_and_keeps_tone(method):
    for level in (0.25, 0.5, 0.62):
        flat = np.full((160, 160), level, np.float32)
        plain = halftone(flat, method).image
        noisy = halftone(flat, method, threshold_noise=0.1, seed=3).image
        assert set(np.unique(noisy)) <= {0.0, 1.0}
        assert (noisy != plain).mean() > 0.05, (method, level)
        assert abs(noisy.mean() - level) < 0.005, (method, level, noisy.mean())
        np.testing.assert_array_equal(noisy, halftone(flat, method, threshold_noise=0.1, seed=3).image)
        assert (noisy != halftone(flat, method, threshold_noise=0.1, seed=4).image).any()


def test_threshold_noise_per_channel_and_on_every_path(smooth_rgb, rng):
    grey = np.repeat(np.full((64, 64, 1), 0.4, np.float32), 3, axis=2)
    channels = halftone(grey, "floyd-steinberg", threshold_noise=0.1, seed=1).image
    assert (channels[..., 0] != channels[..., 1]).any()  # each channel draws its own noise
    plane = np.ascontiguousarray(smooth_rgb[..., 1])
    for kernel in ("jarvis-judice-ninke", "stucki"):  # the window path draws as the generic kernel does
        dys, dxs, weights = ed.KERNELS[kernel].arrays()
        window = ed.window_weights(ed.KERNELS[kernel])
        for serpentine in (False, True):
            generic = ed._diffuse(plane, np.empty_like(plane), dys, dxs, weights, serpentine, 0.08, 7)
            fast = ed._diffuse_window(plane, np.empty_like(plane), window, serpentine, 0.08, 7)
            np.testing.assert_array_equal(fast, generic)
    # the fixed-point Floyd-Steinberg path draws the same thresholds as the float kernel: on a small
    # patch, where no value falls within the fixed point's rounding of a threshold, they decide alike
    # (on large images one such tie sends the two down different, equally valid, paths)
    dys, dxs, weights = ed.KERNELS["floyd-steinberg"].arrays()
    patch = rng.random((6, 8), dtype=np.float32)
    generic = ed._diffuse(patch, np.empty_like(patch), dys, dxs, weights, True, 0.3, 7)
    np.testing.assert_array_equal(ed.error_diffusion(patch, "floyd-steinberg", True, 0.3, 7), generic)
    assert (generic != ed.error_diffusion(patch, "floyd-steinberg", True)).any()
    with pytest.raises(ValueError, match="threshold_noise"):
        ed.error_diffusion(plane, threshold_noise=0.6)
    with pytest.raises(ValueError, match="parameter 'threshold_noise' must be in"):
        halftone(plane, "stucki", threshold_noise=-0.1)
