"""Command line: ``deep-halftoning methods | halftone | descreen | rescreen | detect | train``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from .halftone import CATALOGUE, MODES, halftone
from .halftone.presets import load_preset
from .io import ImageReadError, ImageWriteError, read_image, write_image

EXIT_USAGE = 2
HALFTONE_FLAGS = ("serpentine", "lpi", "dpi", "angles", "dot", "supersample", "seed", "size")


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


def _halftone_settings(args: argparse.Namespace) -> tuple[str, str | None, float, dict[str, object]]:
    """Method, mode, UCR and parameters from the flags, on top of an optional preset."""
    preset = load_preset(args.preset) if args.preset else None
    method = args.method or (preset.method if preset else "floyd-steinberg")
    mode = args.mode or (preset.mode if preset else None)
    ucr = args.ucr if args.ucr is not None else (preset.ucr if preset else 1.0)
    params: dict[str, object] = dict(preset.params) if preset and method == preset.method else {}
    params.update(args.param or [])
    params.update({name: getattr(args, name) for name in HALFTONE_FLAGS if getattr(args, name) is not None})
    return method, mode, ucr, params


def _halftone(args: argparse.Namespace) -> int:
    method, mode, ucr, params = _halftone_settings(args)
    result = halftone(read_image(args.input), method, mode=mode, ucr=ucr, **params)
    write_image(args.output, result.image, bit_depth=args.bit_depth, protect=[args.input])
    return 0


def _descreen_function(args: argparse.Namespace):
    """A function image -> descreened image for ``--method`` (model or a classical baseline)."""
    from .inference import Descreener, descreen_baseline, shipped_checkpoint

    if args.descreen == "model":
        if args.checkpoint and args.perceptual:
            raise ValueError("--perceptual picks a shipped descreener; it cannot be combined with --checkpoint")
        checkpoint = args.checkpoint or shipped_checkpoint("perceptual" if args.perceptual else "fidelity")
        descreener = Descreener.from_checkpoint(
            checkpoint, device=args.device, tile=args.tile, overlap=args.overlap, batch=args.batch
        )
        return lambda image: descreener(image, progress=True)
    return lambda image: descreen_baseline(image, args.descreen)


def _descreen(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    descreen = _descreen_function(args)
    out_dir = Path(args.output)
    failed: list[str] = []
    done = 0
    for source in tqdm(args.inputs, desc="files", unit="file", disable=len(args.inputs) < 2):
        try:
            image = read_image(source)
            write_image(out_dir / f"{Path(source).stem}{args.suffix}.png", descreen(image), protect=args.inputs)
            done += 1
        except (ImageReadError, ImageWriteError) as err:
            failed.append(str(err))
    print(f"descreened {done} of {len(args.inputs)} file(s) into {out_dir}/", file=sys.stderr)
    for reason in failed:
        print(f"  skipped: {reason}", file=sys.stderr)
    return EXIT_USAGE if failed else 0


def _rescreen(args: argparse.Namespace) -> int:
    method, mode, ucr, params = _halftone_settings(args)
    clean = _descreen_function(args)(read_image(args.input))
    result = halftone(clean, method, mode=mode, ucr=ucr, **params)
    write_image(args.output, result.image, bit_depth=args.bit_depth, protect=[args.input])
    return 0


def _detect(args: argparse.Namespace) -> int:
    from .inference import analyse

    analysis = analyse(read_image(args.input), dpi=args.dpi)
    if args.json:
        print(json.dumps(analysis.to_dict(), indent=2))
        return 0
    print(f"{args.input}: {analysis.kind}", end="")
    print(f" (high-frequency share {analysis.high_frequency_share:.2f}, peak ratio {analysis.peak_ratio:.0f})")
    for i, screen in enumerate(analysis.screens, 1):
        ruling = f", {screen.lpi:.0f} lpi at {args.dpi:g} dpi" if screen.lpi is not None else ""
        print(
            f"  screen {i}: {screen.frequency:.4f} cycles/px (period {screen.period:.2f} px){ruling}, "
            f"angle {screen.angle:.1f} deg"
        )
    return 0


def _add_halftone_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--method", metavar="NAME", help="halftoning method (see `deep-halftoning methods`)")
    parser.add_argument("--preset", metavar="YAML", help="settings file, e.g. conf/halftone/newspaper.yaml")
    parser.add_argument("--mode", choices=MODES, help="grey, per-channel RGB, or CMYK inks (default: by input)")
    parser.add_argument("--ucr", type=float, help="under-colour removal for CMYK, 0..1 (default 1)")
    parser.add_argument(
        "--serpentine", action=argparse.BooleanOptionalAction, default=None, help="serpentine scan for error diffusion"
    )
    parser.add_argument("--lpi", type=float, help="AM screen ruling, lines per inch")
    parser.add_argument("--dpi", type=float, help="AM output resolution, pixels per inch")
    parser.add_argument("--angles", help="AM screen angles in degrees, C,M,Y,K")
    parser.add_argument("--dot", help="AM dot shape: round, elliptical, square, line")
    parser.add_argument("--supersample", type=int, help="AM sub-samples per pixel side")
    parser.add_argument("--size", type=int, help="matrix size for clustered/diagonal/blue-noise")
    parser.add_argument("--seed", type=int, help="random seed (zhou-fang, blue-noise)")
    parser.add_argument(
        "--param", type=_key_value, action="append", metavar="KEY=VALUE", help="any other method parameter (repeatable)"
    )
    parser.add_argument("--bit-depth", type=int, choices=(8, 16), default=8, help="output bits per sample")


def _add_descreen_options(parser: argparse.ArgumentParser, flag: str) -> None:
    parser.add_argument(
        flag,
        dest="descreen",
        choices=("model", "gaussian", "median", "fft"),
        default="model",
        help="the trained model (default) or a classical baseline",
    )
    parser.add_argument(
        "--checkpoint", help="a details/joint (or coarse) stage checkpoint (default: the shipped descreener)"
    )
    parser.add_argument(
        "--perceptual",
        action="store_true",
        help="use the shipped descreener fine-tuned with the adversarial and edge terms (PSNR within 0.2 dB)",
    )
    parser.add_argument("--tile", type=int, default=512, help="tile size in pixels (multiple of 32)")
    parser.add_argument("--overlap", type=int, default=64, help="tile overlap in pixels")
    parser.add_argument("--batch", type=int, default=4, help="tiles per batch")
    parser.add_argument("--device", help="cuda, mps or cpu (default: the best available)")


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
    _add_halftone_options(ht)
    ht.set_defaults(run=_halftone)

    ds = sub.add_parser("descreen", help="descreen scans into clean images (PNG)")
    ds.add_argument("inputs", nargs="+", help="scanned halftones")
    ds.add_argument("-o", "--output", required=True, help="output folder")
    ds.add_argument("--suffix", default="_descreened", help="added to each output file name")
    _add_descreen_options(ds, "--method")
    ds.set_defaults(run=_descreen)

    rs = sub.add_parser("rescreen", help="descreen a scan, then halftone it with another method")
    rs.add_argument("input", help="scanned halftone")
    rs.add_argument("output", help="output image")
    _add_halftone_options(rs)
    _add_descreen_options(rs, "--descreen")
    rs.set_defaults(run=_rescreen)

    dt = sub.add_parser("detect", help="AM screen, dispersed dither or continuous tone? ruling and angles")
    dt.add_argument("input", help="image to analyse")
    dt.add_argument("--dpi", type=float, help="scan resolution, to report the ruling in lines per inch")
    dt.add_argument("--json", action="store_true", help="machine-readable output")
    dt.set_defaults(run=_detect)
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
