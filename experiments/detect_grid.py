"""Screen detection over a grid of AM screens, dispersed dithers and photos.

Runs the grid of :mod:`deep_halftoning.evaluation.detection` (two AM renderers, rulings from 65 lpi to a period
of 2.5 px, four angle sets, clean and scanned; dispersed dithers and photos) through the screen detector and
writes a confusion table and the ruling / angle error statistics per generator, ruling and scan to
``experiments/results/detection.md``::

    python experiments/detect_grid.py [--out experiments/results/detection.md] [--limit N] [--baseline REV]

``--baseline 501f574`` also runs the detector of that git revision for comparison.
``tests/evaluation/test_detect_grid.py`` runs a subset of the grid.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from deep_halftoning.evaluation.detection import Analyser, report
from deep_halftoning.io import write_text

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "experiments" / "results" / "detection.md"


def baseline_detector(revision: str) -> Analyser:
    """The ``analyse`` of ``deep_halftoning/inference/detect.py`` as of git ``revision``."""
    source = subprocess.run(
        ["git", "show", f"{revision}:deep_halftoning/inference/detect.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "detect_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("detect_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["detect_baseline"] = module
    spec.loader.exec_module(module)
    return module.analyse


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--limit", type=int, help="run only the first N cases (a quick look)")
    parser.add_argument("--baseline", help="also run the detector of this git revision, for comparison")
    args = parser.parse_args(argv)
    text = report(args.limit, (args.baseline, baseline_detector(args.baseline)) if args.baseline else None)
    write_text(args.out, text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
