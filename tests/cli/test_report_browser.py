"""The report as a browser draws it: headless Chromium screenshots, read back with numpy.

Slow (a browser start per screenshot) and needs Chromium: the Debian package ``chromium`` is
installed with apt-get when the tests run as root, otherwise they are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deep_halftoning.batch.report import DIVIDER_COLOUR, write_report
from deep_halftoning.io import write_image

pytestmark = pytest.mark.slow

BEFORE = ((1.0, 0.0, 0.0), (1.0, 1.0, 0.0))  # red and yellow squares
AFTER = ((0.0, 0.0, 1.0), (0.0, 1.0, 1.0))  # blue and cyan squares
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
WINDOW = (1200, 900)


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    found = _find_chromium()
    if found:
        return found
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("apt-get"):
        pytest.skip("needs headless Chromium: install the Debian package `chromium` (apt-get install -y chromium)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]
    done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:  # stale package lists: refresh them once
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    found = _find_chromium()
    if not found:
        reason = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        pytest.skip(f"could not install chromium with apt-get ({reason[0]})")
    return found


def _checker(h: int, w: int, colours: tuple, cell: int = 20) -> np.ndarray:
    y, x = np.mgrid[:h, :w]
    return np.where((((x // cell) + (y // cell)) % 2 == 0)[..., None], *colours).astype(np.float32)


def _page(folder: Path, size: tuple[int, int], cell: int = 20, before: np.ndarray | None = None, **options) -> Path:
    """A report of one descreened file whose input and output are the colour patterns above (or ``before``)."""
    h, w = size
    source = write_image(folder / "scan <1> & co.png", _checker(h, w, BEFORE, cell) if before is None else before)
    output = write_image(folder / "scan_descreened.png", _checker(h, w, AFTER, cell))
    record = {
        "input": str(source),
        "output": str(output),
        "status": "descreened",
        "pages": 1,
        "method": "fft",
        "seconds": 0.5,
        "analysis": [{"kind": "dispersed", "high_frequency_share": 0.9, "peak_ratio": 5.0, "screens": []}],
    }
    summary = {"method": "fft", "seconds": 0.6, "counts": {"total": 1}, "files": [record]}
    return write_report(folder / "report.html", summary, **options)


def _run(chromium: str, page: Path, tmp: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [chromium, *FLAGS, f"--user-data-dir={tmp / 'profile'}", f"--window-size={WINDOW[0]},{WINDOW[1]}"]
    done = subprocess.run([*command, *extra, page.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def _with_script(page: Path, name: str, script: str) -> Path:
    """A copy of ``page`` that runs ``script`` once loaded, as a user's clicks would."""
    text = page.read_text(encoding="utf-8").replace("</body>", f"<script>{script}</script></body>")
    copy = page.with_name(name)
    copy.write_text(text, encoding="utf-8")
    return copy


def _screenshot(chromium: str, page: Path, tmp: Path) -> np.ndarray:
    shot = tmp / f"{page.stem}.png"
    _run(chromium, page, tmp, f"--screenshot={shot}")
    return np.asarray(Image.open(shot).convert("RGB")).astype(int)


def _mask(shot: np.ndarray, colour: tuple) -> np.ndarray:
    target = np.array(colour) * 255
    return np.abs(shot - target).max(axis=2) < 60


def _columns(mask: np.ndarray, least: int) -> np.ndarray:
    """The x of every column with at least ``least`` pixels of ``mask``."""
    return np.flatnonzero(mask.sum(axis=0) >= least)


