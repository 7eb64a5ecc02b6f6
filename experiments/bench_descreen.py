"""Descreening a whole page on the CPU: throughput and peak memory.

A synthetic A4 page at 600 dpi (4960 x 7016, 34.8 Mpx) is built from the embedded
photos, printed with a 150 lpi AM CMYK screen and scanned (simulation). Each
method then descreens the whole page in a fresh process, so its peak resident
memory is its own: the shipped descreener (tiled, at the precision the ``Descreener``
picks: bf16 autocast on CPUs with native bf16), the same in float32, any checkpoint
given with ``--model NAME=CKPT`` (e.g. a newly trained one, at the same precision) and, as
the peer, the FFT baseline (whole-page FFT, what GIMP users do). Writes
``experiments/results/descreen.md``.

    python experiments/bench_descreen.py [--scale 1.0] [--tile 512] [--model new=outputs/release/joint/last.ckpt]
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


def worker(page_path: Path, checkpoint: Path | None, tile: int, precision: str) -> dict:
    """Descreen the page in this process (the FFT peer without a checkpoint); report time and peak memory."""
    from deep_halftoning.inference import Descreener, analyse, fft_descreen

    page = np.load(page_path)
    start = time.perf_counter()
    if checkpoint is not None:
        descreener = Descreener.from_checkpoint(
            checkpoint, device="cpu", tile=tile, overlap=32, batch=2, precision=precision
        )
        out = descreener(page)
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


def _named(item: str) -> tuple[str, str]:
    name, _, path = item.partition("=")
    return name, path


def main() -> None:
    from deep_halftoning.inference import shipped_checkpoint
    from deep_halftoning.io import write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="page size relative to A4 at 600 dpi")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--model", action="append", default=[], metavar="NAME=CKPT", help="another checkpoint")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--page", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.page, args.checkpoint, args.tile, args.precision)))
        return
    shipped = shipped_checkpoint()
    #: row label -> (checkpoint or None for the FFT peer, precision)
    runs = {
        "shipped descreener, auto precision": (shipped, "auto"),
        "shipped descreener, fp32": (shipped, "fp32"),
        **{f"{name}, auto precision": (Path(path), "auto") for name, path in map(_named, args.model)},
        "peer: FFT notch filter on the whole page": (None, "fp32"),
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        page = make_page(args.scale)
        np.save(Path(tmp) / "page.npy", page)
        for label, (checkpoint, precision) in runs.items():
            command = [sys.executable, __file__, "--worker", "--page", str(Path(tmp) / "page.npy")]
            command += ["--tile", str(args.tile), "--precision", precision]
            command += ["--checkpoint", str(checkpoint)] if checkpoint is not None else []
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            results[label] = r = json.loads(output.strip().splitlines()[-1])
            print(
                f"{label}: {r['seconds']:.1f} s, {r['mpx'] / r['seconds']:.3f} Mpx/s, {r['peak_rss'] / 2**30:.2f} GiB"
            )
    gib, fft = 2**30, results["peer: FFT notch filter on the whole page"]
    mpx = fft["mpx"]
    lines = [
        "# Descreening a page",
        "",
        f"Synthetic page {page.shape[1]}x{page.shape[0]} ({mpx:.1f} Mpx; A4 at 600 dpi x {args.scale}), "
        f"150 lpi AM CMYK + scan simulation; CPU, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads; "
        f"models in tiles of {args.tile} (overlap 32, 2 per batch). Each run is its own process. "
        "Produced by `python experiments/bench_descreen.py`"
        + "".join(f" `--model {item}`" for item in args.model)
        + ".",
        "",
        "| method | seconds | Mpx/s | peak RSS (GiB) | time vs FFT |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {label} | {r['seconds']:.1f} | {r['mpx'] / r['seconds']:.3f} | {r['peak_rss'] / gib:.2f} | "
            f"{r['seconds'] / fft['seconds']:.2f}x |"
            for label, r in results.items()
        ),
        "",
        "GPU path: `Descreener(device='cuda')` batches tiles and runs under bf16 (or fp16) autocast; raise "
        "`batch`/`tile` to fill the GPU.",
        "",
    ]
    write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
