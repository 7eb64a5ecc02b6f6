"""The commands on one image: ``methods``, ``halftone``, ``rescreen``, ``detect``, ``export``."""

from __future__ import annotations

import argparse
import json
import sys

from ..batch.convert import DEFAULT_METHOD, HalftoneSettings, halftone_file, rescreen_file
from ..batch.progress import stderr_is_terminal
from ..halftone import describe_methods
from ..inference.options import checkpoint_source
from ..inference.wording import detect_lines
from ..io import read_image, read_info
from .arguments import HALFTONE_FLAGS, add_descreen_options, add_halftone_options, model_options, number


def note(args: argparse.Namespace, text: str) -> None:
    """``text`` on stderr, unless ``--quiet``."""
    if not args.quiet:
        print(text, file=sys.stderr)


def _methods(args: argparse.Namespace) -> int:
    print(describe_methods(as_json=args.json))
    return 0


def _settings(args: argparse.Namespace) -> HalftoneSettings:
    """The halftoning settings of the flags, on top of an optional preset; checked before any image is read."""
    params = dict(args.param or [])
    params.update({name: getattr(args, name) for name in HALFTONE_FLAGS if getattr(args, name) is not None})
    return HalftoneSettings.of(args.preset, args.method, args.mode, args.ucr, params)


def _say_method(args: argparse.Namespace, method: str) -> None:
    """No silent default: name the method when neither --method nor a preset did."""
    if not args.method and not args.preset:
        note(args, f"note: halftoned with {method}, the default (no --method; `deep-halftoning methods` lists all)")


def _halftone(args: argparse.Namespace) -> int:
    settings = _settings(args)
    halftone_file(args.input, args.output, settings, bit_depth=args.bit_depth, note=lambda t: note(args, t))
    _say_method(args, settings.method)
    return 0


def _rescreen(args: argparse.Namespace) -> int:
    model = model_options(args, "--descreen")
    settings = _settings(args)
    rescreen_file(
        args.input,
        args.output,
        settings,
        method=args.descreen,
        model=model,
        bit_depth=args.bit_depth,
        tile_progress=stderr_is_terminal() and not args.quiet,
        note=lambda text: note(args, text),
    )
    _say_method(args, settings.method)
    return 0


def _detect(args: argparse.Namespace) -> int:
    info = read_info(args.input)  # an unreadable file is reported before OpenCV loads
    from ..inference.detect import analyse

    analysis = analyse(read_image(args.input), dpi=args.dpi or (info.dpi[0] if info.dpi else None))
    found = {**analysis.to_dict(), "dpi_hint": analysis.resolution_hint()}
    print(json.dumps(found, indent=2) if args.json else "\n".join(detect_lines(args.input, found)))
    return 0


def _export(args: argparse.Namespace) -> int:
    checkpoint_source(args.checkpoint)  # a missing checkpoint is reported before PyTorch loads
    from ..inference.export import export_checkpoint

    exported = export_checkpoint(args.checkpoint, args.output, args.name, overwrite=args.overwrite)
    for path in exported.files:
        print(path)
    note(args, exported.interface())
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """``methods``, ``halftone``, ``rescreen``, ``export`` and ``detect`` (``descreen`` comes between them)."""
    methods = sub.add_parser("methods", help="list the halftoning methods and their parameters")
    methods.add_argument("--json", action="store_true", help="machine-readable output")
    methods.set_defaults(run=_methods)

    ht = sub.add_parser(
        "halftone",
        help="halftone one image and write it (PNG, TIFF, ...)",
        description="Halftone an image. Resolution, ICC profile (when it fits) and EXIF are kept; every page of "
        "a multi-page TIFF (every frame of an animated GIF, PNG or WebP) is halftoned into a multi-page TIFF "
        "output.",
    )
    ht.add_argument("input", help="input image (any common format, grey/RGB/RGBA/palette/16-bit/CMYK)")
    ht.add_argument("output", help="output image; its suffix picks the format")
    add_halftone_options(ht, DEFAULT_METHOD)
    ht.set_defaults(run=_halftone)


def add_more_commands(sub: argparse._SubParsersAction) -> None:
    """``rescreen``, ``export`` and ``detect``, after ``descreen`` in the help."""
    rs = sub.add_parser(
        "rescreen",
        help="descreen a scan, then halftone it with another method",
        description="Descreen a scan, then halftone it. Resolution, ICC profile and EXIF are kept.",
    )
    rs.add_argument("input", help="scanned halftone")
    rs.add_argument("output", help="output image")
    add_halftone_options(rs, DEFAULT_METHOD)
    add_descreen_options(rs, "--descreen")
    rs.set_defaults(run=_rescreen)

    ex = sub.add_parser(
        "export",
        help="write a checkpoint's descreener as ONNX and OpenVINO IR, to serve it elsewhere",
        description="Export the descreening pipeline of a stage or packed checkpoint, or of a shipped descreener, "
        "as OUTPUT/NAME.onnx and OpenVINO's OUTPUT/NAME.xml + NAME.bin.",
    )
    ex.add_argument("checkpoint", help="a stage checkpoint, a packed one, or fidelity/perceptual for a shipped one")
    ex.add_argument("output", help="output folder")
    ex.add_argument("--name", help="file name stem (default: the checkpoint's)")
    ex.add_argument("--overwrite", action="store_true", help="replace files of the same name")
    ex.set_defaults(run=_export)

    dt = sub.add_parser("detect", help="AM screen, dispersed dither or continuous tone? ruling and angles")
    dt.add_argument("input", help="image to analyse")
    dt.add_argument(
        "--dpi", type=number(float, low=0), help="scan resolution, for the ruling in lpi (default: the file's own)"
    )
    dt.add_argument("--json", action="store_true", help="machine-readable output")
    dt.set_defaults(run=_detect)
