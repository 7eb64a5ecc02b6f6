"""The evaluation harness runs end to end on a folder of photos it has never seen."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from helpers import TINY_NETS, configured_stage, save_stage

ROOT = Path(__file__).resolve().parents[1]


def test_evaluate_writes_a_table_and_grids(tmp_path, rng):
    from conftest import save_photo

    photos = tmp_path / "photos"
    for name in ("a.png", "b.jpg"):
        save_photo(photos / name, rng, (96, 128))
    save_stage(configured_stage("coarse", net=TINY_NETS["coarse"]), tmp_path / "coarse.ckpt")
    out = tmp_path / "eval"
    result = subprocess.run(
        [
            sys.executable,
            "experiments/evaluate.py",
            "--images",
            str(photos),
            "--checkpoint",
            str(tmp_path / "coarse.ckpt"),
            "--out",
            str(out),
            "--tile",
            "64",
            "--device",
            "cpu",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    table = (out / "results.md").read_text()
    for row in ("floyd-steinberg", "jarvis", "bayer-8", "am-cmyk+scan", "am-xgen+scan"):
        assert f"| {row} |" in table
    assert "| halftone | halftone | model | gaussian | median | fft |" in table
    assert len(list(out.glob("*.png"))) == 10  # 2 photos x 5 halftones
