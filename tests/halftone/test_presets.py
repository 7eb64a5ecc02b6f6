import numpy as np
import pytest

from deep_halftoning import demo
from deep_halftoning.cli import main
from deep_halftoning.halftone.presets import PRESETS_DIR, get_preset, load_preset, preset_names
from deep_halftoning.inference import analyse
from deep_halftoning.io import read_image, read_info, write_image

PRESETS = sorted(PRESETS_DIR.glob("*.yaml"))


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


def test_presets_by_name_work_from_any_folder(tmp_path, monkeypatch, smooth_rgb, capsys):
    photo = write_image(tmp_path / "photo.png", smooth_rgb)
    monkeypatch.chdir(tmp_path)  # no conf/ here: the names come from the package
    assert not (tmp_path / "conf").exists() and "newspaper" in preset_names()
    for name in ("newspaper", "comics"):
        assert main(["halftone", str(photo), f"{name}.png", "--preset", name]) == 0
        expected = load_preset(PRESETS_DIR / f"{name}.yaml").apply(read_image(photo)).image
        np.testing.assert_allclose(read_image(f"{name}.png"), expected, atol=0.5 / 255)
    (tmp_path / "mine.yaml").write_text("method: bayer-8\nmode: gray\n")
    assert main(["halftone", str(photo), "mine.png", "--preset", "mine.yaml"]) == 0  # a path still works
    assert read_image("mine.png").ndim == 2
    assert main(["halftone", str(photo), "x.png", "--preset", "newspapr"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown preset 'newspapr' (did you mean 'newspaper'?)" in err and "\n" not in err
    assert all(name in err for name in preset_names()) and not (tmp_path / "x.png").exists()


def test_am_presets_state_their_screen_and_tag_their_dpi(tmp_path, smooth_rgb):
    assert get_preset("newspaper").screen == (85.0, 300.0, (15.0, 75.0, 0.0, 45.0))
    assert get_preset("inkjet").screen is None  # error diffusion: no ruling
    photo = write_image(tmp_path / "photo.png", smooth_rgb)
    assert main(["halftone", str(photo), str(tmp_path / "m.png"), "--preset", "magazine"]) == 0
    assert read_info(tmp_path / "m.png").dpi == (600.0, 600.0)  # so that its ruling reads 150 lpi


def test_comics_is_a_coarse_round_dot_screen():
    lpi, dpi, angles = get_preset("comics").screen
    assert 20 <= lpi * 300 / dpi <= 35 and sorted(angles) == [0.0, 15.0, 45.0, 75.0]
    flat = np.zeros((256, 256, 3), np.float32) + np.array([0.9, 0.55, 0.5], np.float32)  # a skin tone
    printed = get_preset("comics").apply(flat).image
    found = analyse(printed, dpi=dpi)
    assert found.kind == "am" and found.screens[0].lpi == pytest.approx(lpi, rel=0.05)
    assert printed.std() > 0.15  # coarse, visible dots, not a fine tint
