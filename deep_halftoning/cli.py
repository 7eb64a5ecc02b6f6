"""Command line: ``deep-halftoning methods | halftone | descreen | rescreen | detect | train``.

Every error is one line on stderr that names the file and says what is wrong,
with exit status 2 (``--debug`` shows the traceback instead). Ctrl-C ends a
command cleanly: a batch keeps the files it finished (exit status 130).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import numpy as np

from .halftone import CATALOGUE, MODES, get_method, halftone
from .halftone.presets import get_preset, preset_names
from .inference.options import BACKENDS, PRECISIONS
from .io import (
    TIFF_SUFFIXES,
    ImageInfo,
    ImageReadError,
    ImageWriteError,
    read_image,
    read_info,
    read_pages,
    same_file,
    write_pages,
    write_text,
)

if TYPE_CHECKING:
    from .inference import ScreenAnalysis

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
HALFTONE_FLAGS = ("serpentine", "lpi", "dpi", "angles", "dot", "supersample", "seed", "size")
DEFAULT_METHOD = "floyd-steinberg"
#: The model's tiling when the flags leave it open.
MODEL_DEFAULTS = {"tile": 512, "overlap": 64, "batch": 4}
TILE_RANGE = (32, 8192)
SUMMARY_NAME = "descreen-summary.json"
DEFAULT_SUFFIX = "_descreened"
SIXTEEN_BIT_SUFFIXES = (".png", *TIFF_SUFFIXES)
#: What goes wrong with one file of a batch without stopping the rest.
FILE_ERRORS = (ImageReadError, ImageWriteError, ValueError, OSError, RuntimeError, MemoryError)


class UsageError(Exception):
    """Bad or contradictory options: one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block), raised for :func:`main` to report."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


# ----------------------------------------------------------------------------- option types


def _number(kind: type, low: float | None = None, high: float | None = None, multiple: int | None = None):
    """An argparse type: ``kind`` (int or float), finite, ``low < value`` (``low <= value`` for ints),
    ``value <= high``, a multiple of ``multiple``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if low is not None and (value < low if kind is int else value <= low):
            wanted = f"at least {low}" if kind is int else ("positive" if low == 0 else f"above {low:g}")
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:g}, got {text}")
        if multiple and value % multiple:
            raise argparse.ArgumentTypeError(f"must be a multiple of {multiple}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _unit_interval(text: str) -> float:
    value = _number(float)(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


# ----------------------------------------------------------------------------- small commands


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


def _note(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def _halftone_settings(args: argparse.Namespace) -> tuple[str, str | None, float, dict[str, object]]:
    """Method, mode, UCR and parameters from the flags, on top of an optional preset; checked before any
    image is read."""
    preset = get_preset(args.preset) if args.preset else None
    method = args.method or (preset.method if preset else DEFAULT_METHOD)
    mode = args.mode or (preset.mode if preset else None)
    ucr = args.ucr if args.ucr is not None else (preset.ucr if preset else 1.0)
    params: dict[str, object] = dict(preset.params) if preset and method == preset.method else {}
    params.update(args.param or [])
    params.update({name: getattr(args, name) for name in HALFTONE_FLAGS if getattr(args, name) is not None})
    get_method(method).resolve(params)  # unknown method or parameter: one line before any work
    return method, mode, ucr, params


def _say_method(args: argparse.Namespace, method: str) -> None:
    """No silent default: name the method when neither --method nor a preset did."""
    if not args.method and not args.preset:
        _note(args, f"note: halftoned with {method}, the default (no --method; `deep-halftoning methods` lists all)")


def _output_bits(args: argparse.Namespace, info: ImageInfo, output: Path) -> int:
    """``--bit-depth``, or the input's own depth where the output format holds it."""
    if args.bit_depth:
        return args.bit_depth
    if info.bit_depth == 16 and output.suffix.lower() not in SIXTEEN_BIT_SUFFIXES:
        _note(args, f"note: {output}: 8 bits per sample ({output.suffix} holds no more); the input has 16")
        return 8
    return info.bit_depth


def _rendered_dpi(method: str, params: dict[str, object]) -> float | None:
    """The resolution an AM screen is rendered at (its output says so, for its ruling to read right)."""
    dpi = get_method(method).resolve(params).get("dpi")
    return float(dpi) if dpi is not None else None


def _convert(
    args: argparse.Namespace,
    make_transform: Callable[[], Callable[[np.ndarray], np.ndarray]],
    dpi: float | None = None,
) -> int:
    """Transform every page of ``args.input`` into ``args.output``, keeping its metadata and depth (its
    resolution becomes ``dpi`` when given). ``make_transform()`` (which may load a model) runs once the
    input and output have been checked."""
    source, output = Path(args.input), Path(args.output)
    if same_file(output, source):
        raise ImageWriteError(f"{output}: refusing to overwrite an input file")
    info = read_info(source)
    if dpi is not None:
        info = replace(info, dpi=(dpi, dpi))
    if info.pages > 1 and output.suffix.lower() not in TIFF_SUFFIXES:
        raise ImageWriteError(
            f"{source}: {info.pages} {info.page_noun}; write a TIFF (.tif) to keep them all, not {output.suffix}"
        )
    bits = _output_bits(args, info, output)
    transform = make_transform()
    pages = [transform(page) for page in read_pages(source)]
    write_pages(output, pages, bit_depth=bits, protect=[source], info=info)
    return 0


