"""The ``descreen`` command: the batch engine's options as flags, its progress and totals as lines on stderr."""

from __future__ import annotations

import argparse
import sys
from dataclasses import fields
from pathlib import Path

from ..batch import SUMMARY_NAME, BatchOptions, BatchSummary, Event, FileDone, Note, Planned, descreen_files
from .arguments import EXIT_INTERRUPTED, EXIT_USAGE, add_bit_depth, add_descreen_options, add_flags, model_options
from .images import tty

#: The end of ``descreen --help``: what the command writes and keeps.
DESCREEN_EPILOG = (Path(__file__).parent / "descreen_help.txt").read_text(encoding="utf-8")


class _Printer:
    """The batch's events as lines on stderr: above a progress bar with ETA on a terminal, plain lines
    otherwise. ``--quiet`` keeps warnings and errors only."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Note):
            self.line(f"note: {event.text}", event.important)
        elif isinstance(event, Planned) and not self.quiet and event.total > 1 and tty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=event.total, desc="descreen", unit="file", file=sys.stderr, dynamic_ncols=True)
        elif isinstance(event, FileDone):
            line, important = event.record.line()
            self.line(f"[{event.number}/{event.total}] {line}", important)
            if self.bar is not None:
                self.bar.update()

    def line(self, text: str, important: bool = False) -> None:
        if self.quiet and not important:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


def _totals(summary: BatchSummary) -> int:
    """Say what the batch did and where its summary and report are; the exit status."""
    print(summary.totals_line(), file=sys.stderr)
    if summary.interrupted:
        return EXIT_INTERRUPTED
    return EXIT_USAGE if summary.counts["failed"] or summary.errors else 0


def _descreen(args: argparse.Namespace) -> int:
    model = model_options(args, "--method")
    to_stdout = args.summary == "-" and not args.no_summary
    printer = _Printer(args.quiet)
    try:
        summary = descreen_files(
            args.inputs,
            args.output,
            model=model,
            progress=printer,
            tile_progress=tty() and not args.quiet,
            raise_errors=args.debug,
            **{f.name: getattr(args, f.name) for f in fields(BatchOptions) if "help" in f.metadata},
            bit_depth=args.bit_depth,
            method=args.descreen,
            summary=False if args.no_summary or to_stdout else (args.summary or True),
        )
    finally:
        printer.close()
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
