"""How much of each row's error is tone and colour, not the screen: oracle bounds on the held-out photos.

For every held-out photo and halftone row (those of :mod:`evaluate`), PSNR against the clean photo of

* ``gaussian``: the tuned Gaussian baseline (the best classical filter of every row);
* ``gaussian + colour fit``: that result after the affine colour map (3 x 3 matrix and offset) that fits
  it best to the clean photo, an oracle that knows the answer: what a global tone and colour correction
  alone could add to the Gaussian;
* ``print's tone, clean detail``: the clean photo with its low frequencies replaced by the halftone's
  (``clean + G(halftone) - G(clean)``, ``G`` a Gaussian of ``--sigma`` pixels): a descreener that removed
  the screen perfectly and restored every detail, but kept the print's tone and colour. Its PSNR bounds what
  a tone-preserving descreener can reach on the row;
* ``low-pass error``: PSNR of ``G(halftone)`` against ``G(clean)``, the tone and colour error alone.

    python experiments/tone_ceiling.py --out experiments/results/tone-ceiling.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from deep_halftoning.inference import analyse, descreen_baseline
from deep_halftoning.io import write_text

sys.path.insert(0, str(Path(__file__).resolve().parent))
from evaluate import HALFTONES, _cell, _psnr, evaluation_images, make_halftone, read_photo, summarise  # noqa: E402

COLUMNS = ("gaussian", "gaussian + colour fit", "print's tone, clean detail", "low-pass error")


def colour_fit(image: np.ndarray, target: np.ndarray) -> np.ndarray:
    """``image`` through the affine colour map (least squares over all pixels) closest to ``target``."""
    pixels = image.reshape(-1, 3).astype(np.float64)
    design = np.concatenate([pixels, np.ones((pixels.shape[0], 1))], axis=1)
    matrix, *_ = np.linalg.lstsq(design, target.reshape(-1, 3).astype(np.float64), rcond=None)
    return np.clip(design @ matrix, 0.0, 1.0).reshape(image.shape).astype(np.float32)


def row_scores(clean: np.ndarray, screened: np.ndarray, sigma: float) -> dict[str, float]:
    """The four PSNRs of :data:`COLUMNS` for one photo and its halftone."""
    gaussian = np.clip(descreen_baseline(screened, "gaussian", analyse(screened)), 0.0, 1.0)

    low_screened, low_clean = (cv2.GaussianBlur(x, (0, 0), sigma) for x in (screened, clean))
    tone_kept = np.clip(clean + low_screened - low_clean, 0.0, 1.0)
    values = (gaussian, colour_fit(gaussian, clean), tone_kept)
    return dict(zip(COLUMNS, [*(_psnr(v, clean) for v in values), _psnr(low_screened, low_clean)], strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, help="folder of clean photos (default: the held-out photos)")
    parser.add_argument("--halftones", nargs="+", default=list(HALFTONES), choices=list(HALFTONES))
    parser.add_argument("--sigma", type=float, default=3.0, help="low-pass Gaussian, pixels")
    parser.add_argument("--max-side", type=int, default=768)
    parser.add_argument("--out", type=Path, default=Path("outputs/tone-ceiling.md"))
    args = parser.parse_args(argv)
    images = evaluation_images(args.images)
    values = {(h, c): [] for h in args.halftones for c in COLUMNS}
    for index, path in enumerate(tqdm(images, desc="images", unit="image")):
        clean = read_photo(path, args.max_side)
        for h in args.halftones:
            for column, value in row_scores(clean, make_halftone(clean, h, seed=index), args.sigma).items():
                values[(h, column)].append(value)
    header = f"| halftone ({len(images)} photos) | " + " | ".join(COLUMNS) + " |"
    lines = [header, "|---|" + "---:|" * len(COLUMNS)]
    for h in args.halftones:
        lines.append(f"| {h} | " + " | ".join(_cell(summarise(values[(h, c)]), 2) for c in COLUMNS) + " |")
    table = "\n".join(lines)
    legend = (
        f"PSNR (dB) against the clean photo, mean ± 95 % interval, {len(images)} photos shrunk to {args.max_side} px; "
        f"low-pass: Gaussian of {args.sigma:g} px. Written by `python experiments/tone_ceiling.py`: the columns are "
        "explained in its docstring and in [held-out-study.md](held-out-study.md)."
    )
    write_text(args.out, f"# Tone and colour ceiling of each row\n\n{legend}\n\n{table}\n")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
