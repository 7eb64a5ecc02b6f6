"""The methods an evaluation compares, as columns: ``fn(halftone, analysis) -> descreened`` for trained
checkpoints, specialists routed by the analysed halftone kind, and the classical baselines."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from ..inference import (
    Descreener,
    ScreenAnalysis,
    ShippedCheckpointError,
    descreen_baseline,
    load_manifest,
    shipped_checkpoint,
)
from ..inference.shipped import SHIPPED_DIR

#: A column: descreens a halftone, given its screen analysis.
Method = Callable[[np.ndarray, ScreenAnalysis], np.ndarray]


def model_methods(checkpoints: dict[str, Path], device: str | None, tile: int, **runtime: str) -> dict[str, Method]:
    """Descreening functions of trained checkpoints, by column name (``runtime``: ``backend``, ``precision``,
    ``scale``)."""
    methods = {}
    for name, checkpoint in checkpoints.items():
        overlap = min(64, tile // 4)
        descreener = Descreener.from_checkpoint(checkpoint, device=device, tile=tile, overlap=overlap, **runtime)
        methods[name] = lambda image, analysis, d=descreener: d(image, scale=d.choose_scale(image, analysis))
    return methods


def routed_methods(
    routes: dict[str, dict[str, Path]], device: str | None, tile: int, **runtime: str
) -> dict[str, Method]:
    """Specialists routed by :func:`analyse`: for each column, ``{kind: checkpoint}``; an image is descreened by
    the checkpoint of its analysed ``kind`` (``am``, ``dispersed``), or by the first one for other kinds."""
    methods = {}
    for name, checkpoints in routes.items():
        by_kind = model_methods(checkpoints, device, tile, **runtime)
        fallback = next(iter(by_kind.values()))
        methods[name] = lambda image, analysis, k=by_kind, f=fallback: k.get(analysis.kind, f)(image, analysis)
    return methods


def baseline_methods(names: Iterable[str]) -> dict[str, Method]:
    """The classical baselines ``names``, each given the halftone's analysis."""
    return {name: lambda image, analysis, n=name: descreen_baseline(image, n, analysis) for name in names}


def parse_route(item: str) -> tuple[str, dict[str, Path]]:
    """``NAME=KIND:CKPT,KIND:CKPT`` as ``(NAME, {KIND: CKPT})``; :class:`ValueError` for anything else."""
    name, _, spec = item.partition("=")
    pairs = [part.partition(":") for part in spec.split(",")]
    if not name or not pairs or any(not kind or not path for kind, _, path in pairs):
        raise ValueError(f"--routed wants NAME=KIND:CKPT,KIND:CKPT, got {item!r}")
    return name, {kind: Path(path) for kind, _, path in pairs}


def shipped_models(directory: Path = SHIPPED_DIR) -> dict[str, Path]:
    """The shipped descreeners in ``directory`` (``model``: fidelity, ``model-perceptual``), where present."""
    try:
        variants = load_manifest(directory)["variants"]
    except ShippedCheckpointError:
        return {}
    return {model_column(variant): shipped_checkpoint(variant, directory) for variant in variants}


def model_column(variant: str) -> str:
    """The results column of a shipped variant."""
    return "model" if variant == "fidelity" else f"model-{variant}"
