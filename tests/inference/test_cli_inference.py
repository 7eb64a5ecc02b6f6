import json

import numpy as np
import pytest
import torch

from deep_halftoning.cli import main
from deep_halftoning.halftone import halftone
from deep_halftoning.io import read_image, write_image
from deep_halftoning.stages import CoarseStage


@pytest.fixture
def screened(tmp_path, rng):
    import cv2

    clean = np.clip(cv2.resize(rng.random((8, 10, 3), dtype=np.float32), (400, 320), cv2.INTER_CUBIC), 0, 1)
    path = write_image(tmp_path / "scan.png", halftone(clean, "am-cmyk", lpi=100, dpi=600).image)
    return path


def test_detect_prints_and_json(screened, capsys):
    assert main(["detect", str(screened), "--dpi", "600"]) == 0
    assert "am" in capsys.readouterr().out
    assert main(["detect", str(screened), "--dpi", "600", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == "am" and report["screens"][0]["lpi"] == pytest.approx(100, rel=0.05)


def test_descreen_batch_skips_bad_files_and_reports(tmp_path, screened, capsys):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"broken")
    out = tmp_path / "out"
    assert main(["descreen", str(screened), str(bad), "-o", str(out), "--method", "gaussian"]) == 2
    err = capsys.readouterr().err
    assert "descreened 1 of 2" in err and "bad.png" in err
    assert read_image(out / "scan_descreened.png").shape == read_image(screened).shape


def test_descreen_with_a_checkpoint(tmp_path, screened):
    stage = CoarseStage(net={"width": 8, "depth": 3})
    checkpoint = {"state_dict": stage.state_dict()}
    stage.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, tmp_path / "coarse.ckpt")
    assert (
        main(
            [
                "descreen",
                str(screened),
                "-o",
                str(tmp_path / "out"),
                "--checkpoint",
                str(tmp_path / "coarse.ckpt"),
                "--tile",
                "64",
                "--overlap",
                "16",
                "--device",
                "cpu",
            ]
        )
        == 0
    )


def test_missing_checkpoint_and_conflicting_options_exit_2(tmp_path, screened, capsys):
    assert main(["descreen", str(screened), "-o", str(tmp_path), "--perceptual", "--checkpoint", "x.ckpt"]) == 2
    assert "cannot be combined" in capsys.readouterr().err
    assert main(["descreen", str(screened), "-o", str(tmp_path), "--checkpoint", str(tmp_path / "no.ckpt")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_rescreen_to_another_method(tmp_path, screened):
    out = tmp_path / "rescreened.png"
    assert main(["rescreen", str(screened), str(out), "--descreen", "fft", "--method", "floyd-steinberg"]) == 0
    assert set(np.unique(read_image(out))) <= {0.0, 1.0}
    assert main(["rescreen", str(screened), str(screened), "--descreen", "fft"]) == 2
