import numpy as np
import pytest

from deep_halftoning.halftone import halftone
from deep_halftoning.halftone.scan import simulate_scan
from deep_halftoning.inference import BASELINES, analyse, descreen_baseline
from deep_halftoning.models.metrics import psnr


def _flat_cmyk(size: int = 512) -> np.ndarray:
    rgb = np.empty((size, size, 3), np.float32)
    rgb[:] = (0.5, 0.6, 0.7)  # with ucr 0.5: every ink present
    return rgb


def _angle_error(a: float, b: float) -> float:
    d = abs(a - b) % 90
    return min(d, 90 - d)


@pytest.mark.parametrize(
    ("lpi", "dpi", "angles"),
    [
        (100, 600, (15, 75, 0, 45)),
        (75, 600, (0, 15, 30, 45)),
        (85, 300, (15, 75, 0, 45)),  # issue 17: a period of 3.53 px was called dispersed
        (150, 600, (15, 75, 0, 45)),  # issue 17: the default screen, whose 15 degree screen was missed
    ],
)
def test_detects_each_screen_of_an_am_print(lpi, dpi, angles):
    screened = halftone(_flat_cmyk(), "am-cmyk", ucr=0.5, lpi=lpi, dpi=dpi, angles=angles).image
    for image in (screened, simulate_scan(screened, seed=3)):
        analysis = analyse(image, dpi=dpi)
        assert analysis.kind == "am"
        assert len(analysis.screens) == 4
        for screen in analysis.screens:
            assert screen.lpi == pytest.approx(lpi, rel=0.02)
            assert screen.period == pytest.approx(dpi / lpi, rel=0.02)
        for a in angles:  # every screen, once
            assert sum(_angle_error(s.angle, a) < 1.0 for s in analysis.screens) == 1, (a, analysis.screens)


def test_detects_a_single_grey_screen_and_its_period():
    grey = np.tile(np.linspace(0.2, 0.8, 400, dtype=np.float32), (400, 1))
    analysis = analyse(halftone(grey, "am-cmyk", lpi=80, dpi=480, angles=(0, 0, 0, 30)).image)
    assert analysis.kind == "am"
    assert analysis.screens[0].period == pytest.approx(6.0, rel=0.03)
    assert _angle_error(analysis.screens[0].angle, 30) < 1.5


def test_tells_dispersed_from_continuous(rng):
    import cv2

    smooth = cv2.resize(rng.random((8, 10, 3), dtype=np.float32), (400, 320), interpolation=cv2.INTER_CUBIC)
    big = np.clip(smooth + rng.normal(0, 0.01, smooth.shape), 0, 1).astype(np.float32)  # a photo with sensor noise
    assert analyse(big).kind == "continuous"
    for method in ("floyd-steinberg", "jarvis-judice-ninke", "bayer-8", "blue-noise"):
        assert analyse(halftone(big, method).image).kind == "dispersed", method
    with pytest.raises(ValueError, match="too small"):
        analyse(np.zeros((16, 16), np.float32))


@pytest.mark.parametrize("method", ["floyd-steinberg", "am-cmyk"])
def test_baselines_recover_much_of_the_image(method, rng):
    import cv2

    clean = np.clip(
        cv2.resize(rng.random((8, 10, 3), dtype=np.float32), (400, 320), interpolation=cv2.INTER_CUBIC), 0, 1
    )
    screened = halftone(clean, method, lpi=100, dpi=600).image if method == "am-cmyk" else halftone(clean, method).image
    if method == "am-cmyk":
        screened = simulate_scan(screened, seed=1)
    before = psnr(screened, clean)
    for baseline in BASELINES:
        after = psnr(descreen_baseline(screened, baseline), clean)
        if baseline != "median" or method == "am-cmyk":  # a median keeps binary dots binary
            assert after > before + 8, (baseline, before, after)
    with pytest.raises(ValueError, match="unknown baseline"):
        descreen_baseline(screened, "wiener")
