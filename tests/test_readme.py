"""Every Python example of the README runs as written, in a fresh folder holding the files it reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from deep_halftoning.halftone import halftone
from deep_halftoning.io import write_image

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```", README.read_text(encoding="utf-8"), re.DOTALL | re.MULTILINE)


def test_the_readme_has_python_examples():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("number", range(1, len(BLOCKS) + 1))
def test_readme_python_example_runs(number, tmp_path, monkeypatch, smooth_rgb):
    monkeypatch.chdir(tmp_path)  # nothing of the checkout around: only what a reader has
    write_image("photo.jpg", smooth_rgb)  # what the examples read: a photo and a scanned halftone
    write_image("scan.png", halftone(smooth_rgb, "am-cmyk", lpi=100, dpi=600).image)
    code = compile(BLOCKS[number - 1], f"README.md, Python example {number}", "exec")
    exec(code, {"__name__": "__readme__"})
