"""The commands: ``methods``, ``halftone``, ``descreen``, ``rescreen``, ``export``, ``detect``; each its flags and a
function that calls the library and prints what it did (progress, notes and totals on stderr)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import fields
from pathlib import Path

from ..batch import SUMMARY_NAME, BatchOptions, ProgressPrinter, descreen_files
from ..batch.convert import halftone_file, rescreen_file
from ..batch.progress import stderr_is_terminal
from ..halftone import describe_methods
from ..inference.options import checkpoint_source
from ..inference.wording import detect_lines
from ..io import read_image, read_info
from .arguments import (
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    add_bit_depth,
    add_descreen_options,
    add_flags,
    add_halftone_options,
    halftone_settings,
    model_options,
    number,
)

#: The end of ``descreen --help``: what the command writes and keeps.
DESCREEN_EPILOG = (Path(__file__).parent / "descreen_help.txt").read_text(encoding="utf-8")


def note(args: argparse.Namespace, text: str) -> None:
    """``text`` on stderr, unless ``--quiet``."""
    if not args.quiet:
        print(text, file=sys.stderr)


def _methods(args: argparse.Namespace) -> int:
    print(describe_methods(as_json=args.json))
    return 0


def _say_method(args: argparse.Namespace, method: str) -> None:
    """No silent default: name the method when neither --method nor a preset did."""
    if not args.method and not args.preset:
        note(args, f"note: halftoned with {method}, the default (no --method; `deep-halftoning methods` lists all)")


def _halftone(args: argparse.Namespace) -> int:
    settings = halftone_settings(args)
    halftone_file(args.input, args.output, settings, bit_depth=args.bit_depth, note=lambda t: note(args, t))
    _say_method(args, settings.method)
    return 0


def _descreen(args: argparse.Namespace) -> int:
    model = model_options(args, "--method")
    to_stdout = args.summary == "-" and not args.no_summary
    with ProgressPrinter(args.quiet) as progress:
        summary = descreen_files(
            args.inputs,
            args.output,
            model=model,
            progress=progress,
            tile_progress=stderr_is_terminal() and not args.quiet,
            raise_errors=args.debug,
            **{f.name: getattr(args, f.name) for f in fields(BatchOptions) if "help" in f.metadata},
            bit_depth=args.bit_depth,
            method=args.descreen,
            summary=False if args.no_summary or to_stdout else (args.summary or True),
        )
    if to_stdout:
        sys.stdout.write(summary.to_json())
    for error in summary.errors:
        print(f"deep-halftoning: error: {error}", file=sys.stderr)
    print(summary.totals_line(), file=sys.stderr)
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_USAGE if summary.counts["failed"] or summary.errors else 0


def _rescreen(args: argparse.Namespace) -> int:
    model = model_options(args, "--descreen")
    settings = halftone_settings(args)
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
    """Every command but ``train``, in the order of the help."""
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
    add_halftone_options(ht)
    ht.set_defaults(run=_halftone)

    _add_descreen(sub)

    rs = sub.add_parser(
        "rescreen",
        help="descreen a scan, then halftone it with another method",
        description="Descreen a scan, then halftone it. Resolution, ICC profile and EXIF are kept.",
    )
    rs.add_argument("input", help="scanned halftone")
    rs.add_argument("output", help="output image")
    add_halftone_options(rs)
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


def _add_descreen(sub: argparse._SubParsersAction) -> None:
    """``descreen``: the batch engine's options and the model's."""
    ds = sub.add_parser(
        "descreen",
        help="descreen scans into clean images",
        description="Descreen scans: files, or folders with -r.",
        epilog=DESCREEN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add = ds.add_argument
    add("inputs", nargs="+", help="scanned halftones, or folders of them with -r")
    add("-o", "--output", required=True, help="output folder")
    add_flags(ds, BatchOptions)
    add("--summary", metavar="FILE", help=f"JSON summary file, - for stdout (default OUT/{SUMMARY_NAME})")
    add("--no-summary", action="store_true", help="write no summary")
    add_bit_depth(ds)
    add_descreen_options(ds, "--method")
    ds.set_defaults(run=_descreen)
