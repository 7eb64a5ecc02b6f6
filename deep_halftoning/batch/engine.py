"""Run a batch: descreen (or keep) every input into its planned output, atomically, one file at a time.

A file that fails is recorded and the batch goes on; Ctrl-C stops it between two writes, keeping the
finished files, and the summary (and report) of what finished is still written.
"""

from __future__ import annotations

import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..halftone.presets import get_preset, preset_names
from ..inference.options import ModelOptions, flag
from ..inference.wording import describe_analysis
from ..io import TIFF_SUFFIXES, ImageReadError, ImageWriteError, read_info, read_pages, write_pages, write_text
from .plan import DEFAULT_SUFFIX, SUMMARY_NAME, BatchError, Job, Plan, make_plan
from .summary import BatchSummary, FileRecord, previous_records, rounded

if TYPE_CHECKING:
    from ..inference import ScreenAnalysis

#: What goes wrong with one file of a batch without stopping the rest.
FILE_ERRORS = (ImageReadError, ImageWriteError, ValueError, OSError, RuntimeError, MemoryError)
#: A descreening function: an image (float, grey or RGB, in [0, 1]) and its analysis (or ``None``) in, the
#: clean image and the screen scale it was descreened at (``ScaleChoice.to_dict()``; ``None``: no model) out.
Descreen = Callable[..., np.ndarray]


@dataclass(frozen=True)
class BatchOptions:
    """What a batch takes and writes (the model's settings are :class:`ModelOptions`). The fields with a
    help text are the ``descreen`` flags of their names."""

    recursive: bool = flag(False, "take folders: their images and sub-folders", flags=("-r", "--recursive"))
    suffix: str = flag(DEFAULT_SUFFIX, f"added to each output file name (default {DEFAULT_SUFFIX})")
    include_outputs: bool = flag(
        False, f"with -r, also descreen files that look like earlier outputs (*{DEFAULT_SUFFIX}.*, report previews)"
    )
    format: str = flag("auto", "output format (default: TIFF for TIFF, else PNG)", choices=("auto", "png", "tif"))
    skip_existing: bool = flag(False, "leave outputs that exist (to resume a batch)")
    auto: bool = flag(True, "analyse each input first and keep continuous-tone ones unchanged (default on)")
    force: bool = flag(False, "descreen continuous-tone inputs too")
    dpi: float | None = flag(
        None, "scan resolution for the rulings reported (default: the file's own)", number=(float, {"low": 0})
    )
    preset: str | None = flag(
        None,
        "how the scans were printed: an AM preset (e.g. newspaper) or its YAML; its screen stands in "
        "where the analysis finds none (see below)",
        metavar="NAME",
    )
    bit_depth: int | None = None  #: 8 or 16 (default: each input's; 8 where the format holds no more)
    method: str = "model"  #: ``model`` or a classical filter: ``gaussian``, ``median``, ``fft``
    summary: str | os.PathLike | bool = True  #: the JSON summary's path; ``True``: OUT/descreen-summary.json
    report: str | os.PathLike | None = flag(
        None,
        "also write a self-contained HTML before/after page (no network; small previews embedded, "
        "larger ones in FILE_files/ beside it; see below)",
        metavar="FILE.html",
    )


@dataclass(frozen=True)
class Note:
    """Something to tell before the files: an input left out, a renamed output, a fallback of the model.
    ``important`` notes are shown even when only warnings are."""

    text: str
    important: bool = False


@dataclass(frozen=True)
class Planned:
    """The batch is planned and its model loaded: ``total`` files, outputs mirrored from ``root``."""

    total: int
    root: Path | None


@dataclass(frozen=True)
class FileDone:
    """File ``number`` of ``total`` is done (``record.status`` says how)."""

    number: int
    total: int
    record: FileRecord


#: What a batch reports as it goes.
Event = Note | Planned | FileDone


