"""Evaluate descreening: halftone clean photos, descreen them, compare with the originals.

For every clean photo in ``--images`` (default: the held-out set of
:func:`~deep_halftoning.data.sources.holdout_records`, 16 colour photos never
trained on), each halftone row makes a halftone: Floyd-Steinberg, Jarvis and
Bayer-8 (each RGB channel on its own), the project's AM CMYK screen with scan
simulation (the training family) and a cross-generator AM print-and-scan that
no training pair uses (:mod:`xgen_am`: diamond dots, Yule-Nielsen dot gain,
Neugebauer inks). The models (``--checkpoint``/``--model``, by default the
descreeners shipped with the package) and every classical baseline descreen it.
PSNR and SSIM (torchmetrics) are kept per photo; the tables give the mean over
photos with the half-width of its 95 % t-interval, the best classical baseline
of each row and each model's paired gain over it (mean of the per-photo
differences, with its own 95 % interval). Writes ``results.md``, ``results.json``
(every per-photo value), side-by-side comparison grids to ``--out`` and with
``--figure`` one labelled comparison figure.

    python experiments/evaluate.py --checkpoint outputs/details/best.ckpt --out eval/
    python experiments/evaluate.py --images photos/ --figure comparison.png   # the shipped descreeners
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from scipy import stats
from torchmetrics.functional.image import peak_signal_noise_ratio, structural_similarity_index_measure
from tqdm.auto import tqdm

from deep_halftoning.data.sources import folder_records, holdout_records
from deep_halftoning.halftone import halftone
from deep_halftoning.halftone.scan import ScanSettings, simulate_scan
from deep_halftoning.inference import (
    BASELINES,
    Descreener,
    ShippedCheckpointError,
    analyse,
    descreen_baseline,
    load_manifest,
    shipped_checkpoint,
)
from deep_halftoning.inference.options import BACKENDS, PRECISIONS
from deep_halftoning.inference.shipped import SHIPPED_DIR
from deep_halftoning.io import atomic_output, read_image, write_image, write_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from xgen_am import xgen_am  # noqa: E402

SCAN = ScanSettings(blur_sigma=0.6, paper_strength=0.015, noise_sigma=0.01, rotation=0.0, jpeg_quality=90)
CONFIDENCE = 0.95


def package_halftone(clean: np.ndarray, seed: int, *, method: str, scanned: bool = False, **params) -> np.ndarray:
    """``clean`` halftoned by the package's ``method`` (colour photos: the method's colour mode, RGB per
    channel for error diffusion and ordered dither, CMYK for AM), then scan-simulated when ``scanned``."""
    out = halftone(clean, method, **params).image
    return simulate_scan(out, SCAN, seed=seed) if scanned else out


#: row name -> ``fn(clean, seed) -> halftone`` (float32 H x W x 3 in [0, 1])
HALFTONES: dict[str, Callable[[np.ndarray, int], np.ndarray]] = {
    "floyd-steinberg": partial(package_halftone, method="floyd-steinberg"),
    "jarvis": partial(package_halftone, method="jarvis-judice-ninke"),
    "bayer-8": partial(package_halftone, method="bayer-8"),
    "am-cmyk+scan": partial(package_halftone, method="am-cmyk", scanned=True, lpi=120.0, dpi=600.0),
    "am-xgen+scan": xgen_am,
}
#: what each row is, for the legend of ``results.md``
HALFTONE_NOTES = {
    "floyd-steinberg": "Floyd-Steinberg error diffusion, each RGB channel on its own (raster scan)",
    "jarvis": "Jarvis-Judice-Ninke error diffusion, each RGB channel on its own",
    "bayer-8": "8 x 8 Bayer ordered dither, each RGB channel on its own",
    "am-cmyk+scan": "the package's AM CMYK screen (120 lpi at 600 dpi, round dots) + scan simulation: "
    "the training family",
    "am-xgen+scan": "cross-generator AM print and scan (experiments/xgen_am.py: diamond dots, 150 lpi at 600 dpi, "
    "Yule-Nielsen dot gain, 16-primary Neugebauer inks, GCR, scanned at 1/1.25): no training pair uses it",
}


def make_halftone(clean: np.ndarray, name: str, seed: int) -> np.ndarray:
    """The halftone of row ``name`` of ``clean``."""
    return HALFTONES[name](clean, seed)


def evaluation_images(folder: Path | None) -> list[Path]:
    """The photos of ``folder``, or the held-out photos (:func:`holdout_records`) without one; a missing
    folder or package ends the script with its message."""
    try:
        records = folder_records(folder) if folder else holdout_records()
    except FileNotFoundError as err:
        raise SystemExit(str(err)) from None
    return [r.image for r in records]


def read_photo(path: Path, max_side: int) -> np.ndarray:
    """A clean photo as float32 ``H x W x 3`` (grey repeated), shrunk to ``max_side``."""
    clean = read_image(path, max_side=max_side)
    return np.repeat(clean[..., None], 3, axis=2) if clean.ndim == 2 else clean


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].float()


@dataclass(frozen=True)
class Summary:
    """Mean of per-photo values with the half-width of its t-interval (``nan`` for fewer than 2 values)."""

    n: int
    mean: float
    half_width: float
    minimum: float
    maximum: float

    @property
    def low(self) -> float:
        return self.mean - self.half_width

    @property
    def high(self) -> float:
        return self.mean + self.half_width


def summarise(values: Sequence[float], confidence: float = CONFIDENCE) -> Summary:
    """Mean, t-interval half-width ``t((1 + confidence) / 2, n - 1) * s / sqrt(n)`` (``s``: sample standard
    deviation), minimum and maximum of ``values``."""
    x = np.asarray(values, np.float64)
    if x.size == 0:
        raise ValueError("no values to summarise")
    half = math.nan
    if x.size > 1:
        half = float(stats.t.ppf((1 + confidence) / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size))
    return Summary(int(x.size), float(x.mean()), half, float(x.min()), float(x.max()))


class Score(NamedTuple):
    """Scores of one (halftone, method): means first (``score[0]``, ``score[1]``), then the per-photo values."""

    psnr: float
    ssim: float
    psnr_per_photo: tuple[float, ...]
    ssim_per_photo: tuple[float, ...]

    @classmethod
    def of(cls, psnr: Sequence[float], ssim: Sequence[float]) -> Score:
        return cls(float(np.mean(psnr)), float(np.mean(ssim)), tuple(map(float, psnr)), tuple(map(float, ssim)))

    def per_photo(self, metric: str) -> tuple[float, ...]:
        return {"psnr": self.psnr_per_photo, "ssim": self.ssim_per_photo}[metric]


Scores = dict[tuple[str, str], Score]


def evaluate(
    images: list[Path],
    methods: dict,
    halftones: list[str],
    out: Path,
    max_side: int,
    figure: Path | None = None,
    seconds: dict[str, float] | None = None,
) -> Scores:
    """PSNR and SSIM per photo for every (halftone, method) (``halftone``: the halftone itself); writes a
    comparison grid per image and halftone to ``out`` and, with ``figure``, one labelled figure of centre crops
    of the first image. ``seconds``, when given, receives the time spent making each halftone and running each
    method (``make <halftone>``, ``<method>``), summed over photos."""
    psnr: dict[tuple[str, str], list[float]] = {(h, m): [] for h in halftones for m in ["halftone", *methods]}
    ssim: dict[tuple[str, str], list[float]] = {key: [] for key in psnr}
    timing = seconds if seconds is not None else {}
    out.mkdir(parents=True, exist_ok=True)
    panels: dict[str, dict[str, np.ndarray]] = {}
    for index, path in enumerate(tqdm(images, desc="images", unit="image")):
        clean = read_photo(path, max_side)
        target = _tensor(clean)
        for h in halftones:
            start = time.perf_counter()
            screened = make_halftone(clean, h, seed=index)
            timing[f"make {h}"] = timing.get(f"make {h}", 0.0) + time.perf_counter() - start
            analysis = analyse(screened)
            results = {"halftone": screened}
            for name, fn in methods.items():
                start = time.perf_counter()
                results[name] = np.clip(fn(screened, analysis), 0, 1)
                timing[name] = timing.get(name, 0.0) + time.perf_counter() - start
            for name, result in results.items():
                preds = _tensor(result)
                psnr[(h, name)].append(float(peak_signal_noise_ratio(preds, target, data_range=1.0)))
                ssim[(h, name)].append(float(structural_similarity_index_measure(preds, target, data_range=1.0)))
            write_image(out / f"{path.stem}_{h}.png", np.concatenate([clean, *results.values()], axis=1))
            if index == 0:
                panels[h] = {**results, "original": clean}
    if figure is not None and panels:
        comparison_figure(panels, figure)
    return {key: Score.of(psnr[key], ssim[key]) for key in psnr}


#: metric -> (heading, cell precision)
METRICS = {"psnr": ("PSNR (dB)", 2), "ssim": ("SSIM", 3)}


def best_classical(scores: Scores, halftone: str, columns: Sequence[str], metric: str = "psnr") -> str | None:
    """The classical baseline among ``columns`` with the best mean ``metric`` on ``halftone`` (None: none)."""
    baselines = [m for m in columns if m in BASELINES]
    if not baselines:
        return None
    return max(baselines, key=lambda m: scores[(halftone, m)][0 if metric == "psnr" else 1])


def paired_gain(scores: Scores, halftone: str, method: str, baseline: str, metric: str = "psnr") -> Summary:
    """Summary of the per-photo differences ``method - baseline`` of ``metric`` on ``halftone`` (paired)."""
    a, b = scores[(halftone, method)].per_photo(metric), scores[(halftone, baseline)].per_photo(metric)
    return summarise(np.subtract(a, b))


def _cell(summary: Summary, digits: int, signed: bool = False) -> str:
    mean = f"{summary.mean:+.{digits}f}" if signed else f"{summary.mean:.{digits}f}"
    return mean if math.isnan(summary.half_width) else f"{mean} ± {summary.half_width:.{digits}f}"


def metric_table(scores: Scores, halftones: list[str], columns: list[str], metric: str = "psnr") -> str:
    """Markdown table of ``metric``: one row per halftone, ``mean ± 95 % half-width`` per method (the best mean
    of each row in bold), then the best classical baseline and each model's paired gain over it."""
    _, digits = METRICS[metric]
    models = [m for m in columns if m != "halftone" and m not in BASELINES]
    compare = any(m in BASELINES for m in columns) and bool(models)
    extra = ["best classical", *(f"gain {m}" for m in models)] if compare else []
    lines = ["| halftone | " + " | ".join([*columns, *extra]) + " |", "|---|" + "---:|" * (len(columns) + len(extra))]
    index = 0 if metric == "psnr" else 1
    for h in halftones:
        best = max(scores[(h, m)][index] for m in columns)
        cells = []
        for m in columns:
            cell = _cell(summarise(scores[(h, m)].per_photo(metric)), digits)
            cells.append(f"**{cell}**" if scores[(h, m)][index] == best else cell)
        if compare:
            baseline = best_classical(scores, h, columns, metric)
            cells.append(baseline)
            cells += [_cell(paired_gain(scores, h, m, baseline, metric), digits, signed=True) for m in models]
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def range_table(scores: Scores, halftones: list[str], columns: list[str], metric: str = "psnr") -> str:
    """Markdown table of the per-photo ``min – max`` of ``metric`` per halftone and method."""
    _, digits = METRICS[metric]
    lines = ["| halftone | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
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


def comparison_figure(panels: dict[str, dict[str, np.ndarray]], path: Path, crop: int = 160) -> None:
    """Centre crops (nearest-neighbour, so the dots stay visible): one row per halftone, one column per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, columns = list(panels), list(next(iter(panels.values())))
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(2.2 * len(columns), 2.4 * len(rows)), squeeze=False)
    for r, h in enumerate(rows):
        clean = panels[h]["original"]
        y, x = (clean.shape[0] - crop) // 2, (clean.shape[1] - crop) // 2
        for c, name in enumerate(columns):
            image = panels[h][name][y : y + crop, x : x + crop]
            ax = axes[r][c]
            ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            title = name if name == "original" else f"{name}\n{_psnr(image, clean[y : y + crop, x : x + crop]):.1f} dB"
            ax.set_title(title, fontsize=8)
            if c == 0:
                ax.set_ylabel(h, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1.0 / max(float(np.mean((a - b) ** 2)), 1e-12)))


def model_methods(checkpoints: dict[str, Path], device: str | None, tile: int, **runtime: str) -> dict:
    """Descreening functions of trained checkpoints, by column name (``runtime``: ``backend``, ``precision``)."""
    methods = {}
    for name, checkpoint in checkpoints.items():
        overlap = min(64, tile // 4)
        descreener = Descreener.from_checkpoint(checkpoint, device=device, tile=tile, overlap=overlap, **runtime)
        methods[name] = lambda image, analysis, d=descreener: d(image)
    return methods


def routed_methods(routes: dict[str, dict[str, Path]], device: str | None, tile: int, **runtime: str) -> dict:
    """Specialists routed by :func:`analyse`: for each column, ``{kind: checkpoint}``; an image is descreened by
    the checkpoint of its analysed ``kind`` (``am``, ``dispersed``), or by the first one for other kinds."""
    methods = {}
    for name, checkpoints in routes.items():
        by_kind = model_methods(checkpoints, device, tile, **runtime)
        fallback = next(iter(by_kind.values()))
        methods[name] = lambda image, analysis, k=by_kind, f=fallback: k.get(analysis.kind, f)(image, analysis)
    return methods


def parse_route(item: str) -> tuple[str, dict[str, Path]]:
    """``NAME=KIND:CKPT,KIND:CKPT`` as ``(NAME, {KIND: CKPT})``."""
    name, _, spec = item.partition("=")
    pairs = [part.partition(":") for part in spec.split(",")]
    if not name or not pairs or any(not kind or not path for kind, _, path in pairs):
        raise SystemExit(f"--routed wants NAME=KIND:CKPT,KIND:CKPT, got {item!r}")
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


def photo_names(images: Sequence[Path]) -> list[str]:
    """Short unique names of ``images``: their stems, or their paths where stems repeat."""
    stems = [p.stem for p in images]
    return stems if len(set(stems)) == len(stems) else [str(p) for p in images]


def summary_json(scores: Scores, halftones: list[str], columns: list[str]) -> tuple[list[dict], list[dict]]:
    """Per (halftone, method): means, 95 % intervals, min/max and per-photo values; and the paired gains of every
    model column over each row's best classical baseline."""

    def number(value: float) -> float | None:
        return None if math.isnan(value) else value

    records = []
    for (h, m), score in scores.items():
        record: dict = {"halftone": h, "method": m}
        for metric in METRICS:
            summary = summarise(score.per_photo(metric))
            record[metric] = summary.mean
            record[f"{metric}_half_width"] = number(summary.half_width)
            record[f"{metric}_ci95"] = [number(summary.low), number(summary.high)]
            record[f"{metric}_min"], record[f"{metric}_max"] = summary.minimum, summary.maximum
            record[f"{metric}_per_photo"] = list(score.per_photo(metric))
        records.append(record)
    gains = []
    models = [m for m in columns if m != "halftone" and m not in BASELINES]
    for h in halftones:
        for metric in METRICS:
            baseline = best_classical(scores, h, columns, metric)
            for m in models if baseline else []:
                gain = paired_gain(scores, h, m, baseline, metric)
                a, b = scores[(h, m)].per_photo(metric), scores[(h, baseline)].per_photo(metric)
                gains.append(
                    {
                        "halftone": h,
                        "model": m,
                        "baseline": baseline,
                        "metric": metric,
                        "mean": gain.mean,
                        "half_width": number(gain.half_width),
                        "per_photo": np.subtract(a, b).tolist(),
                    }
                )
    return records, gains


def results_json(
    scores: Scores, images: Sequence[Path], halftones: list[str], columns: list[str], seconds: dict | None = None
) -> dict:
    """What ``results.json`` holds: the photos, rows and columns, :func:`summary_json`'s records and gains
    (with every per-photo value, for paired comparisons) and, when timed, the seconds spent."""
    records, gains = summary_json(scores, halftones, columns)
    summary = {
        "images": [str(i) for i in images],
        "photos": photo_names(images),
        "halftones": halftones,
        "methods": columns,
        "confidence": CONFIDENCE,
        "scores": records,
        "gains": gains,
    }
    return summary if seconds is None else summary | {"seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--images", type=Path, help="folder of clean photos (default: the held-out photos, see holdout_records)"
    )
    parser.add_argument("--checkpoint", type=Path, help="a stage checkpoint to evaluate as 'model'")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=CKPT",
        help="a checkpoint to evaluate as column NAME (repeatable); default: the shipped descreeners",
    )
    parser.add_argument(
        "--routed",
        action="append",
        default=[],
        metavar="NAME=KIND:CKPT,KIND:CKPT",
        help="specialists routed by the analysed halftone kind (am, dispersed) as column NAME (repeatable)",
    )
    parser.add_argument(
        "--no-shipped", action="store_true", help="without --model/--checkpoint: evaluate the baselines only"
    )
    parser.add_argument("--baselines", nargs="*", default=list(BASELINES), choices=list(BASELINES))
    parser.add_argument("--halftones", nargs="+", default=list(HALFTONES), choices=list(HALFTONES))
    parser.add_argument("--out", type=Path, default=Path("outputs/evaluation"))
    parser.add_argument("--figure", type=Path, help="also write a comparison figure of the first image here")
    parser.add_argument("--max-side", type=int, default=768, help="shrink larger photos to this size first")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--device", default=None)
    parser.add_argument("--backend", default="auto", choices=BACKENDS, help="where the models run")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help="the models' arithmetic")
    args = parser.parse_args(argv)
    images = evaluation_images(args.images)
    models = dict(item.split("=", 1) for item in args.model)
    if args.checkpoint:
        models["model"] = args.checkpoint
    routes = dict(map(parse_route, args.routed))
    models = {name: Path(path) for name, path in models.items()}
    models = models or ({} if args.no_shipped or routes else shipped_models())
    if not models and not routes:
        print("no model given and none shipped: evaluating the baselines only", file=sys.stderr)
    runtime = {"backend": args.backend, "precision": args.precision}
    methods = model_methods(models, args.device, args.tile, **runtime)
    methods |= routed_methods(routes, args.device, args.tile, **runtime)
    for name in args.baselines:
        methods[name] = lambda image, analysis, n=name: descreen_baseline(image, n, analysis)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    scores = evaluate(images, methods, args.halftones, args.out, args.max_side, args.figure, seconds)
    seconds["total"] = time.perf_counter() - start
    columns = ["halftone", *methods]
    table = results_table(scores, args.halftones, columns)
    legend = (
        f"{len(images)} photo(s), shrunk to {args.max_side} px on the longer side; "
        "grids: clean | " + " | ".join(columns) + "."
    )
    notes = "\n".join(f"- `{h}`: {HALFTONE_NOTES[h]}" for h in args.halftones)
    ranges = range_table(scores, args.halftones, columns, "psnr")
    write_text(
        args.out / "results.md",
        f"# Descreening evaluation\n\n{legend}\n\n{notes}\n\n{table}\n\nPSNR (dB), per-photo min – max:\n\n{ranges}\n",
    )
    summary = results_json(scores, images, args.halftones, columns, seconds)
    write_text(args.out / "results.json", json.dumps(summary, indent=1))
    print(table)
    order = sorted((k for k in seconds if k != "total"), key=lambda k: (not k.startswith("make "), k))
    per_photo = ", ".join(f"{k} {seconds[k] / len(images):.2f}" for k in order)
    print(f"seconds per photo: {per_photo}; total {seconds['total']:.1f} s")
    print(f"wrote {args.out}/results.md, results.json and comparison grids")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
