"""Descreening a whole page on the CPU: the page path end to end, per backend and precision.

A synthetic A4 page at 600 dpi (4960 x 7016, 34.8 Mpx) is built from the embedded
photos, printed with a 150 lpi AM CMYK screen (``--lpi``), scanned (simulation) and saved as PNG.
Each method then takes the page path the CLI takes, in a fresh process (so its peak
resident memory is its own): decode the PNG, analyse the screen, descreen, encode the
PNG; each phase is timed. Rows: the shipped descreener on PyTorch (the default before
the OpenVINO backend) at the precision ``auto`` picks (bf16 on CPUs with native bf16) and in
float32, and on OpenVINO at ``auto`` (the shipped int8 graph on CPUs with int8 instructions),
bf16 and float32, any checkpoint given with ``--model NAME=CKPT``
(on the default backend) and, as the peer, the FFT notch filter (what GIMP users do).
Before the page, every shipped-model row descreens the same held-out crops (Floyd-Steinberg
and the AM training family; :func:`holdout_records`) and reports its PSNR minus PyTorch
float32's. Writes ``experiments/results/descreen.md``.

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

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results" / "descreen.md"
#: row label -> (backend, precision, screen scale) of the shipped descreener
SHIPPED_RUNS = {
    "shipped descreener, torch, auto precision (the default before OpenVINO)": ("torch", "auto", "auto"),
    "shipped descreener, torch, fp32": ("torch", "fp32", "auto"),
    "shipped descreener, openvino, auto precision (the default)": ("openvino", "auto", "auto"),
    "shipped descreener, openvino, auto precision, full resolution (`--scale off`)": ("openvino", "auto", "off"),
    "shipped descreener, openvino, bf16 (the default before int8)": ("openvino", "bf16", "auto"),
    "shipped descreener, openvino, fp32": ("openvino", "fp32", "auto"),
}
FFT = "peer: FFT notch filter on the whole page"
PHASES = ("decode", "analyse", "descreen", "encode")


def worker(page_path: Path, checkpoint: Path | None, tiling: dict, backend: str, precision: str, scale: str) -> dict:
    """The CLI's page path in this process (the FFT peer without a checkpoint): seconds per phase, peak memory."""
    from deep_halftoning.inference import Descreener, analyse, fft_descreen
    from deep_halftoning.io import read_image, write_image

    seconds, start = {}, time.perf_counter()
    if checkpoint is not None:  # loading, and compiling for OpenVINO, count with the descreening
        descreener = Descreener.from_checkpoint(
            checkpoint, device="cpu", backend=backend, precision=precision, scale=scale, **tiling
        )
        load = time.perf_counter() - start
    tick = time.perf_counter()
    page = read_image(page_path)
    seconds["decode"] = time.perf_counter() - tick
    tick = time.perf_counter()
    analysis = analyse(page)
    seconds["analyse"] = time.perf_counter() - tick
    tick = time.perf_counter()
    if checkpoint is not None:
        choice = descreener.choose_scale(page, analysis)
        out = descreener(page, scale=choice)
    else:
        out = fft_descreen(page, analysis)
    seconds["descreen"] = time.perf_counter() - tick + (load if checkpoint is not None else 0.0)
    mpx = page.shape[0] * page.shape[1] / 1e6
    del page  # as in the CLI, which keeps only the descreened page while it encodes
    tick = time.perf_counter()
    write_image(page_path.with_name("out.png"), out)
    seconds["encode"] = time.perf_counter() - tick
    return {
        "seconds": time.perf_counter() - start,
        "phases": seconds,
        "peak_rss": peak_rss(),
        "mpx": mpx,
        "runtime": f"{descreener.backend} {descreener.precision}, factor {choice.factor:.2f}"
        if checkpoint is not None
        else "numpy",
    }


