"""The GPU path of the descreener, checked on a CUDA machine.

The shipped descreener on the GPU (torch, the precision ``auto`` picks: bf16 autocast)
against the CPU in float32 on one 1024 x 1024 crop of the benchmark page (max abs
difference and PSNR between the two), and the whole synthetic A4 600 dpi page that
``bench_descreen.py`` times on the CPU (:mod:`deep_halftoning.evaluation.page`) on the
GPU: seconds (two runs after a warm-up crop) and peak GPU memory. The GPU halftone
kernels are checked against the CPU by the test suite (``pytest
tests/halftone/test_torch_ops.py`` runs its CUDA test there). Writes
``experiments/results/gpu.md``; needs a CUDA device.

    python experiments/gpu_check.py [--tile 512] [--batch 4]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch

from deep_halftoning.evaluation.page import make_page
from deep_halftoning.inference import Descreener, shipped_checkpoint
from deep_halftoning.io import write_text
from deep_halftoning.models.metrics import psnr

RESULTS = Path(__file__).resolve().parent / "results" / "gpu.md"


def timed(descreener: Descreener, image: np.ndarray) -> tuple[np.ndarray, float]:
    """The descreened image and its wall-clock seconds, GPU work included."""
    torch.cuda.synchronize()
    start = time.perf_counter()
    out = descreener(image)
    torch.cuda.synchronize()
    return out, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tile", type=int, default=512)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        parser.error("needs a CUDA device")

    page = make_page(1.0)
    crop = page[2000:3024, 600:1624].copy()
    checkpoint = shipped_checkpoint("fidelity")
    gpu = Descreener.from_checkpoint(checkpoint, device="cuda", tile=args.tile, batch=args.batch)
    cpu = Descreener.from_checkpoint(checkpoint, device="cpu", backend="torch", precision="fp32")
    timed(gpu, crop)  # warm-up: kernels chosen, memory pooled
    on_gpu, crop_seconds = timed(gpu, crop)
    on_cpu = cpu(crop)
    torch.cuda.reset_peak_memory_stats()
    page_seconds = [timed(gpu, page)[1] for _ in range(2)]
    peak = torch.cuda.max_memory_allocated() / 2**30

    height, width = page.shape[:2]
    lines = [
        "# The descreener on a GPU",
        "",
        f"{torch.cuda.get_device_name(0)}, torch {torch.__version__}, the shipped fidelity descreener on "
        f"`{gpu.backend}` at `{gpu.precision}` (what `auto` picks on a GPU), tiles {args.tile} x {args.batch}. "
        "Produced by `python experiments/gpu_check.py`.",
        "",
        "| check | value |",
        "|---|---:|",
        f"| 1024 x 1024 crop, GPU vs CPU float32: max abs difference | {np.abs(on_gpu - on_cpu).max():.4f} |",
        f"| 1024 x 1024 crop, GPU vs CPU float32: PSNR (dB) | {psnr(on_gpu, on_cpu):.1f} |",
        f"| 1024 x 1024 crop on the GPU (s) | {crop_seconds:.3f} |",
        f"| A4 600 dpi page ({width} x {height}) on the GPU, two runs (s) | "
        f"{' / '.join(f'{s:.2f}' for s in page_seconds)} |",
        f"| peak GPU memory over the page (GiB) | {peak:.2f} |",
        "",
    ]
    write_text(args.out, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
