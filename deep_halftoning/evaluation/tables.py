"""Markdown tables of an evaluation's scores: ``mean ± 95 % half-width`` per row and method, the best
classical baseline of each row and each model's paired gain over it, and per-photo ranges."""

from __future__ import annotations

import math
from collections.abc import Sequence

from ..inference import BASELINES
from .scores import METRICS, Scores, best_classical, model_columns, paired_gain
from .statistics import Summary, summarise


def cell(summary: Summary, digits: int, signed: bool = False) -> str:
    """``mean ± half-width`` to ``digits`` decimals (the mean alone without an interval; ``signed``: ``+``/``-``)."""
    mean = f"{summary.mean:+.{digits}f}" if signed else f"{summary.mean:.{digits}f}"
    return mean if math.isnan(summary.half_width) else f"{mean} ± {summary.half_width:.{digits}f}"


def header(first: str, columns: Sequence[str]) -> list[str]:
    """The heading and alignment lines of a table whose first column is ``first``, the others right-aligned."""
    return [f"| {first} | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]


def metric_table(scores: Scores, halftones: list[str], columns: list[str], metric: str = "psnr") -> str:
    """Markdown table of ``metric``: one row per halftone, ``mean ± 95 % half-width`` per method (the best mean
    of each row in bold), then the best classical baseline and each model's paired gain over it."""
    _, digits = METRICS[metric]
    models = model_columns(columns)
    compare = any(m in BASELINES for m in columns) and bool(models)
    extra = ["best classical", *(f"gain {m}" for m in models)] if compare else []
    lines = header("halftone", [*columns, *extra])
    for h in halftones:
        best = max(scores[(h, m)].mean(metric) for m in columns)
        cells = []
        for m in columns:
            text = cell(summarise(scores[(h, m)].per_photo(metric)), digits)
            cells.append(f"**{text}**" if scores[(h, m)].mean(metric) == best else text)
        if compare:
            baseline = best_classical(scores, h, columns, metric)
            cells.append(baseline)
            cells += [cell(paired_gain(scores, h, m, baseline, metric), digits, signed=True) for m in models]
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def range_table(scores: Scores, halftones: list[str], columns: list[str], metric: str = "psnr") -> str:
    """Markdown table of the per-photo ``min – max`` of ``metric`` per halftone and method."""
    _, digits = METRICS[metric]
    lines = header("halftone", columns)
    for h in halftones:
        cells = []
        for m in columns:
            summary = summarise(scores[(h, m)].per_photo(metric))
            cells.append(f"{summary.minimum:.{digits}f} – {summary.maximum:.{digits}f}")
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def results_table(
    scores: Scores, halftones: list[str], columns: list[str], metrics: tuple[str, ...] = tuple(METRICS)
) -> str:
    """The :func:`metric_table` of each of ``metrics`` (PSNR and SSIM), each under a one-line heading."""
    n = len(next(iter(scores.values())).psnr_per_photo) if scores else 0
    parts = []
    for metric in metrics:
        heading = METRICS[metric][0]
        parts.append(
            f"{heading}: mean over {n} photo(s) ± half-width of its 95 % t-interval; gain: paired per-photo "
            "difference from the row's best classical baseline, mean ± 95 % half-width.\n\n"
            + metric_table(scores, halftones, columns, metric)
        )
    return "\n\n".join(parts)