def _halftone(args: argparse.Namespace) -> int:
    method, mode, ucr, params = _halftone_settings(args)
    _convert(
        args,
        lambda: lambda page: halftone(page, method, mode=mode, ucr=ucr, **params).image,
        _rendered_dpi(method, params),
    )
    _say_method(args, method)
    return 0


def _rescreen(args: argparse.Namespace) -> int:
    _check_model_options(args, "--descreen")
    method, mode, ucr, params = _halftone_settings(args)

    def rescreen() -> Callable[[np.ndarray], np.ndarray]:
        clean, _ = _descreen_function(args)
        return lambda page: halftone(clean(page, None), method, mode=mode, ucr=ucr, **params).image

    _convert(args, rescreen, _rendered_dpi(method, params))
    _say_method(args, method)
    return 0


def _detect(args: argparse.Namespace) -> int:
    info = read_info(args.input)
    from .inference.detect import analyse, dpi_hint

    dpi = args.dpi or (info.dpi[0] if info.dpi else None)
    analysis = analyse(read_image(args.input), dpi=dpi)
    lead = analysis.screens[0] if analysis.screens else None
    hint = dpi_hint(lead.lpi, dpi) if lead is not None and lead.lpi is not None and dpi else None
    if args.json:
        print(json.dumps({**analysis.to_dict(), "dpi_hint": hint}, indent=2))
        return 0
    print(f"{args.input}: {analysis.kind}", end="")
    print(f" (high-frequency share {analysis.high_frequency_share:.2f}, peak ratio {analysis.peak_ratio:.0f})")
    for i, screen in enumerate(analysis.screens, 1):
        ruling = f", {screen.lpi:.0f} lpi at {dpi:g} dpi" if screen.lpi is not None else ""
        print(
            f"  screen {i}: {screen.frequency:.4f} cycles/px (period {screen.period:.2f} px){ruling}, "
            f"angle {screen.angle:.1f} deg, strength {screen.strength:.2f}"
        )
    if lead is not None and dpi is None:
        print("  hint: the file gives no resolution; --dpi DPI turns the periods into rulings (lpi)")
    elif hint:
        print(f"  hint: {hint}")
    return 0


# ----------------------------------------------------------------------------- descreening


def _check_model_options(args: argparse.Namespace, flag: str) -> None:
    """Refuse model options with a classical method, and tilings that cannot work."""
    model_only = {
        "--checkpoint": args.checkpoint is not None,
        "--perceptual": args.perceptual,
        "--tile": args.tile is not None,
        "--overlap": args.overlap is not None,
        "--batch": args.batch is not None,
        "--device": args.device is not None,
        "--backend": args.backend != "auto",
        "--precision": args.precision != "auto",
    }
    given = [name for name, used in model_only.items() if used]
    if args.descreen != "model" and given:
        raise UsageError(
            f"{given[0]} is for the model; it cannot be combined with {flag} {args.descreen} (a classical filter)"
        )
    if args.checkpoint and args.perceptual:
        raise UsageError("--perceptual picks a shipped descreener; it cannot be combined with --checkpoint")
    if args.checkpoint and not Path(args.checkpoint).is_file():  # said before PyTorch loads
        raise UsageError(f"--checkpoint {args.checkpoint}: the checkpoint does not exist")
    tile = args.tile or MODEL_DEFAULTS["tile"]
    overlap = MODEL_DEFAULTS["overlap"] if args.overlap is None else args.overlap
    if overlap >= tile:
        raise UsageError(f"--overlap {overlap} must be smaller than the tile ({tile} px)")


