"""Command line: ``deep-halftoning methods`` and ``deep-halftoning halftone IN OUT``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .halftone import CATALOGUE, MODES, halftone
from .halftone.presets import load_preset
from .io import ImageReadError, ImageWriteError, read_image, write_image

EXIT_USAGE = 2


def _methods(args: argparse.Namespace) -> int:
    if args.json:
        rows = [
            {
                "name": m.name,
                "family": m.family,
                "description": m.description,
                "binary": m.binary,
                "params": {p.name: {"default": p.default, "help": p.help} for p in m.params},
            }
            for m in CATALOGUE.values()
        ]
        print(json.dumps(rows, indent=2))
        return 0
    for m in CATALOGUE.values():
        params = ", ".join(f"{p.name}={_show(p.default)}" for p in m.params)
        print(f"{m.name:22} {m.family:16} {m.description}" + (f"  [{params}]" if params else ""))
    return 0


def _show(value: object) -> str:
    return ",".join(f"{v:g}" for v in value) if isinstance(value, tuple) else str(value)


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def _halftone(args: argparse.Namespace) -> int:
    preset = load_preset(args.preset) if args.preset else None
    method = args.method or (preset.method if preset else "floyd-steinberg")
    mode = args.mode or (preset.mode if preset else None)
    ucr = args.ucr if args.ucr is not None else (preset.ucr if preset else 1.0)
    params: dict[str, object] = dict(preset.params) if preset and method == preset.method else {}
    params.update(args.param or [])
    for name in ("serpentine", "lpi", "dpi", "angles", "dot", "supersample", "seed", "size"):
        value = getattr(args, name)
        if value is not None:
            params[name] = value
    image = read_image(args.input)
    result = halftone(image, method, mode=mode, ucr=ucr, **params)
    write_image(args.output, result.image, bit_depth=args.bit_depth, protect=[args.input])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="deep-halftoning", description="Halftone, descreen and rescreen images.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="train a stage: deep-halftoning train experiment=coarse [hydra overrides]")

    methods = sub.add_parser("methods", help="list the halftoning methods and their parameters")
    methods.add_argument("--json", action="store_true", help="machine-readable output")
    methods.set_defaults(run=_methods)

    ht = sub.add_parser("halftone", help="halftone one image and write it (PNG, TIFF, ...)")
    ht.add_argument("input", help="input image (any common format, grey/RGB/RGBA/palette/16-bit/CMYK)")
    ht.add_argument("output", help="output image; its suffix picks the format")
    ht.add_argument(
        "--method",
        metavar="NAME",
        help="halftoning method (see `deep-halftoning methods`; default floyd-steinberg)",
    )
    ht.add_argument("--preset", metavar="YAML", help="settings file, e.g. conf/halftone/newspaper.yaml")
    ht.add_argument("--mode", choices=MODES, help="grey, per-channel RGB, or CMYK inks (default: by input)")
    ht.add_argument("--ucr", type=float, help="under-colour removal for CMYK, 0..1 (default 1)")
    ht.add_argument(
        "--serpentine",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serpentine scan for error diffusion",
    )
    ht.add_argument("--lpi", type=float, help="AM screen ruling, lines per inch")
    ht.add_argument("--dpi", type=float, help="AM output resolution, pixels per inch")
    ht.add_argument("--angles", help="AM screen angles in degrees, C,M,Y,K")
    ht.add_argument("--dot", help="AM dot shape: round, elliptical, square, line")
    ht.add_argument("--supersample", type=int, help="AM sub-samples per pixel side")
    ht.add_argument("--size", type=int, help="matrix size for clustered/diagonal/blue-noise")
    ht.add_argument("--seed", type=int, help="random seed (zhou-fang, blue-noise)")
    ht.add_argument(
        "--param",
        type=_key_value,
        action="append",
        metavar="KEY=VALUE",
        help="any other method parameter (repeatable)",
    )
    ht.add_argument("--bit-depth", type=int, choices=(8, 16), default=8, help="output bits per sample")
    ht.set_defaults(run=_halftone)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 on bad input, with a one-line message)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:  # Hydra parses its own overrides
        from .train import run

        run(argv[1:])
        return 0
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except (ImageReadError, ImageWriteError, ValueError, OSError) as err:
        print(f"deep-halftoning: error: {err}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