@dataclass(frozen=True)
class PresetScreen:
    """The screen of a batch's preset: how the scans were printed, standing in where the analysis finds no
    screen (or where none is made)."""

    name: str
    lpi: float
    dpi: float
    angles: tuple[float, ...]

    @classmethod
    def of(cls, spec: str) -> PresetScreen:
        """The screen of preset ``spec`` (a name or a YAML path); one line naming the AM presets for others."""
        preset = get_preset(spec)
        if preset.screen is None:
            screened = ", ".join(name for name in preset_names() if get_preset(name).screen is not None)
            raise BatchError(
                f"--preset {spec}: {preset.method} has no screen ruling; descreen takes an AM preset ({screened}) "
                "or an AM preset's YAML"
            )
        return cls(preset.name, *preset.screen)

    def analysis(self, measured: ScreenAnalysis | None, dpi: float) -> ScreenAnalysis:
        """A :class:`ScreenAnalysis` of this screen at ``dpi`` (the measured one's spectral figures kept)."""
        from ..inference import Screen, ScreenAnalysis

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


def load_method(
    method: str, model: ModelOptions, tile_progress: bool = False, note: Callable[[str], None] = lambda _: None
) -> tuple[Descreen, dict[str, object]]:
    """The descreening function of ``method`` (the model loaded once, as ``model`` says) and what it is:
    ``method``, and for the model its ``checkpoint``, ``variant``, ``backend`` and ``precision``. ``note``
    hears of each automatic choice that fell back; ``tile_progress`` shows a bar of each file's tiles."""
    if method != "model":
        from ..inference import descreen_baseline

        return lambda image, analysis=None: (descreen_baseline(image, method, analysis), None), {"method": method}
    from ..inference import Descreener, pick_device, shipped_checkpoint

    try:
        pick_device(model.device)
    except ValueError as err:
        raise BatchError(f"--device {err}") from None
    variant = None if model.checkpoint else ("perceptual" if model.perceptual else "fidelity")
    checkpoint = model.checkpoint or shipped_checkpoint(variant)
    with warnings.catch_warnings(record=True) as fallbacks:
        warnings.simplefilter("always", RuntimeWarning)
        descreener = Descreener.from_checkpoint(checkpoint, **model.descreener_kwargs())
    for fallback in fallbacks:
        note(str(fallback.message))
    about = {
        "method": "model",
        "checkpoint": str(checkpoint),
        "variant": variant,
        "backend": descreener.backend,
        "precision": descreener.precision,
    }

    def run(image: np.ndarray, analysis: ScreenAnalysis | None = None) -> tuple[np.ndarray, dict]:
        scale = descreener.choose_scale(image, analysis)
        return descreener(image, progress=tile_progress, scale=scale), rounded(scale.to_dict())

    return run, about


def _descreen_pages(
    job: Job, options: BatchOptions, descreen: Descreen, expected: PresetScreen | None, dpi: float | None
) -> tuple[list[np.ndarray], list, list, list[int], list[int]]:
    """Every page of ``job``'s input descreened (or kept), its analyses, screen scales, the pages kept and
    those descreened as the preset's screen."""
    from ..inference import analyse

    pages, analyses, scales, kept, assumed = [], [], [], [], []
    for number, page in enumerate(read_pages(job.source), 1):
        try:
            analysis = analyse(page, dpi=dpi) if options.auto else None
        except ValueError as err:  # too small to tell
            raise ValueError(f"{job.source}: {err}") from None
        analyses.append(analysis)
        scale = None
        if expected is not None and (analysis is None or analysis.kind != "am"):
            clean, scale = descreen(page, expected.analysis(analysis, dpi))
            assumed.append(number)
        elif analysis is not None and analysis.kind == "continuous" and not options.force:
            clean = page
            kept.append(number)
        else:
            clean, scale = descreen(page, analysis)
        pages.append(clean)
        scales.append(scale)
    return pages, analyses, scales, kept, assumed