def _layout(shot: np.ndarray, height: int) -> dict[str, float]:
    """Where the before colours, the after colours and the divider are drawn, in screenshot pixels."""
    before = _mask(shot, BEFORE[0]) | _mask(shot, BEFORE[1])
    after = _mask(shot, AFTER[0]) | _mask(shot, AFTER[1])
    divider = _mask(shot, tuple(int(DIVIDER_COLOUR[i : i + 2], 16) / 255 for i in (1, 3, 5)))
    least = int(0.8 * height)  # a column of the image (or the divider) from top to bottom
    b, a, d = _columns(before, least), _columns(after, least), _columns(divider, least)
    assert len(b) and len(a) and len(d), "the before image, the after image and the divider must all be drawn"
    rows = np.flatnonzero(before.any(axis=1) | after.any(axis=1))
    return {
        "before": (b.min(), b.max()),
        "after": (a.min(), a.max()),
        "divider": (d.min(), d.max()),
        "rows": rows.max() - rows.min() + 1,
        "stray_after": int(after[:, : b.max()].sum()),  # after colours left of the divider
        "stray_before": int(before[:, a.min() :].sum()),  # before colours right of it
    }


def _check_split(layout: dict, width: int, at: float) -> None:
    """Before on the left, after on the right, the divider between them at ``at`` of the image's width."""
    (b0, b1), (a0, a1), (d0, d1) = layout["before"], layout["after"], layout["divider"]
    middle = (d0 + d1) / 2
    assert b0 < b1 < d0 <= d1 < a0 < a1
    assert a1 - b0 + 1 == pytest.approx(width, abs=3)  # the whole image is drawn
    assert middle - b0 == pytest.approx(at * width, abs=3)
    assert 2 <= d1 - d0 + 1 <= 8 and a0 - b1 <= 8  # a thin divider, nothing else between the halves
    assert layout["stray_after"] == 0 and layout["stray_before"] == 0


def test_the_slider_shows_before_left_and_after_right_of_the_divider(chromium, tmp_path):
    size = (300, 480)
    page = _page(tmp_path, size)
    assert "data:image/png;base64," in page.read_text() and not (tmp_path / "report_files").exists()
    shot = _screenshot(chromium, page, tmp_path)
    assert shot.shape[:2] == (WINDOW[1], WINDOW[0])
    layout = _layout(shot, size[0])
    _check_split(layout, size[1], 0.5)
    assert layout["rows"] == pytest.approx(size[0], abs=2)  # fits: drawn at its own size, 1:1


def test_previews_beside_the_page_load_from_its_files_folder(chromium, tmp_path):
    size = (300, 480)
    page = _page(tmp_path, size, embed_limit=0)
    files = list((tmp_path / "report_files").iterdir())
    assert "data:image" not in page.read_text() and len(files) == 4  # before, after and their 339 px reductions
    _check_split(_layout(_screenshot(chromium, page, tmp_path), size[0]), size[1], 0.5)


def test_arrow_keys_move_the_divider_and_the_button_shows_1_to_1_pixels(chromium, tmp_path):
    size = (200, 1600)  # wider than the window: fit-to-window shrinks it, 1:1 scrolls
    page = _page(tmp_path, size)
    fit = _layout(_screenshot(chromium, page, tmp_path), int(size[0] * 0.6))
    shown = fit["after"][1] - fit["before"][0] + 1
    assert shown < WINDOW[0] and fit["rows"] == pytest.approx(size[0] * shown / size[1], abs=3)
    _check_split(fit, shown, 0.5)

    # what a user does: focus the divider, press the left arrow 25 times, then the 1:1 button
    actions = """<script>
      var divider = document.querySelector(".divider");
      divider.focus();
      for (var i = 0; i < 25; i++) {
        divider.dispatchEvent(new KeyboardEvent("keydown", {key: "ArrowLeft", bubbles: true}));
      }
      document.querySelector('button.zoom[data-zoom="1"]').click();
    </script></body>"""
    text = page.read_text(encoding="utf-8")
    keyed = page.with_name("keyed.html")
    keyed.write_text(text.replace("</body>", actions), encoding="utf-8")
    shot = _screenshot(chromium, keyed, tmp_path)
    actual = _layout(shot, size[0])
    (b0, _), (d0, d1) = actual["before"], actual["divider"]
    assert (d0 + d1) / 2 - b0 == pytest.approx(0.25 * size[1], abs=3)  # 25 % of 1600 px, at 1:1
    assert actual["rows"] == pytest.approx(size[0], abs=2)  # full height: 1:1 pixels
    assert actual["after"][1] < WINDOW[0]  # the rest is scrolled, not squeezed
    dom = _run(chromium, keyed, tmp_path, "--dump-dom").stdout
    assert 'aria-valuenow="25"' in dom and 'data-zoom="1" aria-pressed="true"' in dom


