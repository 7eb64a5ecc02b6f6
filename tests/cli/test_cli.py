import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deep_halftoning.cli import main
from deep_halftoning.config import CONF_DIR
from deep_halftoning.halftone import METHODS
from deep_halftoning.io import read_image

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def photo_path(tmp_path, rng) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray((rng.random((24, 32, 3)) * 255).astype(np.uint8)).save(path)
    return path


def test_methods_lists_the_catalogue(capsys):
    assert main(["methods"]) == 0
    text = capsys.readouterr().out
    assert all(name in text for name in METHODS)
    assert main(["methods", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(METHODS)


def test_halftone_writes_png(tmp_path, photo_path):
    out = tmp_path / "out.png"
    assert (
        main(
            [
                "halftone",
                str(photo_path),
                str(out),
                "--method",
                "jarvis-judice-ninke",
                "--serpentine",
            ]
        )
        == 0
    )
    image = read_image(out)
    assert image.shape == (24, 32, 3) and set(np.unique(image)) <= {0.0, 1.0}
    args = [
        "halftone",
        str(photo_path),
        str(tmp_path / "am.png"),
        "--method",
        "am-cmyk",
        "--lpi",
        "85",
        "--dpi",
        "300",
        "--angles",
        "0,15,30,45",
        "--dot",
        "elliptical",
        "--mode",
        "cmyk",
    ]
    assert main(args) == 0
    assert (
        main(
            [
                "halftone",
                str(photo_path),
                str(tmp_path / "g.png"),
                "--mode",
                "gray",
                "--seed",
                "2",
                "--method",
                "blue-noise",
                "--param",
                "size=32",
            ]
        )
        == 0
    )
    assert read_image(tmp_path / "g.png").ndim == 2


def test_preset_and_overrides(tmp_path, photo_path):
    preset = CONF_DIR / "halftone" / "newspaper.yaml"
    assert (
        main(
            [
                "halftone",
                str(photo_path),
                str(tmp_path / "n.png"),
                "--preset",
                str(preset),
                "--lpi",
                "60",
            ]
        )
        == 0
    )
    from deep_halftoning.halftone.presets import load_preset

    preset_made = load_preset(preset)
    image = read_image(photo_path)
    written = read_image(tmp_path / "n.png")
    # the file is the preset with the override (8-bit PNG), not the preset's own ruling
    np.testing.assert_allclose(written, preset_made.apply(image, lpi=60.0).image, atol=0.5 / 255)
    assert np.abs(written - preset_made.apply(image).image).max() > 0.1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "nope"], "unknown method"),
        (["--method", "floyd-steinberg", "--lpi", "100"], "no parameter 'lpi'"),
        (["--param", "bogus=1"], "no parameter 'bogus'"),
        (["--method", "am-cmyk", "--angles", "1,2"], "comma-separated"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, photo_path, capsys, extra, message):
    assert main(["halftone", str(photo_path), str(tmp_path / "o.png"), *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_bad_inputs_exit_2(tmp_path, photo_path, capsys):
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "text.png"
    text.write_text("hello")
    for source, message in [
        (tmp_path / "missing.png", "no such file"),
        (empty, "empty"),
        (text, "not an image"),
    ]:
        assert main(["halftone", str(source), str(tmp_path / "o.png")]) == 2
        assert message in capsys.readouterr().err
    before = photo_path.read_bytes()
    assert main(["halftone", str(photo_path), str(photo_path)]) == 2
    assert "overwrite an input" in capsys.readouterr().err
    assert photo_path.read_bytes() == before


def test_console_script_runs(tmp_path, photo_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "deep_halftoning.cli",
            "halftone",
            str(photo_path),
            str(tmp_path / "x.png"),
            "--method",
            "bayer-8",
            "--bit-depth",
            "16",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "x.png").exists()


# --------------------------------------------------------------------------- no silent guesses, one-line errors


def _lines(text):
    return [line for line in text.splitlines() if line.strip()]


def test_halftone_without_method_says_which_it_used(tmp_path, photo_path, capsys):
    assert main(["halftone", str(photo_path), str(tmp_path / "o.png")]) == 0
    assert _lines(capsys.readouterr().err) == [
        "note: halftoned with floyd-steinberg, the default (no --method; `deep-halftoning methods` lists all)"
    ]
    assert main(["halftone", str(photo_path), str(tmp_path / "o.png"), "--method", "bayer-4"]) == 0
    assert capsys.readouterr().err == ""  # named: nothing to say
    assert main(["halftone", str(photo_path), str(tmp_path / "o.png"), "-q"]) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["halftone", "{in}", "{out}", "--method", "am-cmyk", "--dpi", "0"], "argument --dpi: must be positive, got 0"),
        (["halftone", "{in}", "{out}", "--method", "am-cmyk", "--lpi", "-85"], "argument --lpi: must be positive"),
        (["halftone", "{in}", "{out}", "--method", "am-cmyk", "--lpi", "nan"], "argument --lpi: expected a finite"),
        (["halftone", "{in}", "{out}", "--ucr", "1.5"], "argument --ucr: must be in [0, 1]"),
        (["halftone", "{in}", "{out}", "--method", "blue-noise", "--size", "0"], "argument --size: must be at least 1"),
        (["halftone", "{in}", "{out}", "--bit-depth", "12"], "argument --bit-depth: invalid choice"),
        (["descreen", "{in}", "-o", "{dir}", "--method", "fft", "--checkpoint", "x.ckpt"], "cannot be combined"),
        (["descreen", "{in}", "-o", "{dir}", "--method", "median", "--perceptual"], "cannot be combined"),
        (["descreen", "{in}", "-o", "{dir}", "--method", "gaussian", "--tile", "64"], "--tile is for the model"),
        (["descreen", "{in}", "-o", "{dir}", "--tile", "100"], "argument --tile: must be a multiple of 32"),
        (["descreen", "{in}", "-o", "{dir}", "--tile", "0"], "argument --tile: must be at least 32"),
        (["descreen", "{in}", "-o", "{dir}", "--tile", "16384"], "argument --tile: must be at most 8192"),
        (["descreen", "{in}", "-o", "{dir}", "--tile", "64", "--overlap", "64"], "must be smaller than the tile"),
        (["descreen", "{in}", "-o", "{dir}", "--overlap", "-1"], "argument --overlap: must be at least 0"),
        (["descreen", "{in}", "-o", "{dir}", "--batch", "0"], "argument --batch: must be at least 1"),
        (["descreen", "{in}", "-o", "{dir}", "--dpi", "-300"], "argument --dpi: must be positive"),
        (["descreen", "{in}", "-o", "{dir}", "--device", "toaster"], "--device toaster: not a device"),
        (["rescreen", "{in}", "{out}", "--descreen", "fft", "--checkpoint", "x.ckpt"], "cannot be combined"),
        (["rescreen", "{in}", "{out}", "--descreen", "fft", "--dpi", "0"], "argument --dpi: must be positive"),
        (["detect", "{in}", "--dpi", "0"], "argument --dpi: must be positive"),
        (["halftone", "{in}"], "the following arguments are required: output"),
        (["descreen", "{in}", "-o", "{dir}", "--bogus"], "unrecognized arguments: --bogus"),
    ],
)
def test_contradictory_or_out_of_range_options_are_one_line(tmp_path, photo_path, capsys, command, message):
    out = tmp_path / "out"
    args = [a.format(**{"in": photo_path, "out": out / "o.png", "dir": out}) for a in command]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and "Traceback" not in err and "usage:" not in err
    assert not out.exists()


