"""Paired per-photo differences between columns of two evaluations (their ``results.json``)."""

from __future__ import annotations

import json
from pathlib import Path

from .photos import photo_names
from .scores import METRICS
from .statistics import differences, summarise
from .tables import cell


def column_scores(spec: str, metric: str) -> tuple[list[str], dict[str, list[float]]]:
    """``RESULTS.json:COLUMN`` as (photo names, ``{halftone: per-photo metric}``); :class:`ValueError` for a
    malformed spec, an unreadable file or a missing column."""
    path, _, column = spec.rpartition(":")
    if not path:
        raise ValueError(f"expected RESULTS.json:COLUMN, got {spec!r}")
    try:
        results = json.loads(Path(path).read_text())
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read {path}: {err}") from None
    rows = {s["halftone"]: s[f"{metric}_per_photo"] for s in results["scores"] if s["method"] == column}
    if not rows:
        columns = sorted({s["method"] for s in results["scores"]})
        raise ValueError(f"{path} has no column {column!r} (columns: {', '.join(columns)})")
    return photo_names([Path(p) for p in results["images"]]), rows


def paired_table(a: str, b: str, metric: str = "psnr") -> str:
    """The markdown table of ``a - b`` (each ``RESULTS.json:COLUMN``) per halftone row both evaluations hold;
    :class:`ValueError` when they cover different photos."""
    photos_a, rows_a = column_scores(a, metric)
    photos_b, rows_b = column_scores(b, metric)
    if photos_a != photos_b:
        raise ValueError("the two evaluations cover different photos: paired differences need the same ones")
    lines = [f"A = {a}, B = {b}", "", f"| halftone ({len(photos_a)} photos) | A − B |", "|---|---:|"]
    for halftone in (h for h in rows_a if h in rows_b):
        diffs = differences(rows_a[halftone], rows_b[halftone])
        lines.append(f"| {halftone} | {cell(summarise(diffs), METRICS[metric][1], signed=True)} |")
    return "\n".join(lines)
