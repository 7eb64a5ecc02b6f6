"""How much of each row's error is tone and colour, not the screen: oracle bounds on the held-out photos.

For every held-out photo and halftone row, PSNR against the clean photo of ``gaussian`` (the tuned Gaussian
baseline), ``gaussian + colour fit`` (an oracle affine colour map on top), ``print's tone, clean detail`` (the
clean photo with the halftone's low frequencies: what a tone-preserving descreener can reach) and ``low-pass
error`` (the tone and colour error alone); :mod:`deep_halftoning.evaluation.tone_ceiling` explains each.

    python experiments/tone_ceiling.py --out experiments/results/tone-ceiling.md
"""

from __future__ import annotations

import argparse
from pathlib import Path

from deep_halftoning.evaluation.photos import evaluation_images
from deep_halftoning.evaluation.rows import DEFAULT_ROWS, ROWS
from deep_halftoning.evaluation.tone_ceiling import ceiling_report, ceiling_table, ceiling_values
from deep_halftoning.io import write_text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, help="folder of clean photos (default: the held-out photos)")
    parser.add_argument("--halftones", nargs="+", default=DEFAULT_ROWS, choices=list(ROWS))
    parser.add_argument("--sigma", type=float, default=3.0, help="low-pass Gaussian, pixels")
    parser.add_argument("--max-side", type=int, default=768)
    parser.add_argument("--out", type=Path, default=Path("outputs/tone-ceiling.md"))
    args = parser.parse_args(argv)
    try:
        images = evaluation_images(args.images)
    except FileNotFoundError as err:
        raise SystemExit(str(err)) from None
    values = ceiling_values(images, args.halftones, args.sigma, args.max_side)
    table = ceiling_table(values, args.halftones, len(images))
    write_text(args.out, ceiling_report(table, len(images), args.max_side, args.sigma))
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
