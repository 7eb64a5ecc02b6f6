"""Descreen, halftone and rescreen files, with the command line's guarantees, from Python.

:func:`descreen_files` runs a batch: outputs mirrored and never replacing an input, written atomically,
a failed file recorded while the rest go on, Ctrl-C keeping what finished, a typed :class:`BatchSummary`
(also written as JSON) and an optional HTML report; :class:`ProgressPrinter` shows its progress as the
command line does. :func:`halftone_file` and :func:`rescreen_file` convert one file. Nothing here imports
PyTorch until a model is loaded.
"""

from ..inference.options import ModelOptions
from .convert import HalftoneSettings, halftone_file, rescreen_file
from .engine import BatchOptions, Event, FileDone, Note, Planned, descreen_files
from .plan import DEFAULT_SUFFIX, SUMMARY_NAME, BatchError
from .progress import ProgressPrinter
from .summary import BatchSummary, FileRecord

__all__ = [
    "DEFAULT_SUFFIX",
    "SUMMARY_NAME",
    "BatchError",
    "BatchOptions",
    "BatchSummary",
    "Event",
    "FileDone",
    "FileRecord",
    "HalftoneSettings",
    "ModelOptions",
    "Note",
    "Planned",
    "ProgressPrinter",
    "descreen_files",
    "halftone_file",
    "rescreen_file",
]
