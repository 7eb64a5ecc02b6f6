import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deep_halftoning.cli import main
from deep_halftoning.halftone import METHODS
from deep_halftoning.io import read_image

REPO = Path(__file__).resolve().parents[1]


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
    preset = REPO / "conf" / "halftone" / "newspaper.yaml"
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
    assert read_image(tmp_path / "n.png").shape == (24, 32, 3)


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
