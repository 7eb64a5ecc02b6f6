"""Command line: ``deep-halftoning methods | halftone | descreen | rescreen | export | detect | train``.

Argument parsing and printing only: the work is done by :mod:`deep_halftoning.batch` (and the library
under it). Every error is one line on stderr that names the file and says what is wrong, with exit status
2 (``--debug`` shows the traceback instead). Ctrl-C ends a command cleanly: a batch keeps the files it
finished (exit status 130).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import commands
from .arguments import EXIT_INTERRUPTED, EXIT_USAGE, Parser, UsageError

__all__ = ["EXIT_INTERRUPTED", "EXIT_USAGE", "UsageError", "build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="deep-halftoning", description="Halftone, descreen and rescreen images.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="train a stage: deep-halftoning train experiment=coarse [hydra overrides]")
    commands.add_commands(sub)
    for name, command in sub.choices.items():
        if name != "train":  # Hydra parses train's arguments
            command.add_argument("-q", "--quiet", action="store_true", help="print warnings and errors only")
            command.add_argument("--debug", action="store_true", help="show the traceback of an error")
    return parser


def _message(err: Exception) -> str:
    """The line that reports ``err``: what is wrong, and for an unexpected error its type and how to see more."""
    if isinstance(err, UsageError):
        return str(err) if str(err).startswith("deep-halftoning") else f"deep-halftoning: error: {err}"
    text = str(err).strip()
    line = text.splitlines()[0] if text else type(err).__name__
    if isinstance(err, (ValueError, OSError)):  # bad options and inputs, unreadable or unwritable images
        return f"deep-halftoning: error: {line}"
    return f"deep-halftoning: error: {line} ({type(err).__name__}; rerun with --debug for the traceback)"


def _train(argv: list[str]) -> int:
    """``train``: Hydra parses its own overrides."""
    from ..training.train_command import run

    try:
        return run(argv)
    except KeyboardInterrupt:  # before training started (Lightning handles Ctrl-C during it)
        print("deep-halftoning: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 on bad input, with a one-line message; 130 on Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:
        return _train(argv[1:])
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("deep-halftoning: interrupted; no output was left half-written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as err:  # noqa: BLE001 - one line, not a traceback, for whatever goes wrong
        if "--debug" in argv:
            raise
        print(_message(err), file=sys.stderr)
        return EXIT_USAGE
