"""The ``descreen`` command: the batch engine's options as flags, its totals and errors as lines on stderr."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from ..batch import SUMMARY_NAME, BatchOptions, BatchSummary, ProgressPrinter, descreen_files
from ..batch.progress import stderr_is_terminal
from .arguments import EXIT_INTERRUPTED, EXIT_USAGE, add_bit_depth, add_descreen_options, add_flags, model_options

#: The end of ``descreen --help``: what the command writes and keeps.
DESCREEN_EPILOG = (Path(__file__).parent / "descreen_help.txt").read_text(encoding="utf-8")


def _totals(summary: BatchSummary) -> int:
    """Say what the batch did and where its summary and report are; the exit status."""
    print(summary.totals_line(), file=sys.stderr)
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_USAGE if summary.counts["failed"] or summary.errors else 0


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
    return _totals(summary)


def add_command(sub: argparse._SubParsersAction) -> None:
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