def _device(name: str | None) -> str | None:
    """``--device`` checked against this machine."""
    if name in (None, "", "auto"):
        return None
    import torch

    try:
        device = torch.device(name)
    except RuntimeError:
        raise UsageError(f"--device {name}: not a device; use cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and (not torch.cuda.is_available() or (device.index or 0) >= torch.cuda.device_count()):
        raise UsageError(f"--device {name}: no such CUDA GPU on this machine")
    if device.type == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise UsageError(f"--device {name}: Apple MPS is not available on this machine")
    return name


def _tty() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def _descreen_function(args: argparse.Namespace) -> tuple[Callable, dict[str, object]]:
    """A function ``(image, analysis or None) -> descreened image`` for the chosen method, and what it is."""
    if args.descreen == "model":
        from .inference import Descreener, shipped_checkpoint

        variant = None if args.checkpoint else ("perceptual" if args.perceptual else "fidelity")
        checkpoint = args.checkpoint or shipped_checkpoint(variant)
        with warnings.catch_warnings(record=True) as fallbacks:
            warnings.simplefilter("always", RuntimeWarning)
            descreener = Descreener.from_checkpoint(
                checkpoint,
                device=_device(args.device),
                tile=args.tile or MODEL_DEFAULTS["tile"],
                overlap=MODEL_DEFAULTS["overlap"] if args.overlap is None else args.overlap,
                batch=args.batch or MODEL_DEFAULTS["batch"],
                backend=args.backend,
                precision=args.precision,
            )
        for fallback in fallbacks:
            _note(args, f"note: {fallback.message}")
        tiles_bar = _tty() and not args.quiet
        model = {
            "method": "model",
            "checkpoint": str(checkpoint),
            "variant": variant,
            "backend": descreener.backend,
            "precision": descreener.precision,
        }
        return lambda image, analysis=None: descreener(image, progress=tiles_bar), model
    from .inference import descreen_baseline

    return lambda image, analysis=None: descreen_baseline(image, args.descreen, analysis), {"method": args.descreen}


def _export(args: argparse.Namespace) -> int:
    shipped = args.checkpoint in ("fidelity", "perceptual") and not Path(args.checkpoint).exists()
    if not shipped and not Path(args.checkpoint).is_file():
        raise UsageError(f"checkpoint {args.checkpoint} does not exist")
    from .inference import load_pipeline, shipped_checkpoint
    from .inference.export import export_pipeline, side_multiple

    checkpoint = shipped_checkpoint(args.checkpoint) if shipped else Path(args.checkpoint)
    pipeline = load_pipeline(checkpoint)
    for path in export_pipeline(pipeline, args.output, args.name or checkpoint.stem, overwrite=args.overwrite):
        print(path)
    multiple = side_multiple(pipeline)
    _note(
        args,
        f"input 'halftone': N x 3 x H x W float32 RGB in [0, 1], H and W multiples of {multiple}; "
        "output 'output': the descreened tiles, same shape (the .xml/.bin pair is OpenVINO's format)",
    )
    return 0


def _abs(path: Path) -> Path:
    """Absolute and normalised, without following links (the layout the user sees)."""
    return Path(os.path.abspath(path))


@dataclass
class _Job:
    source: Path
    output: Path
    note: str | None = None
    record: dict = field(default_factory=dict)


def _wanted(file: Path, folder: Path) -> bool:
    """Whether ``file``, found under ``folder``, may be an input: an image by suffix, not hidden."""
    from .io import IMAGE_SUFFIXES

    if file.suffix.lower() not in IMAGE_SUFFIXES or any(p.startswith(".") for p in file.relative_to(folder).parts):
        return False
    return file.is_file()


def _earlier_output(file: Path, folder: Path, out_dir: Path, suffix: str, include: bool) -> bool:
    """Whether ``file``, found under ``folder``, is what a descreen wrote: anything in ``-o`` when that lies
    in the folder (always), else unless ``include``: a name ending in ``suffix`` or the default one, a report's
    preview (``<report>_files/``)."""
    from .report import is_preview

    if out_dir in _abs(file).parents and _abs(folder) in out_dir.parents:
        return True
    if include:
        return False
    return any(s and file.stem.endswith(s) for s in (suffix, DEFAULT_SUFFIX)) or is_preview(file)


def _gather(
    inputs: Sequence[str], recursive: bool, out_dir: Path, suffix: str, include_outputs: bool = False
) -> tuple[list, list[str]]:
    """``(file, root)`` for every input file in order (a file's root is its folder, a folder is its own root),
    and notes on what was left out (earlier outputs in folders, unless ``include_outputs``)."""
    from .io import IMAGE_SUFFIXES

    pairs: list[tuple[Path, Path]] = []
    notes: list[str] = []
    seen: set[str] = set()
    for text in inputs:
        path = Path(text)
        if path.is_dir():
            if not recursive:
                raise UsageError(f"{path}: is a folder; add -r to descreen the images in it")
            images = [f for f in sorted(path.rglob("*")) if _wanted(f, path)]
            found = [(f, path) for f in images if not _earlier_output(f, path, _abs(out_dir), suffix, include_outputs)]
            if len(found) < len(images):
                names = ", ".join(dict.fromkeys(f"*{s}.*" for s in (suffix, DEFAULT_SUFFIX) if s))
                notes.append(
                    f"{path}: skipped {len(images) - len(found)} earlier output(s) ({names}, report previews); "
                    "--include-outputs descreens them too"
                )
            elif not found:
                notes.append(f"{path}: no images ({' '.join(IMAGE_SUFFIXES)}) in this folder")
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


def _output_suffix(source: Path, fmt: str) -> str:
    """``--format``'s suffix; ``auto``: a TIFF's own, a TIFF for other files of several pages or frames
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


def _plan(pairs: list[tuple[Path, Path]], out_dir: Path, suffix: str, fmt: str) -> tuple[list[_Job], Path | None]:
    """Each input's output: ``out_dir`` / its folder relative to the inputs' common parent / stem + suffix.

    Two inputs that would still share an output (``x.png`` and ``x.jpg``, or names that differ only
    in case) are told apart by the input's suffix (``x_jpg_descreened.png``), then by a number.
    """
    try:
        root: Path | None = Path(os.path.commonpath([_abs(r) for _, r in pairs]))
    except ValueError:  # different drives: no common parent, so no folders to mirror
        root = None
    jobs: list[_Job] = []
    taken: dict[str, _Job] = {}
    for source, _ in pairs:
        ext = _output_suffix(source, fmt)
        folder = out_dir / (_abs(source).parent.relative_to(root) if root else Path())
        output = folder / f"{source.stem}{suffix}{ext}"
        job = _Job(source, output)
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


def _input_finder(inputs: list[Path]) -> Callable[[Path], Path | None]:
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


def _check_output_folder(folder: Path) -> None:
    """The output folder, or the nearest folder above it that exists, must be a writable folder."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            if not candidate.is_dir():
                what = "is a file" if candidate == folder else f"cannot be made: {candidate} is a file"
                raise ImageWriteError(f"{folder}: {what}, not an output folder")
            if not os.access(candidate, os.W_OK | os.X_OK):
                raise ImageWriteError(f"{folder}: cannot write there (permission denied in {candidate})")
            return


def _describe(analysis) -> str:
    """What :func:`~deep_halftoning.inference.analyse` found, in words."""
    if analysis.kind == "am":
        screens = ", ".join(
            (f"{s.lpi:.0f} lpi" if s.lpi is not None else f"period {s.period:.1f} px") + f" at {s.angle:.0f} deg"
            for s in analysis.screens
        )
        return f"AM screen ({screens}" + (f"; {analysis.dpi:g} dpi)" if analysis.dpi else ")")
    if analysis.kind == "dispersed":
        return "dispersed dots (error diffusion or dither)"
    return "continuous tone (no halftone pattern found)"


class _Progress:
    """Per-file lines on stderr: above a progress bar with ETA on a terminal, plain lines otherwise.
    ``--quiet`` keeps warnings and errors only."""

    def __init__(self, total: int, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None
        if not quiet and total > 1 and _tty():
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, desc="descreen", unit="file", file=sys.stderr, dynamic_ncols=True)

    def line(self, text: str, important: bool = False) -> None:
        if self.quiet and not important:
            return
        if self.bar is not None:
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)

    def step(self) -> None:
        if self.bar is not None:
            self.bar.update()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