def crop_fidelity(checkpoint: Path, tiling: dict, crops: int) -> dict[str, dict[str, float]]:
    """Per shipped row: mean and worst PSNR difference to PyTorch float32 on held-out crops, per halftone row."""
    from deep_halftoning.data.sources import holdout_records
    from deep_halftoning.evaluation.photos import read_photo
    from deep_halftoning.evaluation.rows import ROWS
    from deep_halftoning.inference import Descreener
    from deep_halftoning.models.metrics import psnr

    # crops with sides that are multiples of 32, as the tiles of a page are (smaller ones run in torch)
    photos = [read_photo(r.image, 768) for r in holdout_records()[-crops:]]
    crops_ = [p[: min(384, p.shape[0] // 32 * 32), : min(512, p.shape[1] // 32 * 32)] for p in photos]
    rows = {row: ROWS[row].make for row in ("floyd-steinberg", "am-cmyk+scan")}
    pairs = [(row, crop, make(crop, seed)) for seed, crop in enumerate(crops_) for row, make in rows.items()]

    def psnrs(backend: str, precision: str, scale: str = "auto") -> np.ndarray:
        descreener = Descreener.from_checkpoint(
            checkpoint, device="cpu", backend=backend, precision=precision, scale=scale, **tiling
        )
        return np.array([psnr(descreener(scan), clean) for _, clean, scan in pairs])

    reference = psnrs("torch", "fp32")
    names = np.array([row for row, _, _ in pairs])
    fidelity = {}
    for label, runtime in SHIPPED_RUNS.items():
        difference = psnrs(*runtime) - reference
        cells = {}
        for row in rows:
            values = difference[names == row]
            cells[row] = f"{values.mean():+.3f} (worst {values[np.argmax(np.abs(values))]:+.3f})"
        fidelity[label] = cells
    return fidelity


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
    from deep_halftoning.evaluation.page import make_page
    from deep_halftoning.inference import load_pipeline, shipped_checkpoint
    from deep_halftoning.inference.export import cached_openvino_model
    from deep_halftoning.io import write_image, write_text

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="page size relative to A4 at 600 dpi")
    parser.add_argument("--lpi", type=float, default=150.0, help="the page's AM screen ruling (at 600 dpi)")
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--overlap", type=int, default=64)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--crops", type=int, default=8, help="held-out photos for the PSNR check (0: none)")
    parser.add_argument("--model", action="append", default=[], metavar="NAME=CKPT", help="another checkpoint")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--page", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--checkpoint", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--backend", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--precision", default="auto", help=argparse.SUPPRESS)
    parser.add_argument("--descreen-scale", default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args()
    tiling = {"tile": args.tile, "overlap": args.overlap, "batch": args.batch}
    if args.worker:
        print(json.dumps(worker(args.page, args.checkpoint, tiling, args.backend, args.precision, args.descreen_scale)))
        return
    shipped = shipped_checkpoint()
    cached_openvino_model(load_pipeline(shipped))  # the one-time export is not part of a page
    fidelity = crop_fidelity(shipped, tiling, args.crops) if args.crops else {}
    #: row label -> (checkpoint or None for the FFT peer, backend, precision, screen scale)
    runs = {
        **{label: (shipped, *runtime) for label, runtime in SHIPPED_RUNS.items()},
        **{
            f"{name}, auto backend and precision": (Path(path), "auto", "auto", "auto")
            for name, path in map(_named, args.model)
        },
        FFT: (None, "auto", "auto", "auto"),
    }
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        page = make_page(args.scale, args.lpi)
        page_path = write_image(Path(tmp) / "page.png", page)
        for label, (checkpoint, backend, precision, scale) in runs.items():
            command = [sys.executable, __file__, "--worker", "--page", str(page_path), "--backend", backend]
            command += ["--descreen-scale", scale]
            command += ["--precision", precision, "--tile", str(args.tile), "--overlap", str(args.overlap)]
            command += ["--batch", str(args.batch)]
            command += ["--checkpoint", str(checkpoint)] if checkpoint is not None else []
            output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
            results[label] = r = json.loads(output.strip().splitlines()[-1])
            print(
                f"{label} ({r['runtime']}): {r['seconds']:.1f} s, {r['mpx'] / r['seconds']:.3f} Mpx/s, "
                f"{r['peak_rss'] / 2**30:.2f} GiB"
            )
    gib, fft = 2**30, results[FFT]
    rows = list(next(iter(fidelity.values()), {}))
    lines = [
        "# Descreening a page",
        "",
        f"Synthetic page {page.shape[1]}x{page.shape[0]} ({fft['mpx']:.1f} Mpx; A4 at 600 dpi x {args.scale}), "
        f"{args.lpi:g} lpi AM CMYK + scan simulation, as an 8-bit PNG; CPU, {os.cpu_count()} cores, "
        f"{torch.get_num_threads()} threads; models in tiles of {args.tile} (overlap {args.overlap}, {args.batch} per "
        "batch). Each run is its own process and takes the CLI's page path: decode the PNG, analyse the screen, "
        "descreen (loading and compiling the model included; the one-time export to the cache is not), encode the "
        "PNG. Produced by `python experiments/bench_descreen.py`"
        + "".join(f" `--{k} {v}`" for k, v in vars(args).items() if k in ("scale", "lpi", "tile", "overlap", "batch"))
        + "".join(f" `--model {item}`" for item in args.model)
        + ".",
        "",
        "| method | runs as | decode s | analyse s | descreen s | encode s | total s | Mpx/s | peak RSS (GiB) | "
        "time vs FFT |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        *(
            f"| {label} | {r['runtime']} | "
            + " | ".join(f"{r['phases'][phase]:.1f}" for phase in PHASES)
            + f" | {r['seconds']:.1f} | {r['mpx'] / r['seconds']:.3f} | {r['peak_rss'] / gib:.2f} | "
            f"{r['seconds'] / fft['seconds']:.2f}x |"
            for label, r in results.items()
        ),
        "",
    ]
    if fidelity:
        lines += [
            f"PSNR minus the PyTorch float32 run's (dB), mean over {args.crops} held-out photos (384 x 512 crops; "
            "worst photo in brackets):",
            "",
            "| method | " + " | ".join(rows) + " |",
            "|---|" + "---:|" * len(rows),
            *(f"| {label} | " + " | ".join(cells[row] for row in rows) + " |" for label, cells in fidelity.items()),
            "",
        ]
    lines += [
        "GPU path: `Descreener(device='cuda')` runs torch under bf16 (or fp16) autocast; raise `batch`/`tile` to fill "
        "the GPU. The same page on a GPU: [gpu.md](gpu.md) (`python experiments/gpu_check.py`).",
        "",
    ]
    write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
