import numpy as np
import pytest

from deep_halftoning.halftone import halftone, ordered


@pytest.mark.parametrize("size", [2, 4, 8, 16])
def test_bayer_on_constant_grey_sets_expected_fraction(size):
    n = size * size
    for k in (0, 1, n // 3, n // 2, n - 1, n):
        out = halftone(np.full((4 * size, 6 * size), k / n, np.float32), f"bayer-{size}").image
        assert out.mean() == pytest.approx(k / n), (size, k)


@pytest.mark.parametrize(
    "ranks",
    [
        ordered.bayer_matrix(8),
        ordered.clustered_dot_matrix(6),
        ordered.diagonal_dot_matrix(8),
        ordered.blue_noise_matrix(16),
    ],
)
def test_matrices_are_permutations(ranks):
    assert sorted(ranks.ravel()) == list(range(ranks.size))


def test_bayer_recursion():
    np.testing.assert_array_equal(ordered.bayer_matrix(2), [[0, 2], [3, 1]])
    with pytest.raises(ValueError):
        ordered.bayer_matrix(6)


def test_clustered_dot_grows_from_the_centre():
    ranks = ordered.clustered_dot_matrix(8)
    assert ranks[3:5, 3:5].max() == 3  # the four centre cells come first
    assert ranks[0, 0] >= 60


def _low_frequency_share(pattern: np.ndarray) -> float:
    spectrum = np.abs(np.fft.fft2(pattern - pattern.mean())) ** 2
    f = np.fft.fftfreq(pattern.shape[0])
    radius = np.hypot(*np.meshgrid(f, f))
    return spectrum[radius < 0.15].sum() / spectrum.sum()


def test_blue_noise_has_little_low_frequency_energy():
    ranks = ordered.blue_noise_matrix(64)
    white = np.random.default_rng(0).permutation(64 * 64).reshape(64, 64)
    for level in (0.1, 0.5):
        blue = _low_frequency_share((ranks < level * ranks.size).astype(float))
        noise = _low_frequency_share((white < level * white.size).astype(float))
        assert blue < 0.25 * noise


def test_blue_noise_is_cached_and_seeded():
    assert ordered.blue_noise_matrix(32, 5) is ordered.blue_noise_matrix(32, 5)
    assert (ordered.blue_noise_matrix(32, 5) != ordered.blue_noise_matrix(32, 6)).any()
    with pytest.raises(ValueError):
        ordered.blue_noise_matrix(2)


def test_ordered_reuses_out_buffer():
    plane = np.random.default_rng(0).random((33, 47), dtype=np.float32)
    out = np.empty_like(plane)
    result = ordered.ordered_dither(plane, ordered.bayer_matrix(4), out=out)
    assert result is out
    np.testing.assert_array_equal(out, ordered.ordered_dither(plane, ordered.bayer_matrix(4), threads=1))
    with pytest.raises(ValueError, match="out must be"):
        ordered.ordered_dither(plane, ordered.bayer_matrix(4), out=np.empty((3, 3), np.float32))