@dataclass(frozen=True)
class _PresetScreen:
    """The screen of ``descreen --preset``: how the scans were printed, standing in where the analysis
    finds no screen (or with ``--no-auto``)."""

    name: str
    lpi: float
    dpi: float
    angles: tuple[float, ...]

    @classmethod
    def of(cls, spec: str) -> _PresetScreen:
        """The screen of preset ``spec`` (a name or a YAML path); one line naming the AM presets for others."""
        preset = get_preset(spec)
        if preset.screen is None:
            screened = ", ".join(name for name in preset_names() if get_preset(name).screen is not None)
            raise UsageError(
                f"--preset {spec}: {preset.method} has no screen ruling; descreen takes an AM preset ({screened}) "
                "or an AM preset's YAML"
            )
        return cls(preset.name, *preset.screen)

    def analysis(self, measured: ScreenAnalysis | None, dpi: float) -> ScreenAnalysis:
        """A :class:`ScreenAnalysis` of this screen at ``dpi`` (the measured one's spectral figures kept)."""
        from .inference import Screen, ScreenAnalysis

        period = dpi / self.lpi
        angles = dict.fromkeys(round(a % 90, 6) for a in self.angles)  # 0 and 90: one square lattice
        screens = [Screen(1 / period, period, angle, 1.0, self.lpi) for angle in angles]
        share, peak = (measured.high_frequency_share, measured.peak_ratio) if measured else (math.nan, math.nan)
        return ScreenAnalysis("am", share, peak, screens, dpi)

    def record(self, dpi: float, pages: list[int]) -> dict:
        """What the summary keeps of this screen: the preset, its ruling at ``dpi``, the pages it stood in for."""
        return {"preset": self.name, "lpi": self.lpi, "dpi": dpi, "period": round(dpi / self.lpi, 4), "pages": pages}

    def describe(self, dpi: float) -> str:
        """The words added to what a page's analysis found."""
        return f"descreened as the {self.name} preset's screen ({self.lpi:g} lpi, period {dpi / self.lpi:.1f} px)"


