"""The command line's progress display, for any caller of :func:`~deep_halftoning.batch.descreen_files`."""

from __future__ import annotations

import sys

from .engine import Event, FileDone, Note, Planned


def stderr_is_terminal() -> bool:
    """Whether standard error is a terminal (where progress bars are drawn)."""
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


class ProgressPrinter:
    """A batch's events (its ``progress``) as lines on stderr: above a progress bar with ETA on a terminal,
    plain lines otherwise. ``quiet`` keeps warnings and errors only. As a context manager it closes the bar.

    >>> with ProgressPrinter() as progress:
    ...     summary = descreen_files(["scans"], "clean", recursive=True, progress=progress)
    """

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self.bar = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, Note):
            self.line(f"note: {event.text}", event.important)
        elif isinstance(event, Planned) and not self.quiet and event.total > 1 and stderr_is_terminal():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=event.total, desc="descreen", unit="file", file=sys.stderr, dynamic_ncols=True)
        elif isinstance(event, FileDone):
            line, important = event.record.line()
            self.line(f"[{event.number}/{event.total}] {line}", important)
            if self.bar is not None:
                self.bar.update()

    def line(self, text: str, important: bool = False) -> None:
        """Print ``text`` (unless ``quiet`` and not ``important``), above the bar when there is one."""
        if self.quiet and not important:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def close(self) -> None:
        """Take the bar down (the lines stay)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> ProgressPrinter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
