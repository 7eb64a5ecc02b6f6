"""Halftoning speed, side by side with peers, on one 4096 x 4096 image.

Measures, in one run on the same image: our Floyd-Steinberg vs Pillow's
``Image.convert("1")`` (the same algorithm in C), our Bayer 8x8 ordered dither
vs ImageMagick's ``-ordered-dither o8x8`` (when ImageMagick is installed), and
the AM CMYK screen. Reports Mpx/s, the ratio to each peer and the one-off JIT
compile time, and writes ``experiments/results/halftone.md``.

    python experiments/bench_halftone.py [--size 4096] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from deep_halftoning.halftone import error_diffusion, halftone, ordered
from deep_halftoning.halftone.color import rgb_to_cmyk
from deep_halftoning.halftone.screen import DEFAULT_ANGLES, am_screen
from deep_halftoning.io import write_text

RESULTS = Path(__file__).resolve().parent / "results" / "halftone.md"


def photo_like(size: int, channels: int, seed: int = 0) -> np.ndarray:
    """Smooth random image with photo-like low frequencies, float32 in [0, 1]."""
    small = np.random.default_rng(seed).random((64, 64, channels), dtype=np.float32)
    big = cv2.resize(small, (size, size), interpolation=cv2.INTER_CUBIC)
    return np.clip(big.reshape(size, size, channels).squeeze(), 0.0, 1.0)


def best_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def first_call(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def imagemagick() -> str | None:
    """Path of a real ImageMagick ``convert`` (not a stand-in), if any."""
    for name in ("magick", "convert"):
        exe = shutil.which(name)
        if exe:
            out = subprocess.run([exe, "-version"], capture_output=True, text=True, check=False).stdout
            if "ImageMagick" in out:
                return exe
    return None


def imagemagick_times(exe: str, gray_u8: np.ndarray, repeat: int) -> tuple[float, float]:
    """(end-to-end time of o8x8 on a raw grey file, time of the same I/O with no dither)."""
    size = f"{gray_u8.shape[1]}x{gray_u8.shape[0]}"
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.gray", Path(tmp) / "out.gray"
        gray_u8.tofile(src)
        base = [exe, "-size", size, "-depth", "8", f"gray:{src}"]
        dither = best_time(
            lambda: subprocess.run([*base, "-ordered-dither", "o8x8", f"gray:{dst}"], check=True),
            repeat,
        )
        io_only = best_time(lambda: subprocess.run([*base, f"gray:{dst}"], check=True), repeat)
    return dither, io_only


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=4096)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    n, mpx = args.size, args.size * args.size / 1e6
    gray = photo_like(n, 1)
    rgb = photo_like(n, 3, seed=1)
    gray_u8 = (gray * 255 + 0.5).astype(np.uint8)
    pil_gray = Image.fromarray(gray_u8)
    rows: list[tuple[str, float, str]] = []

    def record(name: str, seconds: float, note: str = "") -> float:
        rate = mpx / seconds
        rows.append((name, rate, note))
        print(f"{name:58} {rate:9.1f} Mpx/s  {note}")
        return rate

    tiny = np.full((8, 8), 0.5, np.float32)
    jit = {
        "error diffusion (Floyd-Steinberg)": first_call(lambda: error_diffusion.error_diffusion(tiny)),
        "ordered dither": first_call(lambda: ordered.ordered_dither(tiny, ordered.bayer_matrix(8))),
        "AM screen": first_call(lambda: halftone(np.full((8, 8, 3), 0.5, np.float32), "am-cmyk")),
    }

    # Floyd-Steinberg, single-threaded, vs Pillow (C) on the same grey image.
    pillow = record(
        "Pillow Image.convert('1') (FS, C, 1 thread)",
        best_time(lambda: pil_gray.convert("1"), args.repeat),
    )
    ours = record(
        "ours: Floyd-Steinberg (1 thread)",
        best_time(lambda: error_diffusion.error_diffusion(gray), args.repeat),
    )
    fs_ratio = ours / pillow
    record(
        "ours: Floyd-Steinberg serpentine (1 thread)",
        best_time(lambda: error_diffusion.error_diffusion(gray, serpentine=True), args.repeat),
    )
    record(
        "ours: Jarvis-Judice-Ninke (1 thread)",
        best_time(lambda: error_diffusion.error_diffusion(gray, "jarvis-judice-ninke"), args.repeat),
    )
    record(
        "ours: Floyd-Steinberg RGB, 3 channels (2 threads)",
        best_time(lambda: halftone(rgb, "floyd-steinberg", threads=2), args.repeat) / 3,
        "per channel-Mpx",
    )

    # Ordered dither vs ImageMagick.
    bayer = ordered.bayer_matrix(8)
    buffer = np.empty_like(gray)
    fresh = record(
        "ours: Bayer 8x8 (new output array)",
        best_time(lambda: ordered.ordered_dither(gray, bayer), args.repeat),
    )
    reused = record(
        "ours: Bayer 8x8 (reused output array)",
        best_time(lambda: ordered.ordered_dither(gray, bayer, out=buffer), args.repeat),
    )
    exe = imagemagick()
    im_ratios = None
    if exe:
        end_to_end, io_only = imagemagick_times(exe, gray_u8, args.repeat)
        im_e2e = record("ImageMagick -ordered-dither o8x8 (end to end, raw grey)", end_to_end)
        im_op = record("ImageMagick o8x8, dither only (end to end minus I/O)", max(end_to_end - io_only, 1e-6))
        im_ratios = (fresh / im_e2e, reused / im_e2e, fresh / im_op, reused / im_op)
    else:
        print("ImageMagick not installed: ordered-dither comparison skipped (apt-get install imagemagick)")

    # AM screen, 4 inks, supersampled.
    cmyk = rgb_to_cmyk(rgb)
    am = {}
    for s in (4, 2, 1):
        am[s] = record(
            f"ours: AM CMYK screen, {s}x{s} sub-samples (2 threads)",
            best_time(lambda s=s: am_screen(cmyk, DEFAULT_ANGLES, supersample=s, threads=2), args.repeat),
            "Mpx of output",
        )
    am1 = record(
        "ours: AM CMYK screen, 4x4 sub-samples (1 thread)",
        best_time(lambda: am_screen(cmyk, DEFAULT_ANGLES, supersample=4, threads=1), args.repeat),
    )

    lines = [
        "# Halftoning speed",
        "",
        f"Image {n}x{n} ({mpx:.1f} Mpx), best of {args.repeat}; {platform.processor() or platform.machine()}, "
        f"{len(__import__('os').sched_getaffinity(0))} cores. Produced by `python experiments/bench_halftone.py`.",
        "",
        "| what | Mpx/s | note |",
        "|---|---:|---|",
        *(f"| {name} | {rate:.1f} | {note} |" for name, rate, note in rows),
        "",
        "## Against the targets",
        "",
        f"- Floyd-Steinberg vs Pillow, single thread: **{fs_ratio:.2f}x** (target >= 1.0x)",
    ]
    if im_ratios:
        lines.append(
            f"- Bayer 8x8 vs ImageMagick o8x8 end to end: **{im_ratios[0]:.0f}x** (new output array), "
            f"**{im_ratios[1]:.0f}x** (reused); vs ImageMagick's dither step alone: "
            f"{im_ratios[2]:.0f}x / {im_ratios[3]:.0f}x (target >= 25x)"
        )
    lines += [
        f"- AM CMYK screen, 4x4 sub-samples per pixel and ink (64 samples/pixel): **{am[4]:.1f}** Mpx/s "
        f"on 2 threads ({am1:.1f} on 1); 2x2: {am[2]:.1f}; binary plate: {am[1]:.1f} (target >= 30 Mpx/s)",
        "",
        "One-off JIT compile (first call in a fresh process; later processes load numba's cache):",
        "",
        *(f"- {name}: {seconds:.2f} s" for name, seconds in jit.items()),
        "",
    ]
    write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
