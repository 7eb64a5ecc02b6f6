"""Start-up: the command line checks its arguments and inputs before importing PyTorch, Lightning or OpenCV,
so a typo is reported at once rather than after seconds of imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HEAVY = ("torch", "lightning", "cv2")
REPOSITORY = Path(__file__).resolve().parents[1]

#: Runs each command line in one fresh interpreter and records its exit status and the heavy modules loaded.
PROBE = """
import json, sys
from deep_halftoning.cli import main
results = []
for argv in json.loads(sys.argv[1]):
    status = main(argv)
    results.append([status, sorted(m for m in {heavy} if m in sys.modules)])
print(json.dumps(results))
"""


def _probe(commands: list[list[str]]) -> list:
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=HEAVY), json.dumps(commands)],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,  # this checkout's package, whatever is installed
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_bad_input_is_reported_before_heavy_imports(tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((40, 40, 3), 128, np.uint8)).save(photo)
    missing, out = str(tmp_path / "missing.png"), str(tmp_path / "out")
    commands = [
        ["descreen", missing, "-o", out],
        ["descreen", str(photo), "-o", out, "--checkpoint", str(tmp_path / "none.ckpt")],
        ["descreen", str(photo), "-o", out, "--tile", "33"],
        ["rescreen", missing, str(tmp_path / "r.png")],
        ["halftone", missing, str(tmp_path / "h.png")],
        ["halftone", str(photo), str(tmp_path / "h.png"), "--method", "bogus"],
        ["detect", missing],
        ["train", "trainer.max_epoch=1"],
    ]
    for argv, (status, loaded) in zip(commands, _probe(commands), strict=True):
        assert (status, loaded) == (2, []), argv
    assert not (tmp_path / "out").exists()


def test_detect_and_classical_descreening_never_import_torch(tmp_path):
    (tmp_path / "scans").mkdir()
    photo = tmp_path / "scans" / "photo.png"
    Image.fromarray(np.full((64, 64, 3), 128, np.uint8)).save(photo)
    out = str(tmp_path / "out")
    commands = [["detect", str(photo)], ["descreen", str(photo.parent), "-r", "-o", out, "--method", "median"]]
    for argv, (status, loaded) in zip(commands, _probe(commands), strict=True):
        assert status == 0 and "torch" not in loaded and "lightning" not in loaded, argv
