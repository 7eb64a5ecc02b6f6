"""Descreening a whole page on the CPU: throughput and peak memory.

A synthetic A4 page at 600 dpi (4960 x 7016, 34.8 Mpx) is built from the embedded
photos, printed with a 150 lpi AM CMYK screen and scanned (simulation). Each
method then descreens the whole page in a fresh process, so its peak resident
memory is its own: the model (lite networks, tiled) and, as the peer, the FFT
baseline (whole-page FFT, what GIMP users do). Writes ``experiments/results/descreen.md``.

    python experiments/bench_descreen.py [--scale 1.0] [--tile 512]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results" / "descreen.md"
A4_600DPI = (7016, 4960)


def make_page(scale: float) -> np.ndarray:
    """Photos laid out on a white page, screened at 150 lpi / 600 dpi and scanned."""
    from deep_halftoning.data.sources import embedded_records
    from deep_halftoning.halftone import halftone
    from deep_halftoning.halftone.scan import ScanSettings, simulate_scan
    from deep_halftoning.io import read_image

    height, width = (round(s * scale) for s in A4_600DPI)
    page = np.ones((height, width, 3), np.float32)
    photos = [read_image(r.image) for r in embedded_records("train")]
    rows, cols, margin = 4, 2, round(200 * scale)
    cell_h, cell_w = (height - 2 * margin) // rows, (width - 2 * margin) // cols
    for i in range(rows * cols):
        photo = photos[i % len(photos)]
        photo = np.repeat(photo[..., None], 3, axis=2) if photo.ndim == 2 else photo
        y, x = margin + (i // cols) * cell_h, margin + (i % cols) * cell_w
        page[y : y + cell_h - 40, x : x + cell_w - 40] = cv2.resize(
            photo, (cell_w - 40, cell_h - 40), interpolation=cv2.INTER_CUBIC
        ).clip(0, 1)
    screened = halftone(page, "am-cmyk", lpi=150.0, dpi=600.0).image
    return simulate_scan(
        screened, ScanSettings(blur_sigma=0.6, paper_strength=0.01, noise_sigma=0.01, rotation=0.0, jpeg_quality=None)
    )


def lite_checkpoint(path: Path) -> Path:
    """A details-stage checkpoint with the lite networks (random weights: speed does not depend on them)."""
    import warnings

    from deep_halftoning.stages import DetailsStage

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        stage = DetailsStage(
            coarse={"width": 16},
            edge={"width": 32, "layers": 5},
            details={"width": 32, "blocks": 4},
            discriminator={"width": 32},
        )
    checkpoint = {"state_dict": stage.state_dict()}
    stage.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    return path


def worker(method: str, page_path: Path, checkpoint: Path, tile: int) -> dict:
    """Descreen the page in this process; report time and peak memory."""
    from deep_halftoning.inference import Descreener, analyse, fft_descreen

    page = np.load(page_path)
    start = time.perf_counter()
    if method == "model":
        out = Descreener.from_checkpoint(checkpoint, device="cpu", tile=tile, overlap=32, batch=2)(page)
    else:
        out = fft_descreen(page, analyse(page))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "peak_rss": peak_rss(),
        "mpx": page.shape[0] * page.shape[1] / 1e6,
        "ok": bool(out.size),
    }


def peak_rss() -> int:
    """This process's peak resident memory in bytes (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # pragma: no cover - not Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="page size relative to A4 at 600 dpi")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", choices=("model", "fft"), help=argparse.SUPPRESS)
    parser.add_argument("--page", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.page, args.checkpoint, args.tile)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        page = make_page(args.scale)
        np.save(Path(tmp) / "page.npy", page)
        checkpoint = lite_checkpoint(Path(tmp) / "lite.ckpt")
        results = {}
        for method in ("model", "fft"):
            command = [
                sys.executable,
                __file__,
                "--worker",
                method,
                "--page",
                str(Path(tmp) / "page.npy"),
                "--checkpoint",
                str(checkpoint),
                "--tile",
                str(args.tile),
            ]
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            results[method] = json.loads(output.strip().splitlines()[-1])
            r = results[method]
            print(f"{method}: {r['mpx'] / r['seconds']:.3f} Mpx/s, peak RSS {r['peak_rss'] / 2**30:.2f} GiB")
    model, fft = results["model"], results["fft"]
    gib = 2**30
    lines = [
        "# Descreening a page",
        "",
        f"Synthetic page {page.shape[1]}x{page.shape[0]} ({model['mpx']:.1f} Mpx; A4 at 600 dpi x {args.scale}), "
        f"150 lpi AM CMYK + scan simulation; CPU, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads. "
        "Each method runs in its own process. Produced by `python experiments/bench_descreen.py`.",
        "",
        "| method | seconds | Mpx/s | peak RSS (GiB) |",
        "|---|---:|---:|---:|",
        f"| model, lite networks, tiles of {args.tile} (overlap 32, 2 per batch), fp32 | {model['seconds']:.1f} | "
        f"{model['mpx'] / model['seconds']:.3f} | {model['peak_rss'] / gib:.2f} |",
        f"| peer: FFT notch filter on the whole page | {fft['seconds']:.1f} | {fft['mpx'] / fft['seconds']:.3f} | "
        f"{fft['peak_rss'] / gib:.2f} |",
        "",
        f"Model vs FFT: {fft['seconds'] / model['seconds']:.2f}x the speed, "
        f"{model['peak_rss'] / fft['peak_rss']:.2f}x the memory. Target peak RSS <= 4 GiB: "
        f"**{'met' if model['peak_rss'] <= 4 * gib else 'not met'}**.",
        "",
        "GPU path: `Descreener(device='cuda')` batches tiles and runs under bf16 (or fp16) autocast; raise "
        "`--batch`/`tile` to fill the GPU.",
        "",
    ]
    from deep_halftoning.io import write_text

    write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
