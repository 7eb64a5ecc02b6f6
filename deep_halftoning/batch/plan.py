"""Where each input of a batch goes: mirrored folders, collision-free names, and the checks made before any work.

Outputs go to ``OUT/<the input's folder relative to the inputs' common parent>/<stem><suffix><ext>``; inputs
that would share an output are told apart by their suffix, then by a number; no output, summary or report
may replace an input.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..io import IMAGE_SUFFIXES, TIFF_SUFFIXES, ImageReadError, ImageWriteError, read_info, same_file

SUMMARY_NAME = "descreen-summary.json"
DEFAULT_SUFFIX = "_descreened"


class BatchError(ValueError):
    """Inputs or options a batch cannot start with: one line, before anything is loaded or written."""


@dataclass
class Job:
    """One input, its output, and a note when its output name had to be changed."""

    source: Path
    output: Path
    note: str | None = None


@dataclass
class Plan:
    """What a batch will do: its jobs in order, the folder they mirror (``None``: none in common), notes on
    inputs left out, and the summary and report files (``None``: not written)."""

    jobs: list[Job]
    root: Path | None
    notes: list[str]
    summary: Path | None
    report: Path | None


def absolute(path: Path) -> Path:
    """Absolute and normalised, without following links (the layout the user sees)."""
    return Path(os.path.abspath(path))


def _wanted(file: Path, folder: Path) -> bool:
    """Whether ``file``, found under ``folder``, may be an input: an image by suffix, not hidden."""
    if file.suffix.lower() not in IMAGE_SUFFIXES or any(p.startswith(".") for p in file.relative_to(folder).parts):
        return False
    return file.is_file()


def _earlier_output(file: Path, folder: Path, out_dir: Path, suffix: str, include: bool) -> bool:
    """Whether ``file``, found under ``folder``, is what a descreen wrote: anything in ``-o`` when that lies
    in the folder (always), else unless ``include``: a name ending in ``suffix`` or the default one, a report's
    preview (``<report>_files/``)."""
    from .report import is_preview

    if out_dir in absolute(file).parents and absolute(folder) in out_dir.parents:
        return True
    if include:
        return False
    return any(s and file.stem.endswith(s) for s in (suffix, DEFAULT_SUFFIX)) or is_preview(file)


def _folder_images(path: Path, out_dir: Path, suffix: str, include_outputs: bool) -> tuple[list[Path], str | None]:
    """The images under folder ``path`` (earlier outputs left out unless ``include_outputs``), and a note."""
    images = [f for f in sorted(path.rglob("*")) if _wanted(f, path)]
    found = [f for f in images if not _earlier_output(f, path, absolute(out_dir), suffix, include_outputs)]
    if len(found) < len(images):
        names = ", ".join(dict.fromkeys(f"*{s}.*" for s in (suffix, DEFAULT_SUFFIX) if s))
        return found, (
            f"{path}: skipped {len(images) - len(found)} earlier output(s) ({names}, report previews); "
            "--include-outputs descreens them too"
        )
    return found, None if found else f"{path}: no images ({' '.join(IMAGE_SUFFIXES)}) in this folder"


def gather(
    inputs: Sequence[str | os.PathLike], recursive: bool, out_dir: Path, suffix: str, include_outputs: bool = False
) -> tuple[list[tuple[Path, Path]], list[str]]:
    """``(file, root)`` for every input file in order (a file's root is its folder, a folder is its own root),
    and notes on what was left out (earlier outputs in folders, unless ``include_outputs``)."""
    pairs: list[tuple[Path, Path]] = []
    notes: list[str] = []
    seen: set[str] = set()
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            if not recursive:
                raise BatchError(f"{path}: is a folder; add -r to descreen the images in it")
            files, note = _folder_images(path, out_dir, suffix, include_outputs)
            notes += [note] if note else []
            found = [(f, path) for f in files]
        else:
            found = [(path, path.parent)]
        for file, root in found:
            key = os.path.realpath(file)
            if key in seen:
                notes.append(f"{file}: given twice; descreened once")
                continue
            seen.add(key)
            pairs.append((file, root))
    return pairs, notes


def output_suffix(source: Path, fmt: str) -> str:
    """``fmt``'s suffix; ``auto``: a TIFF's own, a TIFF for other files of several pages or frames
    (an animated GIF, PNG or WebP), else PNG."""
    if fmt != "auto":
        return f".{fmt}"
    if source.suffix.lower() in TIFF_SUFFIXES:
        return source.suffix.lower()
    try:
        several = read_info(source).pages > 1
    except ImageReadError:  # the file's own error comes when it is descreened
        several = False
    return ".tif" if several else ".png"


def place(pairs: list[tuple[Path, Path]], out_dir: Path, suffix: str, fmt: str) -> tuple[list[Job], Path | None]:
    """Each input's output: ``out_dir`` / its folder relative to the inputs' common parent / stem + suffix.

    Two inputs that would still share an output (``x.png`` and ``x.jpg``, or names that differ only
    in case) are told apart by the input's suffix (``x_jpg_descreened.png``), then by a number.
    """
    try:
        root: Path | None = Path(os.path.commonpath([absolute(r) for _, r in pairs]))
    except ValueError:  # different drives: no common parent, so no folders to mirror
        root = None
    jobs: list[Job] = []
    taken: dict[str, Job] = {}
    for source, _ in pairs:
        ext = output_suffix(source, fmt)
        folder = out_dir / (absolute(source).parent.relative_to(root) if root else Path())
        output = folder / f"{source.stem}{suffix}{ext}"
        job = Job(source, output)
        if str(output).casefold() in taken:
            tag = source.suffix.lstrip(".").lower() or "x"
            candidate, number = folder / f"{source.stem}_{tag}{suffix}{ext}", 2
            while str(candidate).casefold() in taken:
                candidate, number = folder / f"{source.stem}_{tag}{suffix}-{number}{ext}", number + 1
            job.output = candidate
            job.note = f"{source}: {output} is {taken[str(output).casefold()].source}'s; writing {candidate} instead"
        taken[str(job.output).casefold()] = job
        jobs.append(job)
    return jobs, root


def input_finder(inputs: list[Path]) -> Callable[[Path], Path | None]:
    """A function telling which input (if any) a path names: the same path, a link to it or a hard link.
    Sets, not pairwise comparisons, so that a batch of thousands plans in linear time."""
    by_path = {os.path.realpath(p): p for p in inputs}
    by_inode = {}
    for p in inputs:
        try:
            stat = p.stat()
            by_inode[(stat.st_dev, stat.st_ino)] = p
        except OSError:
            pass

    def find(path: Path) -> Path | None:
        if os.path.realpath(path) in by_path:
            return by_path[os.path.realpath(path)]
        try:
            stat = path.stat()
        except OSError:
            return None
        return by_inode.get((stat.st_dev, stat.st_ino))

    return find


def check_output_folder(folder: Path) -> None:
    """The output folder, or the nearest folder above it that exists, must be a writable folder."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            if not candidate.is_dir():
                what = "is a file" if candidate == folder else f"cannot be made: {candidate} is a file"
                raise ImageWriteError(f"{folder}: {what}, not an output folder")
            if not os.access(candidate, os.W_OK | os.X_OK):
                raise ImageWriteError(f"{folder}: cannot write there (permission denied in {candidate})")
            return


def _check_files(plan: Plan, is_input: Callable[[Path], Path | None]) -> None:
    """No output, summary or report may replace an input, nor the report an output or the summary."""
    for job in plan.jobs:
        clash = is_input(job.output)
        if clash is not None:
            raise BatchError(
                f"{job.source}: its output {job.output} would overwrite the input {clash}; "
                "choose another -o or --suffix"
            )
    summary, page = plan.summary, plan.report
    if summary is not None and is_input(summary) is not None:
        raise BatchError(f"--summary {summary}: would overwrite an input")
    if page is not None:
        if is_input(page) is not None or any(same_file(page, job.output) for job in plan.jobs):
            raise BatchError(f"--report {page}: would overwrite an input or an output")
        if summary is not None and same_file(page, summary):
            raise BatchError(f"--report {page}: is the summary file; give them different names")
        if page.is_dir():
            raise BatchError(f"--report {page}: is a folder; name an HTML file")


def make_plan(
    inputs: Sequence[str | os.PathLike],
    out_dir: Path,
    *,
    recursive: bool,
    suffix: str,
    include_outputs: bool,
    fmt: str,
    summary: Path | None,
    report: Path | None,
) -> Plan:
    """The plan of a batch, checked: every input exists, every output is new or replaceable, and no file
    written replaces an input (one-line :class:`BatchError` or ``ImageWriteError`` otherwise)."""
    check_output_folder(out_dir)
    missing = [str(text) for text in inputs if not os.path.exists(text)]
    if missing:  # a typo: said at once, before the model loads and before anything is written
        raise BatchError(f"{', '.join(missing)}: no such file or folder")
    pairs, notes = gather(inputs, recursive, out_dir, suffix, include_outputs)
    if not pairs:
        raise BatchError("nothing to descreen: " + "; ".join(notes))
    jobs, root = place(pairs, out_dir, suffix, fmt)
    plan = Plan(jobs, root, notes, summary, report)
    _check_files(plan, input_finder([source for source, _ in pairs]))
    return plan
