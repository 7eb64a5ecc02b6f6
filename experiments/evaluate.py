"""Evaluate descreening: halftone clean photos, descreen them, compare with the originals.

For every clean photo in ``--images`` (default: the held-out set of
:func:`~deep_halftoning.data.sources.holdout_records`, 16 colour photos never
trained on), each halftone row (:data:`deep_halftoning.evaluation.rows.ROWS`)
makes a halftone: Floyd-Steinberg, Jarvis and Bayer-8 (each RGB channel on its
own), the project's AM CMYK screen with scan simulation (the training family)
and a cross-generator AM print-and-scan that no training pair uses
(:mod:`deep_halftoning.evaluation.renderers.xgen_am`: diamond dots, Yule-Nielsen
dot gain, Neugebauer inks). The models (``--checkpoint``/``--model``, by default
the descreeners shipped with the package) and every classical baseline descreen
it. PSNR and SSIM (torchmetrics) are kept per photo; the tables give the mean
over photos with the half-width of its 95 % t-interval, the best classical
baseline of each row and each model's paired gain over it (mean of the
per-photo differences, with its own 95 % interval). Writes ``results.md``,
``results.json`` (every per-photo value), side-by-side comparison grids to
``--out`` and with ``--figure`` one labelled comparison figure.

    python experiments/evaluate.py --checkpoint outputs/details/best.ckpt --out eval/
    python experiments/evaluate.py --images photos/ --figure comparison.png   # the shipped descreeners
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from deep_halftoning.evaluation.harness import evaluate
from deep_halftoning.evaluation.methods import (
    baseline_methods,
    model_methods,
    parse_route,
    routed_methods,
    shipped_models,
)
from deep_halftoning.evaluation.photos import evaluation_images
from deep_halftoning.evaluation.results import write_results
from deep_halftoning.evaluation.rows import DEFAULT_ROWS, ROWS
from deep_halftoning.evaluation.tables import results_table
from deep_halftoning.inference import BASELINES
from deep_halftoning.inference.options import BACKENDS, PRECISIONS, parse_scale


def build_parser() -> argparse.ArgumentParser:
    """The command line of this script."""
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
    parser.add_argument("--halftones", nargs="+", default=DEFAULT_ROWS, choices=list(ROWS))
    parser.add_argument("--out", type=Path, default=Path("outputs/evaluation"))
    parser.add_argument("--figure", type=Path, help="also write a comparison figure of the first image here")
    parser.add_argument("--max-side", type=int, default=768, help="shrink larger photos to this size first")
    parser.add_argument("--tile", type=int, default=256)
    parser.add_argument("--device", default=None)
    parser.add_argument("--backend", default="auto", choices=BACKENDS, help="where the models run")
    parser.add_argument("--precision", default="auto", choices=PRECISIONS, help="the models' arithmetic")
    parser.add_argument(
        "--scale", default="auto", type=parse_scale, help="the models' screen scale: auto, off or a factor"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        images = evaluation_images(args.images)
        routes = dict(map(parse_route, args.routed))
    except (FileNotFoundError, ValueError) as err:
        raise SystemExit(str(err)) from None
    models = dict(item.split("=", 1) for item in args.model)
    if args.checkpoint:
        models["model"] = args.checkpoint
    models = {name: Path(path) for name, path in models.items()}
    models = models or ({} if args.no_shipped or routes else shipped_models())
    if not models and not routes:
        print("no model given and none shipped: evaluating the baselines only", file=sys.stderr)
    runtime = {"backend": args.backend, "precision": args.precision, "scale": args.scale}
    methods = model_methods(models, args.device, args.tile, **runtime)
    methods |= routed_methods(routes, args.device, args.tile, **runtime)
    methods |= baseline_methods(args.baselines)
    seconds: dict[str, float] = {}
    start = time.perf_counter()
    scores = evaluate(images, methods, args.halftones, args.out, args.max_side, args.figure, seconds)
    seconds["total"] = time.perf_counter() - start
    columns = ["halftone", *methods]
    write_results(args.out, scores, images, args.halftones, columns, args.max_side, seconds)
    print(results_table(scores, args.halftones, columns))
    order = sorted((k for k in seconds if k != "total"), key=lambda k: (not k.startswith("make "), k))
    per_photo = ", ".join(f"{k} {seconds[k] / len(images):.2f}" for k in order)
    print(f"seconds per photo: {per_photo}; total {seconds['total']:.1f} s")
    print(f"wrote {args.out}/results.md, results.json and comparison grids")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
