"""What an evaluation writes: ``results.md`` (legend, row notes, tables) and ``results.json`` (every per-photo
value, for paired comparisons)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

from ..io import write_text
from .photos import photo_names
from .rows import ROWS
from .scores import METRICS, Scores, best_classical, gain_values, model_columns, paired_gain
from .statistics import CONFIDENCE, summarise
from .tables import range_table, results_table


def _number(value: float) -> float | None:
    return None if math.isnan(value) else value


def score_records(scores: Scores) -> list[dict]:
    """Per (halftone, method): means, 95 % intervals, min/max and per-photo values of every metric."""
    records = []
    for (h, m), score in scores.items():
        record: dict = {"halftone": h, "method": m}
        for metric in METRICS:
            summary = summarise(score.per_photo(metric))
            record[metric] = summary.mean
            record[f"{metric}_half_width"] = _number(summary.half_width)
            record[f"{metric}_ci95"] = [_number(summary.low), _number(summary.high)]
            record[f"{metric}_min"], record[f"{metric}_max"] = summary.minimum, summary.maximum
            record[f"{metric}_per_photo"] = list(score.per_photo(metric))
        records.append(record)
    return records


def gain_records(scores: Scores, halftones: list[str], columns: list[str]) -> list[dict]:
    """The paired gains of every model column over each row's best classical baseline, per metric."""
    gains = []
    for h in halftones:
        for metric in METRICS:
            baseline = best_classical(scores, h, columns, metric)
            for m in model_columns(columns) if baseline else []:
                gain = paired_gain(scores, h, m, baseline, metric)
                gains.append(
                    {
                        "halftone": h,
                        "model": m,
                        "baseline": baseline,
                        "metric": metric,
                        "mean": gain.mean,
                        "half_width": _number(gain.half_width),
                        "per_photo": gain_values(scores, h, m, baseline, metric),
                    }
                )
    return gains


def results_json(
    scores: Scores, images: Sequence[Path], halftones: list[str], columns: list[str], seconds: dict | None = None
) -> dict:
    """What ``results.json`` holds: the photos, rows and columns, the :func:`score_records` and
    :func:`gain_records` (with every per-photo value) and, when timed, the seconds spent."""
    summary = {
        "images": [str(i) for i in images],
        "photos": photo_names(images),
        "halftones": halftones,
        "methods": columns,
        "confidence": CONFIDENCE,
        "scores": score_records(scores),
        "gains": gain_records(scores, halftones, columns),
    }
    return summary if seconds is None else summary | {"seconds": seconds}


def results_markdown(
    scores: Scores, images: Sequence[Path], halftones: list[str], columns: list[str], max_side: int
) -> str:
    """``results.md``: a legend, the note of every row, the :func:`results_table` and the per-photo PSNR ranges."""
    legend = (
        f"{len(images)} photo(s), shrunk to {max_side} px on the longer side; "
        "grids: clean | " + " | ".join(columns) + "."
    )
    notes = "\n".join(f"- `{h}`: {ROWS[h].note}" for h in halftones)
    table = results_table(scores, halftones, columns)
    ranges = range_table(scores, halftones, columns, "psnr")
    return (
        f"# Descreening evaluation\n\n{legend}\n\n{notes}\n\n{table}\n\nPSNR (dB), per-photo min – max:\n\n{ranges}\n"
    )


def write_results(
    out: Path,
    scores: Scores,
    images: Sequence[Path],
    halftones: list[str],
    columns: list[str],
    max_side: int,
    seconds: dict | None = None,
) -> None:
    """Write ``out/results.md`` (:func:`results_markdown`) and ``out/results.json`` (:func:`results_json`)."""
    write_text(out / "results.md", results_markdown(scores, images, halftones, columns, max_side))
    write_text(out / "results.json", json.dumps(results_json(scores, images, halftones, columns, seconds), indent=1))