def descreen_file(
    job: Job, options: BatchOptions, descreen: Descreen, expected: PresetScreen | None = None
) -> FileRecord:
    """Analyse and descreen (or keep) every page of one input; write them; the file's record.
    With ``expected`` (a preset), pages without a screen found are descreened as its screen."""
    info = read_info(job.source)
    if info.pages > 1 and job.output.suffix.lower() not in TIFF_SUFFIXES:
        raise ImageWriteError(
            f"{job.source}: {info.pages} {info.page_noun}; use --format tif (or auto) to keep them all"
        )
    dpi = options.dpi or (info.dpi[0] if info.dpi else None) or (expected.dpi if expected else None)
    pages, analyses, scales, kept, assumed = _descreen_pages(job, options, descreen, expected, dpi)
    bits = options.bit_depth or info.bit_depth
    write_pages(job.output, pages, bit_depth=bits, protect=[job.source], info=info)  # others: the plan's checks
    found = []
    for number, analysis in enumerate(analyses, 1):
        text = describe_analysis(analysis.to_dict(), brief=True) if analysis is not None else None
        if number in assumed:
            text = f"{text or 'not analysed'}; {expected.describe(dpi)}"
        if text:
            found.append(text)
    return FileRecord(
        str(job.source),
        str(job.output),
        status="copied" if len(kept) == len(pages) else "descreened",
        note=job.note,
        pages=len(pages),
        kept_unchanged=kept,
        analysis=[rounded(a.to_dict()) if a is not None else None for a in analyses],
        found=found,
        bit_depth=bits,
        metadata=info.fit(pages[0]).to_dict(),
        assumed_screen=expected.record(dpi, assumed) if assumed else None,
        screen_scale=scales if any(scales) else None,
    )


def _reason(err: BaseException, job: Job) -> str:
    """A file's error in one line that names the file."""
    reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return reason if reason.startswith((str(job.source), str(job.output))) else f"{job.source}: {reason}"


def _run_job(
    job: Job,
    options: BatchOptions,
    descreen: Descreen,
    about: dict,
    expected: PresetScreen | None,
    raise_errors: bool,
) -> FileRecord:
    """One job's record: descreened, copied or failed (``raise_errors``: a failure raises instead)."""
    tick = time.perf_counter()
    try:
        record = descreen_file(job, options, descreen, expected)
    except FILE_ERRORS as err:
        if raise_errors:
            raise
        seconds = round(time.perf_counter() - tick, 3)
        return FileRecord(str(job.source), str(job.output), "failed", job.note, _reason(err, job), seconds=seconds)
    record.seconds = round(time.perf_counter() - tick, 3)
    record.method = "copy" if record.status == "copied" else about["method"]
    if about["method"] == "model" and record.status != "copied":
        record.model = {key: about[key] for key in ("checkpoint", "variant", "backend", "precision")}
    return record


def _run_jobs(
    plan: Plan,
    options: BatchOptions,
    descreen: Descreen,
    about: dict,
    expected: PresetScreen | None,
    raise_errors: bool,
    progress: Callable[[Event], None],
) -> tuple[list[FileRecord], bool]:
    """Every job's record, in order, and whether Ctrl-C stopped the batch (the rest: ``not started``)."""
    records = [FileRecord(str(job.source), str(job.output), note=job.note) for job in plan.jobs]
    earlier = previous_records(plan.summary)
    try:
        for number, job in enumerate(plan.jobs, 1):
            if options.skip_existing and job.output.exists():
                records[number - 1].status = "exists"
                records[number - 1].earlier = earlier.get(str(job.output))
            else:
                records[number - 1].status = "interrupted"
                records[number - 1] = _run_job(job, options, descreen, about, expected, raise_errors)
            progress(FileDone(number, len(plan.jobs), records[number - 1]))
    except KeyboardInterrupt:
        return records, True
    return records, False