def _descreen_file(
    job: _Job, args: argparse.Namespace, descreen: Callable, expected: _PresetScreen | None = None
) -> dict:
    """Analyse and descreen (or keep) every page of one input; write them; the file's summary record.
    With ``expected`` (``--preset``), pages without a screen found are descreened as its screen."""
    from .inference import analyse

    info = read_info(job.source)
    if info.pages > 1 and job.output.suffix.lower() not in TIFF_SUFFIXES:
        raise ImageWriteError(
            f"{job.source}: {info.pages} {info.page_noun}; use --format tif (or auto) to keep them all"
        )
    dpi = args.dpi or (info.dpi[0] if info.dpi else None) or (expected.dpi if expected else None)
    pages, analyses, kept, assumed = [], [], [], []
    for number, page in enumerate(read_pages(job.source), 1):
        try:
            analysis = analyse(page, dpi=dpi) if args.auto else None
        except ValueError as err:  # too small to tell
            raise ValueError(f"{job.source}: {err}") from None
        analyses.append(analysis)
        if expected is not None and (analysis is None or analysis.kind != "am"):
            pages.append(descreen(page, expected.analysis(analysis, dpi)))
            assumed.append(number)
        elif analysis is not None and analysis.kind == "continuous" and not args.force:
            pages.append(page)
            kept.append(number)
        else:
            pages.append(descreen(page, analysis))
    bits = args.bit_depth or info.bit_depth
    write_pages(job.output, pages, bit_depth=bits, protect=[job.source], info=info)  # others: _input_finder
    found = []
    for number, analysis in enumerate(analyses, 1):
        text = _describe(analysis) if analysis is not None else None
        if number in assumed:
            text = f"{text or 'not analysed'}; {expected.describe(dpi)}"
        if text:
            found.append(text)
    record = {
        "status": "copied" if len(kept) == len(pages) else "descreened",
        "pages": len(pages),
        "kept_unchanged": kept,
        "analysis": [_rounded(a.to_dict()) if a is not None else None for a in analyses],
        "found": found,
        "bit_depth": bits,
        "metadata": info.fit(pages[0]).to_dict(),
    }
    if assumed:
        record["assumed_screen"] = expected.record(dpi, assumed)
    return record