def test_zoom_4x_enlarges_each_pixel_to_a_sharp_4_by_4_block(chromium, tmp_path):
    size = (60, 100)
    page = _page(tmp_path, size, cell=1)  # one-pixel checks: smoothing would blend them into orange
    zoomed = _with_script(page, "zoomed.html", "document.querySelector('button.zoom[data-zoom=\"4\"]').click();")
    shot = _screenshot(chromium, zoomed, tmp_path)
    red, yellow = _mask(shot, BEFORE[0]), _mask(shot, BEFORE[1])
    rows, cols = np.flatnonzero((red | yellow).any(axis=1)), np.flatnonzero((red | yellow).any(axis=0))
    assert rows.max() - rows.min() + 1 == pytest.approx(4 * size[0], abs=2)  # 4x: 240 px high
    assert cols.max() - cols.min() + 1 == pytest.approx(4 * size[1] / 2, abs=4)  # the before half of 400 px
    box = (slice(rows.min() + 2, rows.max() - 2), slice(cols.min() + 2, cols.max() - 6))
    assert (red | yellow)[box].mean() > 0.97  # pure colours: enlarged without smoothing
    row = red[rows.min() + 4, cols.min() : cols.max() - 6].astype(int)
    runs = np.diff(np.flatnonzero(np.diff(row)))
    assert set(runs.tolist()) == {4}  # each pixel a 4-pixel-wide block


def test_fit_to_window_shows_a_screen_without_moire(chromium, tmp_path):
    import re

    from deep_halftoning.halftone import halftone

    tint = halftone(np.full((400, 2048, 3), (0.6, 0.5, 0.4), np.float32), "am-cmyk", lpi=85, dpi=300).image
    page = _page(tmp_path, (400, 2048), before=tint)  # 3.5 px screens, fit to 55 %: finer than the screen's pixels

    def texture(report: Path) -> float:
        """How far the before half, as drawn, is from a flat tint (the screen aliased into moire), in grey levels."""
        shot = _screenshot(chromium, report, tmp_path)
        (r0, r1), (d, a1) = _layout_rows(shot)
        return float(shot[r0 + 24 : r1 - 8, 2 * d - a1 + 8 : d - 24].mean(axis=2).std())

    bare = page.with_name("bare.html")  # the same page without the smooth reductions: the browser shrinks
    bare.write_text(re.sub(r' data-levels="[^"]*"', "", page.read_text(encoding="utf-8")), encoding="utf-8")
    smooth, browser = texture(page), texture(bare)
    assert smooth < 15 and browser > 3 * smooth, (smooth, browser)


def _layout_rows(shot: np.ndarray) -> tuple[tuple[int, int], tuple[int, int]]:
    """The rows of the after half, and the divider's middle column and the after half's right edge."""
    after = _mask(shot, AFTER[0]) | _mask(shot, AFTER[1])
    divider = _mask(shot, tuple(int(DIVIDER_COLOUR[i : i + 2], 16) / 255 for i in (1, 3, 5)))
    rows, cols = np.flatnonzero(after.any(axis=1)), np.flatnonzero(after.sum(axis=0) > 20)
    d = _columns(divider, 20)
    return (int(rows.min()), int(rows.max())), (int((d.min() + d.max()) // 2), int(cols.max()))