def _write_outputs(summary: BatchSummary, plan: Plan) -> None:
    """Write the summary and the report of a batch; what cannot be written goes to ``summary.errors``."""
    if plan.summary is not None:
        try:
            write_text(plan.summary, summary.to_json())
            summary.summary_file = plan.summary
        except OSError as err:
            summary.errors.append(f"{plan.summary}: cannot write the summary ({err.strerror})")
    if plan.report is None:
        return
    from .report import write_report

    try:
        shown = str(summary.summary_file) if summary.summary_file is not None else None
        write_report(plan.report, summary.to_dict(), summary_file=shown)
        summary.report_file = plan.report
    except OSError as err:
        summary.errors.append(f"{plan.report}: cannot write the report ({err.strerror or err})")
    except ImageWriteError as err:  # a preview that would replace an input
        summary.errors.append(str(err))


def _options_record(options: BatchOptions, expected: PresetScreen | None) -> dict[str, object]:
    """The options as the summary keeps them."""
    names = ("auto", "force", "bit_depth", "format", "suffix", "skip_existing", "include_outputs", "dpi")
    kept = {name: getattr(options, name) for name in names}
    return {**kept, "bit_depth": options.bit_depth or "same as input", "preset": expected.name if expected else None}


def _announce(plan: Plan, out_dir: Path, notify: Callable[[Event], None]) -> None:
    """Tell the plan: its size, the inputs left out, the mirrored folders, the outputs renamed."""
    notify(Planned(len(plan.jobs), plan.root))
    for text in plan.notes:
        notify(Note(text))
    if plan.root is not None and any(job.output.parent != out_dir for job in plan.jobs):
        notify(Note(f"outputs mirror the input folders under {out_dir}/ (relative to {plan.root}/)"))
    for job in plan.jobs:
        if job.note:
            notify(Note(job.note, important=True))


def _summary_path(options: BatchOptions, out_dir: Path) -> Path | None:
    if options.summary is True:
        return out_dir / SUMMARY_NAME
    return Path(options.summary) if options.summary else None


def descreen_files(
    inputs: Sequence[str | os.PathLike],
    output: str | os.PathLike,
    *,
    model: ModelOptions | None = None,
    progress: Callable[[Event], None] | None = None,
    tile_progress: bool = False,
    raise_errors: bool = False,
    **options: Any,
) -> BatchSummary:
    """Descreen ``inputs`` (files, or folders with ``recursive=True``) into folder ``output``; the summary.

    ``options`` are the fields of :class:`BatchOptions`, ``model`` says which model runs and how. Each input
    becomes ``output/<its folder relative to the inputs' common parent>/<stem><suffix>.png`` (``.tif`` for
    TIFFs and files of several pages), written atomically; no output replaces an input. Continuous-tone
    inputs are copied unchanged (unless ``force``); resolution, ICC profile, EXIF and bit depth are kept.
    A file that fails is recorded and the rest go on (``raise_errors``: it raises); Ctrl-C stops between
    files, keeping those finished, and returns with ``interrupted`` set. The summary goes to the JSON file
    ``summary`` and, with ``report``, to an HTML page. ``progress`` hears each :data:`Event`. Inputs or
    options that cannot work raise one-line ``ValueError``s before anything is loaded or written.
    """
    batch, model = BatchOptions(**options), model or ModelOptions()
    model.check(batch.method)
    notify = progress or (lambda event: None)
    expected = PresetScreen.of(batch.preset) if batch.preset else None
    out_dir = Path(output)
    report = Path(batch.report) if batch.report else None
    plan = make_plan(
        inputs,
        out_dir,
        recursive=batch.recursive,
        suffix=batch.suffix,
        include_outputs=batch.include_outputs,
        fmt=batch.format,
        summary=_summary_path(batch, out_dir),
        report=report,
    )
    descreen, about = load_method(batch.method, model, tile_progress, lambda text: notify(Note(text)))
    _announce(plan, out_dir, notify)
    started = time.time()
    records, interrupted = _run_jobs(plan, batch, descreen, about, expected, raise_errors, notify)
    summary = BatchSummary(
        started=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(started)),
        seconds=round(time.time() - started, 3),
        output=str(out_dir),
        mirrored_from=str(plan.root) if plan.root is not None else None,
        method=about,
        options=_options_record(batch, expected),
        files=records,
        interrupted=interrupted,
    )
    _write_outputs(summary, plan)
    return summary
