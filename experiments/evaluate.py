"""Evaluate descreening: halftone clean photos, descreen them, compare with the originals.

For every clean image in ``--images`` (or the embedded validation photos), each
halftoning algorithm makes a halftone (AM CMYK also passes through scan
simulation), which the models (``--checkpoint``/``--model``, by default the
descreeners shipped with the package) and every classical baseline descreen.
Writes a markdown table and JSON of mean PSNR / SSIM (torchmetrics) per
algorithm x method, side-by-side comparison grids to ``--out``, and with
``--figure`` one labelled comparison figure.

    python experiments/evaluate.py --images photos/ --checkpoint outputs/details/best.ckpt --out eval/
    python experiments/evaluate.py --figure comparison.png   # the shipped descreeners on the validation photos
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure
from tqdm.auto import tqdm

from deep_halftoning.data.sources import embedded_records, folder_records
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
from deep_halftoning.inference.shipped import SHIPPED_DIR
from deep_halftoning.io import atomic_output, read_image, write_image, write_text

#: name -> (method, parameters, scanned)
HALFTONES = {
    "floyd-steinberg": ("floyd-steinberg", {}, False),
    "jarvis": ("jarvis-judice-ninke", {}, False),
    "bayer-8": ("bayer-8", {}, False),
    "am-cmyk+scan": ("am-cmyk", {"lpi": 120.0, "dpi": 600.0}, True),
}
SCAN = ScanSettings(blur_sigma=0.6, paper_strength=0.015, noise_sigma=0.01, rotation=0.0, jpeg_quality=90)


def make_halftone(clean: np.ndarray, name: str, seed: int) -> np.ndarray:
    method, params, scanned = HALFTONES[name]
    out = halftone(clean, method, **params).image
    return simulate_scan(out, SCAN, seed=seed) if scanned else out


def _tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None].float()


Scores = dict[tuple[str, str], tuple[float, float]]


def evaluate(
    images: list[Path], methods: dict, halftones: list[str], out: Path, max_side: int, figure: Path | None = None
) -> Scores:
    """Mean (PSNR, SSIM) per (halftone, method); writes a comparison grid per image and halftone to ``out``,
    and, with ``figure``, one labelled figure of centre crops of the first image."""
    metrics = {
        (h, m): (PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3)), StructuralSimilarityIndexMeasure(data_range=1.0))
        for h in halftones
        for m in ["halftone", *methods]
    }
    out.mkdir(parents=True, exist_ok=True)
    panels: dict[str, dict[str, np.ndarray]] = {}
    for index, path in enumerate(tqdm(images, desc="images", unit="image")):
        clean = read_image(path, max_side=max_side)
        clean = np.repeat(clean[..., None], 3, axis=2) if clean.ndim == 2 else clean
        for h in halftones:
            screened = make_halftone(clean, h, seed=index)
            analysis = analyse(screened)
            results = {"halftone": screened}
            for name, fn in methods.items():
                results[name] = np.clip(fn(screened, analysis), 0, 1)
            for name, result in results.items():
                psnr, ssim = metrics[(h, name)]
                psnr.update(_tensor(result), _tensor(clean))
                ssim.update(_tensor(result), _tensor(clean))
            write_image(out / f"{path.stem}_{h}.png", np.concatenate([clean, *results.values()], axis=1))
            if index == 0:
                panels[h] = {**results, "original": clean}
    if figure is not None and panels:
        comparison_figure(panels, figure)
    return {key: (float(psnr.compute()), float(ssim.compute())) for key, (psnr, ssim) in metrics.items()}


def results_table(scores: Scores, halftones: list[str], columns: list[str]) -> str:
    """Markdown table: one row per halftone, ``PSNR / SSIM`` per method, the best PSNR of each row in bold."""
    lines = ["| halftone | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for h in halftones:
        best = max(scores[(h, m)][0] for m in columns)
        cells = []
        for m in columns:
            psnr, ssim = scores[(h, m)]
            cell = f"{psnr:.2f} / {ssim:.3f}"
            cells.append(f"**{cell}**" if psnr == best else cell)
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


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


def model_methods(checkpoints: dict[str, Path], device: str | None, tile: int) -> dict:
    """Descreening functions of trained checkpoints, by column name."""
    methods = {}
    for name, checkpoint in checkpoints.items():
        descreener = Descreener.from_checkpoint(checkpoint, device=device, tile=tile, overlap=min(64, tile // 4))
        methods[name] = lambda image, analysis, d=descreener: d(image)
    return methods


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, help="folder of clean photos (default: embedded validation photos)")
    parser.add_argument("--checkpoint", type=Path, help="a stage checkpoint to evaluate as 'model'")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="NAME=CKPT",
        help="a checkpoint to evaluate as column NAME (repeatable); default: the shipped descreeners",
    )
    parser.add_argument("--baselines", nargs="*", default=list(BASELINES), choices=list(BASELINES))
    parser.add_argument("--halftones", nargs="+", default=list(HALFTONES), choices=list(HALFTONES))
    parser.add_argument("--out", type=Path, default=Path("outputs/evaluation"))
    parser.add_argument("--figure", type=Path, help="also write a comparison figure of the first image here")
    parser.add_argument("--max-side", type=int, default=768, help="shrink larger photos to this size first")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    images = [r.image for r in (folder_records(args.images) if args.images else embedded_records("val"))]
    models = dict(item.split("=", 1) for item in args.model)
    if args.checkpoint:
        models["model"] = args.checkpoint
    models = {name: Path(path) for name, path in models.items()} or shipped_models()
    if not models:
        print("no model given and none shipped: evaluating the baselines only", file=sys.stderr)
    methods = model_methods(models, args.device, args.tile)
    for name in args.baselines:
        methods[name] = lambda image, analysis, n=name: descreen_baseline(image, n, analysis)
    scores = evaluate(images, methods, args.halftones, args.out, args.max_side, args.figure)
    columns = ["halftone", *methods]
    table = results_table(scores, args.halftones, columns)
    legend = f"Mean PSNR (dB) / SSIM over {len(images)} image(s); grids: clean | " + " | ".join(columns) + "."
    write_text(args.out / "results.md", f"# Descreening evaluation\n\n{legend}\n\n{table}\n")
    records = [{"halftone": h, "method": m, "psnr": p, "ssim": q} for (h, m), (p, q) in scores.items()]
    summary = {"images": [str(i) for i in images], "scores": records}
    write_text(args.out / "results.json", json.dumps(summary, indent=1))
    print(table)
    print(f"wrote {args.out}/results.md, results.json and comparison grids")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
