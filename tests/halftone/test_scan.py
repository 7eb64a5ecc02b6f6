import numpy as np
import pytest

from deep_halftoning.halftone import scan


def test_scan_is_pure_and_seeded(smooth_rgb):
    before = smooth_rgb.copy()
    a = scan.simulate_scan(smooth_rgb, seed=7)
    np.testing.assert_array_equal(smooth_rgb, before)
    np.testing.assert_array_equal(a, scan.simulate_scan(smooth_rgb, seed=7))
    assert (a != scan.simulate_scan(smooth_rgb, seed=8)).any()
    assert a.shape == smooth_rgb.shape and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 1


def test_each_step(smooth_rgb):
    binary = (smooth_rgb > 0.5).astype(np.float32)
    assert scan.optical_blur(binary, 1.5).std() < binary.std()
    noisy = scan.sensor_noise(smooth_rgb, 0.05, seed=0)
    assert 0.03 < (noisy - smooth_rgb).std() < 0.06
    textured = scan.paper_texture(smooth_rgb, 0.05, seed=0)
    assert 0 < np.abs(textured - smooth_rgb).mean() < 0.05
    rotated = scan.rotate(smooth_rgb, 2.0)
    assert rotated.shape == smooth_rgb.shape and abs(rotated.mean() - smooth_rgb.mean()) < 0.02
    jpg = scan.jpeg(smooth_rgb, 75)
    assert np.abs(jpg - smooth_rgb).mean() < 0.02
    gray = scan.simulate_scan(smooth_rgb[..., 0], scan.ScanSettings(rotation=1.0, jpeg_quality=None))
    assert gray.shape == smooth_rgb.shape[:2]
    for zero in (
        scan.optical_blur(smooth_rgb, 0),
        scan.sensor_noise(smooth_rgb, 0, 1),
        scan.rotate(smooth_rgb, 0),
    ):
        np.testing.assert_array_equal(zero, smooth_rgb)


def test_bad_settings():
    with pytest.raises(ValueError):
        scan.optical_blur(np.zeros((4, 4), np.float32), -1)
    with pytest.raises(ValueError):
        scan.jpeg(np.zeros((4, 4), np.float32), 0)


def test_noise_fields_are_gaussian_seeded_and_cover_any_size():
    small = scan._gaussian_field((256, 256, 3), 0.02, seed=3)
    assert small.dtype == np.float32 and abs(small.mean()) < 1e-3 and abs(small.std() - 0.02) < 1e-3
    np.testing.assert_array_equal(small, scan._gaussian_field((256, 256, 3), 0.02, seed=3))
    assert (small != scan._gaussian_field((256, 256, 3), 0.02, seed=4)).mean() > 0.99
    big = scan._gaussian_field((1200, 1000), 1.0, seed=5).ravel()  # larger than the table it is cut from
    assert big.size > scan.NORMAL_TABLE_SIZE and abs(big.std() - 1.0) < 0.01
    runs = big[: big.size // scan.NOISE_CHUNK * scan.NOISE_CHUNK].reshape(-1, scan.NOISE_CHUNK)
    assert len({run[:8].tobytes() for run in runs}) == len(runs)  # every run cut at its own offset
    neighbours = np.corrcoef(big[:-1], big[1:])[0, 1]
    assert abs(neighbours) < 0.01  # white: no correlation between neighbouring values


def test_resampling_loses_the_finest_detail_and_nothing_else(smooth_rgb):
    np.testing.assert_array_equal(scan.resample(smooth_rgb, 1.0), smooth_rgb)
    checker = np.indices((64, 64)).sum(axis=0) % 2 * np.float32(1.0)  # the finest pattern there is
    assert scan.resample(checker, 0.5).std() < 0.1 * checker.std()
    half = scan.resample(smooth_rgb, 0.5)
    assert half.shape == smooth_rgb.shape and half.dtype == np.float32 and half.min() >= 0 and half.max() <= 1
    assert np.abs(half - smooth_rgb).mean() < 0.01  # the low frequencies survive
    odd = scan.resample(smooth_rgb[:37, :53, 0], 0.7)
    assert odd.shape == (37, 53)
    with pytest.raises(ValueError, match="resample scale"):
        scan.resample(smooth_rgb, 1.5)


def test_scan_settings_resample_and_validate(smooth_rgb):
    plain = scan.ScanSettings(jpeg_quality=None)
    np.testing.assert_array_equal(
        scan.simulate_scan(smooth_rgb, scan.ScanSettings(jpeg_quality=None, resample_scale=1.0), seed=2),
        scan.simulate_scan(smooth_rgb, plain, seed=2),
    )
    binary = (smooth_rgb > 0.5).astype(np.float32)
    sharp = scan.simulate_scan(binary, scan.ScanSettings(0.0, 0.0, 0.0, 0.0, None), seed=2)
    soft = scan.simulate_scan(binary, scan.ScanSettings(0.0, 0.0, 0.0, 0.0, None, resample_scale=0.5), seed=2)
    np.testing.assert_array_equal(sharp, binary)
    assert np.abs(soft - binary).mean() > 0.005
    for bad in ({"resample_scale": 0.0}, {"jpeg_quality": 0}, {"blur_sigma": -1.0}, {"noise_sigma": -0.1}):
        with pytest.raises(ValueError):
            scan.ScanSettings(**bad)
