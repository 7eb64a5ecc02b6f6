"""The CLI on the serving runtimes: --backend / --precision, what the summary records, `export`."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deep_halftoning.cli import main
from deep_halftoning.inference import runtime as runtime_module
from deep_halftoning.io import read_image, write_image


@pytest.fixture
def scan(tmp_path, smooth_rgb):
    from deep_halftoning.halftone import halftone

    return write_image(tmp_path / "scan.png", halftone(smooth_rgb, "floyd-steinberg", threads=1).image)


def _descreen(scan, out, *options) -> dict:
    assert main(["descreen", str(scan), "-o", str(out), "--tile", "64", "--overlap", "16", *options]) == 0
    return json.loads((out / "descreen-summary.json").read_text())


def test_openvino_and_torch_write_the_same_image_and_the_summary_says_which_ran(tmp_path, scan):
    fast = _descreen(scan, tmp_path / "ov", "--backend", "openvino", "--precision", "fp32")
    slow = _descreen(scan, tmp_path / "pt", "--backend", "torch", "--precision", "fp32")
    assert (fast["backend"], fast["precision"], slow["backend"]) == ("openvino", "fp32", "torch")
    assert fast["files"][0]["model"]["backend"] == "openvino"
    a, b = read_image(tmp_path / "ov" / "scan_descreened.png"), read_image(tmp_path / "pt" / "scan_descreened.png")
    assert np.abs(a - b).max() <= 1 / 255 + 1e-6  # the same model, at most a rounding step apart
    assert np.abs(a - read_image(scan)).mean() > 0.05  # and it descreened: the dots are gone


def test_int8_runs_the_shipped_int8_graph_on_openvino_only(tmp_path, scan, capsys):
    summary = _descreen(scan, tmp_path / "int8", "--precision", "int8")
    assert (summary["backend"], summary["precision"]) == ("openvino", "int8")
    assert _descreen(scan, tmp_path / "bf16", "--precision", "bf16")["precision"] == "bf16"
    a, b = read_image(tmp_path / "int8" / "scan_descreened.png"), read_image(tmp_path / "bf16" / "scan_descreened.png")
    assert 0 < np.abs(a - b).mean() < 2 / 255  # int8 really ran, close to bf16
    options = ["descreen", str(scan), "-o", str(tmp_path / "pt"), "--backend", "torch", "--precision", "int8"]
    assert main(options) == 2
    assert "int8 runs on the openvino backend" in capsys.readouterr().err


def test_auto_runs_openvino_on_the_cpu_and_says_when_it_falls_back(tmp_path, scan, monkeypatch, capsys):
    assert _descreen(scan, tmp_path / "auto")["backend"] == "openvino"
    monkeypatch.setattr(runtime_module, "openvino_available", lambda: False)
    assert _descreen(scan, tmp_path / "fallback")["backend"] == "torch"
    assert "note: openvino is not installed: descreening with torch" in capsys.readouterr().err


def test_model_options_with_a_classical_filter_are_refused(tmp_path, scan, capsys):
    options = ["descreen", str(scan), "-o", str(tmp_path / "out"), "--method", "fft", "--backend", "torch"]
    assert main(options) == 2
    assert "--backend is for the model" in capsys.readouterr().err


def test_export_writes_the_shipped_model_and_keeps_existing_files(tmp_path, capsys):
    out = tmp_path / "served"
    assert main(["export", "fidelity", str(out)]) == 0
    printed = capsys.readouterr()
    names = [f"fidelity{part}{suffix}" for part in ("", "-coarse", "-details") for suffix in (".onnx", ".xml", ".bin")]
    assert printed.out.split() == [str(out / name) for name in names]  # with the screen-scaled path's two graphs
    assert "multiples of 32" in printed.err and "screen period is 4 px, the -coarse graph" in printed.err
    assert main(["export", "fidelity", str(out)]) == 2
    assert "fidelity.onnx exists (overwrite it with --overwrite" in capsys.readouterr().err
    assert main(["export", "fidelity", str(out), "--overwrite", "--name", "page"]) == 0
    assert main(["export", str(tmp_path / "missing.ckpt"), str(out)]) == 2
    assert "missing.ckpt does not exist" in capsys.readouterr().err