def _rounded(value: object) -> object:
    """``value`` with its floats to 4 decimals, for a summary people read."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v) for v in value]
    return value


def _file_line(job: _Job, record: dict, method: str) -> tuple[str, bool]:
    """The one line that reports a finished file, and whether it is a warning."""
    found = record["found"]
    what = found[0] if len(set(found)) == 1 else "; ".join(f"page {n} {text}" for n, text in enumerate(found, 1))
    pages = f" ({record['pages']} pages)" if record["pages"] > 1 else ""
    took = f"{record['seconds']:.1f} s"
    if record["status"] == "copied":
        return (
            f"warning: {job.source}{pages}: {what}; written unchanged to {job.output} "
            f"(use --force to descreen it anyway; {took})",
            True,
        )
    kept = record["kept_unchanged"]
    kept_text = f"; page(s) {', '.join(map(str, kept))} continuous tone, kept unchanged (--force)" if kept else ""
    return f"{job.source}{pages}: {what or 'not analysed'} -> {job.output} ({method}{kept_text}; {took})", bool(kept)


def _previous_records(path: Path | None) -> dict[str, dict]:
    """The per-output records of an earlier summary at ``path`` (to keep them when resuming)."""
    try:
        records = json.loads(path.read_text())["files"] if path and path.is_file() else []
        return {r["output"]: r.get("earlier", r) if r.get("status") == "exists" else r for r in records}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _descreen(args: argparse.Namespace) -> int:
    _check_model_options(args, "--method")
    expected = _PresetScreen.of(args.preset) if args.preset else None
    out_dir = Path(args.output)
    _check_output_folder(out_dir)
    missing = [text for text in args.inputs if not os.path.exists(text)]
    if missing:  # a typo: said at once, before the model loads and before anything is written
        raise UsageError(f"{', '.join(missing)}: no such file or folder")
    pairs, notes = _gather(args.inputs, args.recursive, out_dir, args.suffix, args.include_outputs)
    if not pairs:
        raise UsageError("nothing to descreen: " + "; ".join(notes))
    jobs, root = _plan(pairs, out_dir, args.suffix, args.format)
    is_input = _input_finder([source for source, _ in pairs])
    for job in jobs:
        clash = is_input(job.output)
        if clash is not None:
            raise UsageError(
                f"{job.source}: its output {job.output} would overwrite the input {clash}; "
                "choose another -o or --suffix"
            )
    summary = None if args.no_summary else Path(args.summary or out_dir / SUMMARY_NAME)
    if summary is not None and str(summary) != "-" and is_input(summary) is not None:
        raise UsageError(f"--summary {summary}: would overwrite an input")
    page = Path(args.report) if args.report else None
    if page is not None:
        if is_input(page) is not None or any(same_file(page, job.output) for job in jobs):
            raise UsageError(f"--report {page}: would overwrite an input or an output")
        if summary is not None and str(summary) != "-" and same_file(page, summary):
            raise UsageError(f"--report {page}: is the summary file; give them different names")
        if page.is_dir():
            raise UsageError(f"--report {page}: is a folder; name an HTML file")
    descreen, method = _descreen_function(args)  # the model loads once, before any file

    progress = _Progress(len(jobs), args.quiet)
    for text in notes:
        progress.line(f"note: {text}")
    if root is not None and any(job.output.parent != out_dir for job in jobs):
        progress.line(f"note: outputs mirror the input folders under {out_dir}/ (relative to {root}/)")
    for job in jobs:
        if job.note:
            progress.line(f"note: {job.note}", important=True)
    earlier = _previous_records(summary if summary is not None and str(summary) != "-" else None)
    name = method["method"] if method["method"] != "model" else f"model {method['variant'] or method['checkpoint']}"
    started = time.time()
    interrupted = False
    for job in jobs:
        job.record = {"input": str(job.source), "output": str(job.output), "status": "not started"}
        if job.note:
            job.record["note"] = job.note
    try:
        for number, job in enumerate(jobs, 1):
            count = f"[{number}/{len(jobs)}]"
            if args.skip_existing and job.output.exists():
                job.record["status"] = "exists"
                if str(job.output) in earlier:
                    job.record["earlier"] = earlier[str(job.output)]
                progress.line(f"{count} {job.source}: skipped, {job.output} exists (--skip-existing)")
                progress.step()
                continue
            job.record["status"] = "interrupted"
            tick = time.perf_counter()
            try:
                record = _descreen_file(job, args, descreen, expected)
            except FILE_ERRORS as err:
                if args.debug:
                    raise
                reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
                if not reason.startswith((str(job.source), str(job.output))):
                    reason = f"{job.source}: {reason}"
                job.record.update(status="failed", error=reason, seconds=round(time.perf_counter() - tick, 3))
                progress.line(f"{count} error: {reason}", important=True)
                progress.step()
                continue
            record["seconds"] = round(time.perf_counter() - tick, 3)
            record["method"] = "copy" if record["status"] == "copied" else method["method"]
            if method["method"] == "model" and record["status"] != "copied":
                record["model"] = {key: method[key] for key in ("checkpoint", "variant", "backend", "precision")}
            job.record.update(record)
            line, warning = _file_line(job, record, name)
            progress.line(f"{count} {line}", important=warning)
            progress.step()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()

    counts = {s: sum(j.record["status"] == s for j in jobs) for s in ("descreened", "copied", "exists", "failed")}
    report = {
        "command": "descreen",
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        "seconds": round(time.time() - started, 3),
        "output": str(out_dir),
        "mirrored_from": str(root) if root is not None else None,
        **method,
        "options": {
            "auto": args.auto,
            "force": args.force,
            "bit_depth": args.bit_depth or "same as input",
            "format": args.format,
            "suffix": args.suffix,
            "skip_existing": args.skip_existing,
            "include_outputs": args.include_outputs,
            "dpi": args.dpi,
            "preset": expected.name if expected else None,
        },
        "counts": {**counts, "total": len(jobs)},
        "interrupted": interrupted,
        "files": [job.record for job in jobs],
    }
    text = json.dumps(report, indent=2) + "\n"
    where, summary_lost = "", False
    if summary is not None and str(summary) == "-":
        sys.stdout.write(text)
    elif summary is not None:
        try:
            write_text(summary, text)
            where = f"; summary in {summary}"
        except OSError as err:
            print(f"deep-halftoning: error: {summary}: cannot write the summary ({err.strerror})", file=sys.stderr)
            summary_lost = True  # exit status 2: the record of the batch is missing
    if page is not None:
        from .report import write_report

        try:
            shown = str(summary) if summary is not None and str(summary) != "-" and not summary_lost else None
            write_report(page, report, summary_file=shown)
            where += f"; report in {page}"
        except OSError as err:  # exit status 2, like a lost summary
            print(f"deep-halftoning: error: {page}: cannot write the report ({err.strerror or err})", file=sys.stderr)
            summary_lost = True
        except ImageWriteError as err:  # a preview that would replace an input
            print(f"deep-halftoning: error: {err}", file=sys.stderr)
            summary_lost = True
    finished = counts["descreened"] + counts["copied"] + counts["exists"]
    if interrupted:
        print(
            f"interrupted: {finished} of {len(jobs)} file(s) finished, kept in {out_dir}/{where}; "
            "rerun with --skip-existing to resume",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    extras = [
        f"{counts['copied']} copied unchanged (continuous tone)" if counts["copied"] else "",
        f"{counts['exists']} skipped (output exists)" if counts["exists"] else "",
        f"{counts['failed']} failed" if counts["failed"] else "",
    ]
    extra = "".join(f", {e}" for e in extras if e)
    print(f"descreened {counts['descreened']} of {len(jobs)} file(s) into {out_dir}/{extra}{where}", file=sys.stderr)
    return EXIT_USAGE if counts["failed"] or summary_lost else 0


# ----------------------------------------------------------------------------- the parser

DESCREEN_EPILOG = """\
outputs:
  Each input becomes OUT/<its folder>/<stem><suffix>.png (.tif for TIFF inputs and files of several
  pages or frames; see --format). Folders are mirrored relative to the inputs' common parent folder:
  `descreen d1/x.png d2/x.png -o out` writes out/d1/x_descreened.png and out/d2/x_descreened.png, while
  `descreen scans/*.png -o out` stays flat. With -r a folder's images (by suffix: .png .jpg .jpeg .webp
  .tif .tiff .bmp) keep their sub-folders; hidden files and earlier outputs (*_descreened.* or the
  --suffix, a report's previews, anything in -o when it lies inside) are skipped, and counted in a
  note (--include-outputs takes all but the last). Inputs that would still share an output name (x.png
  and x.jpg) get distinct names (x_jpg_descreened.png), reported in a note and in the summary.
  No output may replace an input. Existing outputs are replaced, atomically; --skip-existing keeps them.

what is kept:
  Each input is analysed first (--auto): an AM screen (ruling, angles), dispersed dots, or continuous
  tone. Continuous-tone inputs are written unchanged, with a warning, unless --force. Resolution,
  ICC profile and EXIF are kept; the bit depth is the input's (16-bit scans stay 16-bit) unless
  --bit-depth. Multi-page TIFFs, and animated GIF, PNG and WebP files frame by frame, are descreened
  page by page into one multi-page TIFF.

presets:
  --preset NAME says how the scans were printed (an AM preset such as comics, magazine or newspaper,
  or a YAML file). Pages where the analysis finds no screen (every page with --no-auto) are descreened
  as the preset's screen instead of being passed through: the classical filters are sized to its
  ruling and notch its angles. Its dpi is the scan's when neither --dpi nor the file states one
  (outputs of `halftone --preset` state theirs). A screen the analysis finds wins over the preset's.

summary and exit status:
  A JSON summary (input, output, analysis, method/model, seconds and status of each file) goes to
  OUT/descreen-summary.json unless --summary or --no-summary. Ctrl-C stops cleanly, keeping the
  finished files; rerun with --skip-existing to resume. Exit status: 0 done, 2 a file failed or bad
  options, 130 interrupted.

report:
  --report FILE.html writes one self-contained page from the same records as the summary: per file a
  before/after slider (drag the divider, or focus it and use the arrow keys), zoom (fit to window,
  smoothly reduced so that the screen makes no moire; 1:1, 2x, 4x pixels, unsmoothed), what the
  analysis found, the method or model, the time and the status; the batch totals on top. Paths are
  relative to the page. It loads nothing from the network. Previews are at most 2048 px on the long
  side (larger images are downscaled for the page, which says so); a preview whose PNG is under 1 MiB
  is embedded in the page (data: URI) while the page stays under 32 MiB, the others are written beside
  it in FILE_files/.
  Multi-page files show their first 8 pages. Skipped files are listed; after Ctrl-C the report still
  covers what finished.
"""


def _add_common_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-q", "--quiet", action="store_true", help="print warnings and errors only")
    parser.add_argument("--debug", action="store_true", help="show the traceback of an error")


def _add_halftone_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--method", metavar="NAME", help=f"halftoning method (default {DEFAULT_METHOD}; see `deep-halftoning methods`)"
    )
    parser.add_argument(
        "--preset", metavar="NAME", help=f"named settings ({', '.join(preset_names())}) or the path of a preset YAML"
    )
    parser.add_argument("--mode", choices=MODES, help="grey, per-channel RGB, or CMYK inks (default: by input)")
    parser.add_argument("--ucr", type=_unit_interval, help="under-colour removal for CMYK, 0..1 (default 1)")
    parser.add_argument(
        "--serpentine", action=argparse.BooleanOptionalAction, default=None, help="serpentine scan for error diffusion"
    )
    parser.add_argument("--lpi", type=_number(float, low=0), help="AM screen ruling, lines per inch")
    parser.add_argument("--dpi", type=_number(float, low=0), help="AM output resolution, pixels per inch")
    parser.add_argument("--angles", help="AM screen angles in degrees, C,M,Y,K")
    parser.add_argument("--dot", help="AM dot shape: round, elliptical, square, line")
    parser.add_argument("--supersample", type=_number(int, low=1), help="AM sub-samples per pixel side")
    parser.add_argument("--size", type=_number(int, low=1), help="matrix size for clustered/diagonal/blue-noise")
    parser.add_argument("--seed", type=_number(int, low=0), help="random seed (zhou-fang, blue-noise)")
    parser.add_argument(
        "--param", type=_key_value, action="append", metavar="KEY=VALUE", help="any other method parameter (repeatable)"
    )
    _add_bit_depth(parser)


def _add_bit_depth(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bit-depth",
        type=int,
        choices=(8, 16),
        help="output bits per sample (default: the input's, 8 or 16; 8 for JPEG, WebP and BMP outputs)",
    )


def _add_descreen_options(parser: argparse.ArgumentParser, flag: str) -> None:
    parser.add_argument(
        flag,
        dest="descreen",
        choices=("model", "gaussian", "median", "fft"),
        default="model",
        help="the trained model (default) or a classical filter",
    )
    parser.add_argument(
        "--checkpoint", help="a details/joint (or coarse) stage checkpoint (default: the shipped descreener)"
    )
    parser.add_argument(
        "--perceptual",
        action="store_true",
        help="use the shipped descreener fine-tuned with the adversarial and edge terms (PSNR within 0.2 dB)",
    )
    parser.add_argument(
        "--tile",
        type=_number(int, low=TILE_RANGE[0], high=TILE_RANGE[1], multiple=32),
        help=f"model tile size in pixels, a multiple of 32 in [{TILE_RANGE[0]}, {TILE_RANGE[1]}] (default 512)",
    )
    parser.add_argument(
        "--overlap", type=_number(int, low=0), help="model tile overlap in pixels, below the tile size (default 64)"
    )
    parser.add_argument("--batch", type=_number(int, low=1), help="model tiles per batch (default 4)")
    parser.add_argument("--device", help="cuda, cuda:N, mps or cpu for the model (default: the best available)")
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="where the model runs: openvino (CPU, about 3x as fast) or torch; auto (default): openvino on the "
        "CPU when installed, else torch",
    )
    parser.add_argument(
        "--precision",
        choices=PRECISIONS,
        default="auto",
        help="model arithmetic; auto (default): bf16 where the hardware computes it natively, else fp32",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="deep-halftoning", description="Halftone, descreen and rescreen images.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("train", help="train a stage: deep-halftoning train experiment=coarse [hydra overrides]")

    methods = sub.add_parser("methods", help="list the halftoning methods and their parameters")
    methods.add_argument("--json", action="store_true", help="machine-readable output")
    _add_common_options(methods)
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
    _add_halftone_options(ht)
    _add_common_options(ht)
    ht.set_defaults(run=_halftone)

    ds = sub.add_parser(
        "descreen",
        help="descreen scans into clean images",
        description="Descreen scans: files, or folders with -r.",
        epilog=DESCREEN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ds.add_argument("inputs", nargs="+", help="scanned halftones, or folders of them with -r")
    ds.add_argument("-o", "--output", required=True, help="output folder")
    ds.add_argument("-r", "--recursive", action="store_true", help="take folders: their images and sub-folders")
    ds.add_argument(
        "--suffix", default=DEFAULT_SUFFIX, help=f"added to each output file name (default {DEFAULT_SUFFIX})"
    )
    ds.add_argument(
        "--include-outputs",
        action="store_true",
        help=f"with -r, also descreen files that look like earlier outputs (*{DEFAULT_SUFFIX}.*, report previews)",
    )
    ds.add_argument(
        "--format",
        choices=("auto", "png", "tif"),
        default="auto",
        help="output format (default: TIFF for TIFF, else PNG)",
    )
    ds.add_argument("--skip-existing", action="store_true", help="leave outputs that exist (to resume a batch)")
    ds.add_argument(
        "--auto",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="analyse each input first and keep continuous-tone ones unchanged (default on)",
    )
    ds.add_argument("--force", action="store_true", help="descreen continuous-tone inputs too")
    ds.add_argument(
        "--dpi", type=_number(float, low=0), help="scan resolution for the rulings reported (default: the file's own)"
    )
    ds.add_argument(
        "--preset",
        metavar="NAME",
        help="how the scans were printed: an AM preset (e.g. newspaper) or its YAML; its screen stands in "
        "where the analysis finds none (see below)",
    )
    ds.add_argument("--summary", metavar="FILE", help=f"JSON summary file, - for stdout (default OUT/{SUMMARY_NAME})")
    ds.add_argument("--no-summary", action="store_true", help="write no summary")
    ds.add_argument(
        "--report",
        metavar="FILE.html",
        help="also write a self-contained HTML before/after page (no network; small previews embedded, "
        "larger ones in FILE_files/ beside it; see below)",
    )
    _add_bit_depth(ds)
    _add_descreen_options(ds, "--method")
    _add_common_options(ds)
    ds.set_defaults(run=_descreen)

    rs = sub.add_parser(
        "rescreen",
        help="descreen a scan, then halftone it with another method",
        description="Descreen a scan, then halftone it. Resolution, ICC profile and EXIF are kept.",
    )
    rs.add_argument("input", help="scanned halftone")
    rs.add_argument("output", help="output image")
    _add_halftone_options(rs)
    _add_descreen_options(rs, "--descreen")
    _add_common_options(rs)
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
    _add_common_options(ex)
    ex.set_defaults(run=_export)

    dt = sub.add_parser("detect", help="AM screen, dispersed dither or continuous tone? ruling and angles")
    dt.add_argument("input", help="image to analyse")
    dt.add_argument(
        "--dpi", type=_number(float, low=0), help="scan resolution, for the ruling in lpi (default: the file's own)"
    )
    dt.add_argument("--json", action="store_true", help="machine-readable output")
    _add_common_options(dt)
    dt.set_defaults(run=_detect)
    return parser


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (2 on bad input, with a one-line message; 130 on Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["train"]:  # Hydra parses its own overrides
        from .training.train_command import run

        try:
            return run(argv[1:])
        except KeyboardInterrupt:  # before training started (Lightning handles Ctrl-C during it)
            print("deep-halftoning: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        return args.run(args)
    except UsageError as err:
        if debug:
            raise
        print(err if str(err).startswith("deep-halftoning") else f"deep-halftoning: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # output piped into `head` and the like
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("deep-halftoning: interrupted; no output was left half-written", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (ImageReadError, ImageWriteError, ValueError, OSError) as err:
        if debug:
            raise
        print(f"deep-halftoning: error: {_one_line(err)}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as err:  # noqa: BLE001 - one line, not a traceback, for whatever else goes wrong
        if debug:
            raise
        print(
            f"deep-halftoning: error: {_one_line(err)} ({type(err).__name__}; rerun with --debug for the traceback)",
            file=sys.stderr,
        )
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
