"""The evaluation scripts of experiments/: thin command lines over deep_halftoning.evaluation."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import save_photo
from helpers import TINY_NETS, configured_stage, save_stage

ROOT = Path(__file__).resolve().parents[2]


def test_evaluate_writes_a_table_and_grids(tmp_path, rng):
    photos = tmp_path / "photos"
    for name in ("a.png", "b.jpg"):
        save_photo(photos / name, rng, (96, 128))
    save_stage(configured_stage("coarse", net=TINY_NETS["coarse"]), tmp_path / "coarse.ckpt")
    out = tmp_path / "eval"
    command = ["experiments/evaluate.py", "--images", str(photos), "--checkpoint", str(tmp_path / "coarse.ckpt")]
    command += ["--out", str(out), "--tile", "64", "--device", "cpu"]
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr[-2000:]
    table = (out / "results.md").read_text()
    for row in ("floyd-steinberg", "jarvis", "bayer-8", "am-cmyk+scan", "am-xgen+scan", "am-ideal-6px"):
        assert f"| {row} |" in table
    assert "| halftone | halftone | model | gaussian | median | fft |" in table
    assert len(list(out.glob("*.png"))) == 12  # 2 photos x 6 halftones
    assert (out / "results.json").is_file()


@pytest.mark.parametrize(
    "script", ["evaluate", "paired", "tone_ceiling", "detect_grid", "ship_descreener", "int8_study"]
)
def test_each_script_describes_its_options(script, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [f"{script}.py", "--help"])
    with pytest.raises(SystemExit) as exit_:
        runpy.run_path(str(ROOT / "experiments" / f"{script}.py"), run_name="__main__")
    assert exit_.value.code == 0 and "usage:" in capsys.readouterr().out


def test_a_bad_route_or_a_missing_folder_ends_with_its_message(tmp_path, monkeypatch):
    evaluate = runpy.run_path(str(ROOT / "experiments" / "evaluate.py"))
    with pytest.raises(SystemExit, match="NAME=KIND:CKPT"):
        evaluate["main"](["--images", str(ROOT / "deep_halftoning" / "assets"), "--routed", "split=am.ckpt"])
    with pytest.raises(SystemExit, match=str(tmp_path / "none")):
        evaluate["main"](["--images", str(tmp_path / "none")])
