"""``detect`` lists the screens a print has and no others (issue 27): 85 lpi / 300 dpi colour prints of
photographs at C15 M75 Y0 K45, clean and scanned, small to page-sized; and it says when the file's dpi
looks wrong."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from skimage import data

from deep_halftoning.cli import main
from deep_halftoning.halftone import halftone
from deep_halftoning.halftone.scan import simulate_scan
from deep_halftoning.inference import analyse
from deep_halftoning.inference.detect import Screen, ScreenAnalysis, dpi_hint
from deep_halftoning.inference.wording import detect_lines
from deep_halftoning.io import ImageInfo, write_image

ANGLES = (15.0, 75.0, 0.0, 45.0)  # C, M, Y, K


def _print(photo: str, size: tuple[int, int], ucr: float, scanned: bool) -> np.ndarray:
    """``photo`` resized to ``size`` (width, height), screened at 85 lpi / 300 dpi, optionally scanned."""
    rgb = getattr(data, photo)().astype(np.float32) / 255
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA if size[0] < rgb.shape[1] else cv2.INTER_CUBIC)
    screened = halftone(rgb.clip(0, 1), "am-cmyk", lpi=85, dpi=300, angles=ANGLES, ucr=ucr).image
    return simulate_scan(screened, seed=0) if scanned else screened


def _angle_error(a: float, b: float) -> float:
    d = abs(a - b) % 90
    return min(d, 90 - d)


def _assert_exactly(analysis, angles: tuple[float, ...]) -> None:
    assert analysis.kind == "am", analysis
    shown = [(round(s.lpi, 1), round(s.angle, 1), round(s.strength, 3)) for s in analysis.screens]
    assert len(analysis.screens) == len(angles), shown
    assert all(s.lpi == pytest.approx(85, rel=0.02) for s in analysis.screens), shown
    for angle in angles:  # each screen once: no ghost beside it
        assert sum(_angle_error(s.angle, angle) < 1.0 for s in analysis.screens) == 1, (angle, shown)


@pytest.mark.parametrize("photo", ["astronaut", "chelsea"])
@pytest.mark.parametrize("size", [(256, 256), (512, 512), (1024, 1024), (3000, 2000)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_four_colour_print_shows_its_four_screens_and_no_ghost(photo, size):
    """Partial grey-component replacement (``ucr=0.5``): all four inks are on the paper."""
    for scanned in (True, False) if size == (512, 512) else (True,):
        _assert_exactly(analyse(_print(photo, size, 0.5, scanned), dpi=300), ANGLES)


@pytest.mark.parametrize("photo", ["astronaut", "chelsea"])
@pytest.mark.parametrize("size", [(256, 256), (512, 512), (1024, 1024), (3000, 2000)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_print_without_cyan_shows_no_ghost(photo, size):
    """Full grey-component replacement (``ucr=1``, the default) of warm photos leaves (almost) no cyan ink:
    chelsea has none, astronaut 2 %. The 15 degree peak is then the beat of M75 and K45 (the same with cyan
    moved to 30 degrees): three screens, with the 15 degree one at most once, and nothing else (no sideband
    beside K45, no K45 x Y0 beat at 65 lpi, no beat of K45's harmonic with Y0 at 35 lpi)."""
    analysis = analyse(_print(photo, size, 1.0, True), dpi=300)
    if any(_angle_error(s.angle, 15.0) < 1.0 for s in analysis.screens):
        _assert_exactly(analysis, ANGLES)
    else:
        _assert_exactly(analysis, (75.0, 0.0, 45.0))


def test_the_cli_shows_strengths_and_doubts_a_wrong_dpi_tag(tmp_path, capsys):
    """A 150 lpi print scanned at 600 dpi, in a file that says 300 dpi, reads 75 lpi: the CLI says so."""
    rgb = cv2.resize(data.chelsea().astype(np.float32) / 255, (600, 400), interpolation=cv2.INTER_AREA)
    scan = simulate_scan(halftone(rgb, "am-cmyk", lpi=150, dpi=600, ucr=0.5).image, seed=0)
    path = write_image(tmp_path / "scan.png", scan, info=ImageInfo(dpi=(300.0, 300.0)))
    assert main(["detect", str(path)]) == 0
    out = capsys.readouterr().out
    assert "75 lpi at 300 dpi" in out and "strength 1.00" in out, out
    hints = [line for line in out.splitlines() if "hint:" in line]
    assert len(hints) == 1 and "--dpi 600" in hints[0] and "150 lpi" in hints[0], out
    assert main(["detect", str(path), "--dpi", "600"]) == 0
    out = capsys.readouterr().out
    assert "150 lpi at 600 dpi" in out and "hint" not in out, out
    assert main(["detect", str(path), "--json"]) == 0
    assert "--dpi 600" in json.loads(capsys.readouterr().out)["dpi_hint"]


def test_dpi_hints():
    assert dpi_hint(85, 300) is None and dpi_hint(150, 600) is None and dpi_hint(133, 1200) is None
    assert "--dpi 600" in dpi_hint(75, 300)
    assert "--dpi 300" in dpi_hint(42.5, 150)
    assert "display default" in dpi_hint(50, 72)
    assert "outside print rulings" in dpi_hint(1000, 300)


def test_the_lead_screens_hint_and_the_lines_of_detect():
    screen = Screen(frequency=0.25, period=4.0, angle=45.0, strength=1.0, lpi=75.0)
    analysis = ScreenAnalysis("am", 0.5, 1000.0, [screen], dpi=300.0)
    assert "--dpi 600" in analysis.resolution_hint()
    assert ScreenAnalysis("am", 0.5, 1000.0, [Screen(0.25, 4.0, 45.0, 1.0)]).resolution_hint() is None
    assert ScreenAnalysis("continuous", 0.05, 0.0, dpi=300.0).resolution_hint() is None
    found = {**analysis.to_dict(), "dpi_hint": analysis.resolution_hint()}
    assert detect_lines("scan.png", found) == [
        "scan.png: am (high-frequency share 0.50, peak ratio 1000)",
        "  screen 1: 0.2500 cycles/px (period 4.00 px), 75 lpi at 300 dpi, angle 45.0 deg, strength 1.00",
        f"  hint: {analysis.resolution_hint()}",
    ]
    unknown = {**found, "dpi": None, "dpi_hint": None, "screens": [{**found["screens"][0], "lpi": None}]}
    assert detect_lines("scan.png", unknown)[-1].startswith("  hint: the file gives no resolution; --dpi DPI")
