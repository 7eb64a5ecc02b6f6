from pathlib import Path

import numpy as np
import pytest

from deep_halftoning import demo
from deep_halftoning.halftone.presets import load_preset
from deep_halftoning.io import read_image

PRESETS = sorted((Path(__file__).resolve().parents[1] / "conf" / "halftone").glob("*.yaml"))


@pytest.mark.parametrize("path", PRESETS, ids=lambda p: p.stem)
def test_shipped_presets_load_and_run(path, smooth_rgb):
    preset = load_preset(path)
    result = preset.apply(smooth_rgb)
    assert result.method == preset.method and result.image.shape[:2] == smooth_rgb.shape[:2]


def test_bad_presets(tmp_path):
    cases = {
        "key.yaml": ("method: bayer-8\ncolour: red\n", "unknown preset key 'colour'"),
        "param.yaml": ("method: bayer-8\nparams: {lpi: 3}\n", "no parameter 'lpi'"),
        "mode.yaml": ("method: bayer-8\nmode: lab\n", "mode must be"),
        "nomethod.yaml": ("params: {}\n", "'method' key"),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=message):
            load_preset(tmp_path / name)
    with pytest.raises(ValueError, match="cannot read preset"):
        load_preset(tmp_path / "missing.yaml")


def test_demo_writes_every_preset(tmp_path, capsys):
    assert demo.main([str(tmp_path), "--presets", str(PRESETS[0].parent)]) == 0
    written = sorted(p.stem for p in tmp_path.glob("*.png"))
    assert written == sorted(["original", *(p.stem for p in PRESETS)])
    assert np.isfinite(read_image(tmp_path / "original.png")).all()
