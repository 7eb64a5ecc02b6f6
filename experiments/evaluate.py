"""Evaluate descreening: halftone clean photos, descreen them, compare with the originals.

For every clean image in ``--images`` (or the embedded validation photos), each
halftoning algorithm makes a halftone (AM CMYK also passes through scan
simulation), which the model (``--checkpoint``) and every classical baseline
descreen. Writes a markdown table of mean PSNR / SSIM (torchmetrics) per
algorithm x method and side-by-side comparison grids to ``--out``.

    python experiments/evaluate.py --images photos/ --checkpoint outputs/details/best.ckpt --out eval/
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from torchmetrics.image import PeakSignalNoiseRatio, StructuralSimilarityIndexMeasure
from tqdm.auto import tqdm

from deep_halftoning.data.sources import embedded_records, folder_records
from deep_halftoning.halftone import halftone
from deep_halftoning.halftone.scan import ScanSettings, simulate_scan
from deep_halftoning.inference import BASELINES, Descreener, analyse, descreen_baseline
from deep_halftoning.io import read_image, write_image

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


def evaluate(images: list[Path], methods: dict, halftones: list[str], out: Path, max_side: int) -> str:
    scores = {
        (h, m): (PeakSignalNoiseRatio(data_range=1.0, dim=(1, 2, 3)), StructuralSimilarityIndexMeasure(data_range=1.0))
        for h in halftones
        for m in ["halftone", *methods]
    }
    out.mkdir(parents=True, exist_ok=True)
    for index, path in enumerate(tqdm(images, desc="images", unit="image")):
        clean = read_image(path, max_side=max_side)
        clean = np.repeat(clean[..., None], 3, axis=2) if clean.ndim == 2 else clean
        for h in halftones:
            screened = make_halftone(clean, h, seed=index)
            analysis = analyse(screened)
            results = {"halftone": screened}
            for name, fn in methods.items():
                results[name] = fn(screened, analysis)
            for name, result in results.items():
                psnr, ssim = scores[(h, name)]
                psnr.update(_tensor(np.clip(result, 0, 1)), _tensor(clean))
                ssim.update(_tensor(np.clip(result, 0, 1)), _tensor(clean))
            grid = np.concatenate([clean, *results.values()], axis=1)
            write_image(out / f"{path.stem}_{h}.png", grid)
    columns = ["halftone", *methods]
    lines = ["| halftone | " + " | ".join(columns) + " |", "|---|" + "---:|" * len(columns)]
    for h in halftones:
        cells = [
            f"{float(scores[(h, m)][0].compute()):.2f} / {float(scores[(h, m)][1].compute()):.3f}" for m in columns
        ]
        lines.append(f"| {h} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    legend = f"Mean PSNR (dB) / SSIM over {len(images)} image(s); grids: clean | " + " | ".join(columns) + "."
    (out / "results.md").write_text(f"# Descreening evaluation\n\n{legend}\n\n{table}\n")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, help="folder of clean photos (default: embedded validation photos)")
    parser.add_argument("--checkpoint", type=Path, help="stage checkpoint of the model to evaluate")
    parser.add_argument("--methods", nargs="+", default=["model", *BASELINES], help="model and/or baselines")
    parser.add_argument("--halftones", nargs="+", default=list(HALFTONES), choices=list(HALFTONES))
    parser.add_argument("--out", type=Path, default=Path("outputs/evaluation"))
    parser.add_argument("--max-side", type=int, default=768, help="shrink larger photos to this size first")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    images = [r.image for r in (folder_records(args.images) if args.images else embedded_records("val"))]
    methods = {}
    for name in args.methods:
        if name == "model":
            if args.checkpoint is None:
                print("no --checkpoint: evaluating the baselines only", file=sys.stderr)
                continue
            descreener = Descreener.from_checkpoint(
                args.checkpoint, device=args.device, tile=args.tile, overlap=min(64, args.tile // 4)
            )
            methods["model"] = lambda image, analysis, d=descreener: d(image)
        elif name in BASELINES:
            methods[name] = lambda image, analysis, n=name: descreen_baseline(image, n, analysis)
        else:
            parser.error(f"unknown method {name!r}; choose from model, {', '.join(BASELINES)}")
    table = evaluate(images, methods, args.halftones, args.out, args.max_side)
    print(table)
    print(f"wrote {args.out}/results.md and comparison grids")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