def _tagged(path, *, size=(48, 64), mode="RGB", orientation=1):
    """A JPEG or PNG scan with a resolution, an sRGB profile and EXIF (maker, date, an orientation)."""
    from PIL import ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Scanner Co"
    exif[0x0112] = orientation
    exif.get_ifd(0x8769)[0x9003] = "2021:02:03 04:05:06"
    rng = np.random.default_rng(3)
    Image.fromarray((rng.random((*size, 3)) * 255).astype(np.uint8)).convert(mode).save(
        path, dpi=(300, 300), icc_profile=profile, exif=exif.tobytes()
    )
    return path, profile


def test_halftone_and_rescreen_keep_resolution_profile_and_exif(tmp_path):
    from deep_halftoning.io import read_info

    scan, profile = _tagged(tmp_path / "scan.jpg", orientation=6)  # stored sideways: 6 = rotate to view
    for command in (
        ["halftone", str(scan), str(tmp_path / "h.png"), "--method", "bayer-8"],
        ["rescreen", str(scan), str(tmp_path / "r.tif"), "--descreen", "gaussian", "--method", "atkinson"],
    ):
        assert main(command) == 0
        out = Path(command[2])
        info = read_info(out)
        assert info.dpi == (300.0, 300.0) and info.icc_profile == profile and info.exif is not None
        exif = Image.open(out).getexif()
        assert exif[0x010F] == "Scanner Co" and exif.get_ifd(0x8769)[0x9003] == "2021:02:03 04:05:06"
        assert exif.get(0x0112, 1) == 1  # upright pixels, so no rotation left for viewers to apply
        assert read_image(out).shape == (64, 48, 3)
    assert main(["halftone", str(scan), str(tmp_path / "g.png"), "--method", "bayer-8", "--mode", "gray"]) == 0
    info = read_info(tmp_path / "g.png")
    assert info.icc_profile is None and info.dpi == (300.0, 300.0)  # an RGB profile does not describe grey


