"""Paired per-photo differences between columns of two evaluations (``results.json`` of ``evaluate.py``).

Each side is ``RESULTS.json:COLUMN``; both evaluations must cover the same photos (by name, in the same order). Prints,
for every halftone row both hold, the mean of ``A - B`` over the photos with its 95 % interval:

    python experiments/paired.py outputs/eval-new/results.json:new outputs/study/evaluation/results.json:model
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import METRICS, _cell, photo_names, summarise  # noqa: E402


def column_scores(spec: str, metric: str) -> tuple[list[str], dict[str, list[float]]]:
    """``RESULTS.json:COLUMN`` as (photo names, ``{halftone: per-photo metric}``)."""
    path, _, column = spec.rpartition(":")
    if not path:
        raise SystemExit(f"expected RESULTS.json:COLUMN, got {spec!r}")
    try:
        results = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise SystemExit(f"cannot read {path}: {err}") from None
    rows = {s["halftone"]: s[f"{metric}_per_photo"] for s in results["scores"] if s["method"] == column}
    if not rows:
        columns = sorted({s["method"] for s in results["scores"]})
        raise SystemExit(f"{path} has no column {column!r} (columns: {', '.join(columns)})")
    return photo_names([Path(p) for p in results["images"]]), rows


def paired_table(a: str, b: str, metric: str = "psnr") -> str:
    """The markdown table of ``a - b`` per halftone row both evaluations hold."""
    photos_a, rows_a = column_scores(a, metric)
    photos_b, rows_b = column_scores(b, metric)
    if photos_a != photos_b:
        raise SystemExit("the two evaluations cover different photos: paired differences need the same ones")
    lines = [f"A = {a}, B = {b}", "", f"| halftone ({len(photos_a)} photos) | A − B |", "|---|---:|"]
    for halftone in (h for h in rows_a if h in rows_b):
        diffs = [x - y for x, y in zip(rows_a[halftone], rows_b[halftone], strict=True)]
        lines.append(f"| {halftone} | {_cell(summarise(diffs), METRICS[metric][1], signed=True)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="RESULTS.json:COLUMN")
    parser.add_argument("b", help="RESULTS.json:COLUMN")
    parser.add_argument("--metric", choices=list(METRICS), default="psnr")
    args = parser.parse_args(argv)
    print(paired_table(args.a, args.b, args.metric))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