def test_bit_depth_follows_the_input_unless_asked(tmp_path, photo_path, capsys):
    import cv2

    from deep_halftoning.io import read_info

    deep = tmp_path / "deep.png"
    cv2.imwrite(str(deep), (np.random.default_rng(0).random((24, 32, 3)) * 65535).astype(np.uint16))
    cases = [
        (deep, "a.png", [], np.uint16),
        (deep, "b.tif", [], np.uint16),
        (deep, "c.png", ["--bit-depth", "8"], np.uint8),
        (photo_path, "d.png", [], np.uint8),
        (photo_path, "e.png", ["--bit-depth", "16"], np.uint16),
    ]
    for source, name, extra, dtype in cases:
        out = tmp_path / name
        assert main(["halftone", str(source), str(out), "--method", "am-cmyk", *extra]) == 0
        assert cv2.imread(str(out), cv2.IMREAD_UNCHANGED).dtype == dtype, name
        assert read_info(out).bit_depth == (16 if dtype == np.uint16 else 8)
    capsys.readouterr()
    assert main(["halftone", str(deep), str(tmp_path / "f.jpg"), "--method", "am-cmyk"]) == 0
    assert "8 bits per sample (.jpg holds no more); the input has 16" in capsys.readouterr().err
    assert main(["halftone", str(deep), str(tmp_path / "g.jpg"), "--method", "am-cmyk", "--bit-depth", "16"]) == 2
    assert "bit depth 16 is not available for .jpg" in capsys.readouterr().err


def test_multipage_tiff_halftones_every_page(tmp_path, rng, capsys):
    from deep_halftoning.io import read_info, read_pages, write_pages

    pages = [rng.random((20, 24, 3), dtype=np.float32), rng.random((20, 24), dtype=np.float32)]
    doc = write_pages(tmp_path / "doc.tif", pages)
    assert main(["halftone", str(doc), str(tmp_path / "o.tif"), "--method", "bayer-4"]) == 0
    out = list(read_pages(tmp_path / "o.tif"))
    assert read_info(tmp_path / "o.tif").pages == 2 and [p.shape for p in out] == [(20, 24, 3), (20, 24)]
    assert all(set(np.unique(p)) <= {0.0, 1.0} for p in out)
    assert main(["halftone", str(doc), str(tmp_path / "o.png"), "--method", "bayer-4"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{doc}: 2 pages; write a TIFF (.tif) to keep them all" in err and "\n" not in err
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("suffix", [".gif", ".png"])
def test_animated_gif_and_png_are_halftoned_frame_by_frame(tmp_path, rng, capsys, suffix):
    from conftest import save_animation

    from deep_halftoning.io import read_info, read_pages

    frames = [rng.random((20, 24), dtype=np.float32), np.full((20, 24), 0.25, np.float32), np.zeros((20, 24))]
    anim = save_animation(tmp_path / f"anim{suffix}", frames)
    assert main(["halftone", str(anim), str(tmp_path / "o.tif"), "--method", "bayer-4", "--mode", "gray"]) == 0
    out = list(read_pages(tmp_path / "o.tif"))
    assert read_info(tmp_path / "o.tif").pages == 3 and [p.mean() for p in out[1:]] == [0.25, 0.0]
    assert main(["halftone", str(anim), str(tmp_path / "o.png"), "--method", "bayer-4"]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{anim}: 3 frames; write a TIFF (.tif) to keep them all" in err and "\n" not in err
    assert not (tmp_path / "o.png").exists()


def test_write_errors_name_the_output_not_a_temporary_file(tmp_path, photo_path, capsys):
    (tmp_path / "file").write_text("a file, not a folder")
    out = tmp_path / "file" / "o.png"
    assert main(["halftone", str(photo_path), str(out), "--method", "bayer-4"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"deep-halftoning: error: {out}: cannot write ({tmp_path / 'file'} is a file, not a folder)"
    assert ".tmp" not in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs a user that permissions apply to")
def test_a_read_only_folder_is_named(tmp_path, photo_path, capsys):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert main(["halftone", str(photo_path), str(locked / "o.png"), "--method", "bayer-4"]) == 2
        err = capsys.readouterr().err.strip()
        assert f"{locked / 'o.png'}: cannot write (permission denied in {locked})" in err and ".tmp" not in err
    finally:
        locked.chmod(0o700)


def test_debug_shows_the_traceback_and_surprises_stay_one_line(tmp_path, photo_path, capsys, monkeypatch):
    from deep_halftoning.batch import convert as cli
    from deep_halftoning.io import ImageReadError

    with pytest.raises(ImageReadError, match="no such file"):
        main(["halftone", str(tmp_path / "missing.png"), str(tmp_path / "o.png"), "--debug"])

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(cli, "halftone", broken)
    assert main(["halftone", str(photo_path), str(tmp_path / "o.png"), "--method", "bayer-4"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "KeyError" in err and "--debug" in err and "Traceback" not in err
    with pytest.raises(KeyError):
        main(["halftone", str(photo_path), str(tmp_path / "o.png"), "--method", "bayer-4", "--debug"])


def test_ctrl_c_in_a_single_command_is_one_line(tmp_path, photo_path, capsys, monkeypatch):
    from deep_halftoning.batch import convert as cli

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "halftone", interrupted)
    assert main(["halftone", str(photo_path), str(tmp_path / "o.png"), "--method", "bayer-4"]) == 130
    assert _lines(capsys.readouterr().err) == ["deep-halftoning: interrupted; no output was left half-written"]
    assert list(tmp_path.iterdir()) == [photo_path]
