"""A before/after HTML report of a ``descreen`` batch, built from the records of its JSON summary.

:func:`render_report` is pure: the summary's records (and their previews) in, one self-contained
HTML page out: no network at all (no CDN, fonts or scripts from elsewhere; a Content-Security-Policy
forbids any), plain HTML/CSS and a little vanilla JavaScript. Per file: a before/after slider (the
input scan and the descreened output overlaid, a draggable divider that the arrow keys move), zoom
buttons (fit to window; 1:1, 2x and 4x pixels, enlarged without smoothing), what the analysis found,
the method or model, the time taken and the status. A header gives the batch totals. Paths are shown
relative to the page.

:func:`write_report` reads each file's images, makes previews at most :data:`PREVIEW_SIDE` pixels on
the long side (smaller images keep every pixel, so 1:1 is the real thing; larger ones are reduced
with a Lanczos filter), and smooth reductions of each for fit to window (:func:`fit_levels`: the page
shows the largest one the window holds, so the browser never shrinks a halftone into moire), embeds
those whose PNG is at most ``embed_limit`` bytes as ``data:`` URIs (while the page stays under
``embed_total``) and writes the others beside the page in ``<report stem>_files/``; then the page,
atomically.
"""

from __future__ import annotations

import base64
import functools
import itertools
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import cv2
import jinja2
import numpy as np
from PIL import Image

from ..inference.wording import describe_analysis, measures
from ..io import ImageReadError, ImageWriteError, atomic_output, read_image, read_info, read_pages

#: Longest side of a preview, in pixels; larger images are downscaled (area average) for the page.
PREVIEW_SIDE = 2048
#: A preview PNG up to this many bytes is embedded in the page; a larger one is written beside it.
EMBED_LIMIT = 1 << 20
#: Previews stop being embedded once the embedded ones reach this many bytes (the rest go beside).
EMBED_TOTAL = 32 << 20
#: Fit to window shows the largest smooth reduction of a preview (widths 2**(-k/2) of its own, down to this one)
#: that is no wider than the screen pixels it gets: the browser then only enlarges, which makes no moire.
FIT_MIN_WIDTH = 256
#: Gaussian smoothing before a reduction, in pixels of the result: it takes out what lies near the
#: reduced image's Nyquist frequency (a screen there beats into moire when the browser scales it).
SMOOTHING = 0.5
#: The zooms offered besides fit to window: preview pixels per screen pixel, enlarged without smoothing.
ZOOMS = (1, 2, 4)
#: Pages (or frames) of a multi-page file shown per file; the rest are named in a note.
MAX_PAGES = 8
#: The divider's colour (the browser test looks for it in a screenshot).
DIVIDER_COLOUR = "#ff00ff"
#: What the page calls each status of the summary.
STATUS_LABELS = {
    "descreened": "descreened",
    "copied": "passed through",
    "exists": "skipped",
    "failed": "failed",
    "interrupted": "interrupted",
    "not started": "not started",
}
STATUS_DETAILS = {
    "copied": "continuous tone: written unchanged (--force descreens it anyway)",
    "exists": "the output existed and was kept (--skip-existing)",
    "interrupted": "stopped by Ctrl-C; no output written",
    "not started": "the batch was interrupted before this file",
}
_FILE_PATTERN = re.compile(r"^\d{4}-p\d+-(before|after)(-\d+w)?\.png$")


@dataclass(frozen=True)
class Picture:
    """One image as the page shows it: ``src`` (a ``data:`` URI or a path relative to the page), the
    preview's size, the size of the image it was made from, and ``(width, src)`` of its smooth reductions
    for fit to window, largest first."""

    src: str
    width: int
    height: int
    full_width: int
    full_height: int
    levels: tuple[tuple[int, str], ...] = ()

    @property
    def downscaled(self) -> bool:
        return (self.width, self.height) != (self.full_width, self.full_height)


@dataclass(frozen=True)
class Comparison:
    """One page of a file: its input (before) and output (after); either may be missing."""

    page: int
    before: Picture | None
    after: Picture | None


@dataclass(frozen=True)
class Preview:
    """What the page shows of one record: its first pages, a note (pages left out, an unreadable image) and
    how many pages the file has."""

    pages: list[Comparison] = field(default_factory=list)
    note: str | None = None
    total_pages: int = 1


# ----------------------------------------------------------------------------- images


def _reduce(data: np.ndarray, scale: float) -> np.ndarray:
    """8-bit ``data`` shrunk by ``scale`` (< 1) with a Lanczos filter as wide as the reduction: a halftone's
    screen becomes its tone instead of aliasing into moire (as a box average or the browser's scaling do)."""
    size = (max(1, round(data.shape[1] * scale)), max(1, round(data.shape[0] * scale)))
    smooth = cv2.GaussianBlur(data, (0, 0), SMOOTHING / scale)  # what Lanczos's edge lets through, too
    return np.asarray(Image.fromarray(smooth).resize(size, Image.Resampling.LANCZOS))


def _png(data: np.ndarray) -> bytes:
    if data.ndim == 3:
        data = np.ascontiguousarray(data[..., 2::-1])  # RGB -> BGR for OpenCV
    ok, buffer = cv2.imencode(".png", data)
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit image
        raise ValueError("cannot encode a preview")
    return buffer.tobytes()


def _preview_pixels(image: np.ndarray, max_side: int) -> tuple[np.ndarray, tuple[int, int]]:
    """``image`` (float in [0, 1], grey or RGB) as 8 bits, at most ``max_side`` pixels on its long side, and
    the image's own (width, height)."""
    pixels = np.asarray(image, np.float32)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[..., 0]
    full = (pixels.shape[1], pixels.shape[0])
    data = np.clip(pixels * 255 + 0.5, 0, 255).astype(np.uint8)
    return (_reduce(data, max_side / max(full)) if max(full) > max_side else data), full


def encode_preview(image: np.ndarray, max_side: int = PREVIEW_SIDE) -> tuple[bytes, tuple[int, int], tuple[int, int]]:
    """``image`` (float in [0, 1], grey or RGB) as an 8-bit PNG at most ``max_side`` pixels on its long side;
    the PNG, its (width, height) and the image's own (width, height)."""
    data, full = _preview_pixels(image, max_side)
    return _png(data), (data.shape[1], data.shape[0]), full


def fit_levels(data: np.ndarray, min_width: int = FIT_MIN_WIDTH) -> list[tuple[int, bytes]]:
    """``(width, PNG)`` of the smooth reductions of 8-bit preview ``data`` for fit to window, largest first:
    each 2**(-1/2) of the one before, while at least ``min_width`` wide."""
    levels = []
    scale = 2**-0.5
    while data.shape[1] * scale >= min_width:
        level = _reduce(data, scale)
        levels.append((level.shape[1], _png(level)))
        scale *= 2**-0.5
    return levels


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def picture(image: np.ndarray, max_side: int = PREVIEW_SIDE) -> Picture:
    """``image`` as an embedded :class:`Picture` (for callers that build previews themselves)."""
    data, (fw, fh) = _preview_pixels(image, max_side)
    levels = tuple((width, data_uri(png)) for width, png in fit_levels(data))
    return Picture(data_uri(_png(data)), data.shape[1], data.shape[0], fw, fh, levels)


class _Placer:
    """Embeds previews while they are small and the page is not too big; writes the others beside the page."""

    def __init__(self, folder: Path, embed_limit: int, embed_total: int, protect: set[str]) -> None:
        self.folder, self.embed_limit, self.embed_total, self.protect = folder, embed_limit, embed_total, protect
        self.embedded = 0
        self.written: set[str] = set()

    def place(self, png: bytes, name: str) -> str:
        if len(png) <= self.embed_limit and self.embedded + len(png) <= self.embed_total:
            self.embedded += len(png)
            return data_uri(png)
        target = self.folder / name
        if os.path.realpath(target) in self.protect:
            raise ImageWriteError(f"{target}: refusing to overwrite an input file")
        with atomic_output(target) as tmp:
            tmp.write_bytes(png)
        self.written.add(name)
        return quote(f"{self.folder.name}/{name}")

    def tidy(self) -> None:
        """Remove previews an earlier report left in the folder that this one does not use."""
        if not self.folder.is_dir():
            return
        for old in self.folder.iterdir():
            if _FILE_PATTERN.match(old.name) and old.name not in self.written:
                old.unlink(missing_ok=True)
        if not any(self.folder.iterdir()):
            self.folder.rmdir()


def _pages_of(path: Path, count: int) -> list[np.ndarray]:
    """The first ``count`` pages, whole (the preview states the size it was made from)."""
    if count <= 1:
        return [read_image(path)]
    return list(itertools.islice(read_pages(path), count))


def _read_record(record: Mapping, max_pages: int) -> tuple[int, list, list]:
    """The page count of a record's input, and its first pages before and after (``None`` where the
    output is missing or the file failed)."""
    source = Path(record["input"])
    pages = read_info(source).pages
    befores = _pages_of(source, min(pages, max_pages))
    afters: list[np.ndarray | None] = []
    output = Path(record["output"]) if record.get("output") else None
    if record.get("status") != "failed" and output is not None and output.is_file():
        afters = list(_pages_of(output, len(befores)))
    afters += [None] * (len(befores) - len(afters))
    return pages, befores, afters[: len(befores)]


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def collect_previews(
    records: Sequence[Mapping],
    folder: Path,
    *,
    max_side: int = PREVIEW_SIDE,
    embed_limit: int = EMBED_LIMIT,
    embed_total: int = EMBED_TOTAL,
    max_pages: int = MAX_PAGES,
) -> list[Preview]:
    """A :class:`Preview` per record, read from its input and output; previews that are not embedded go
    into ``folder`` (named ``NNNN-pP-before.png`` / ``-after.png``; earlier ones this page does not use are removed).
    Files never processed (interrupted, not started) get none; a failed file shows its input if it reads."""
    protect = {os.path.realpath(r["input"]) for r in records if r.get("input")}
    placer = _Placer(folder, embed_limit, embed_total, protect)
    previews = []
    for index, record in enumerate(records, 1):
        status = record.get("status")
        if status in ("interrupted", "not started") or not record.get("input"):
            previews.append(Preview())
            continue
        try:
            pages, befores, afters = _read_record(record, max_pages)
        except (ImageReadError, OSError, MemoryError) as err:
            previews.append(Preview(note=f"No preview: {_one_line(err)}"))
            continue
        notes = (
            [f"Pages 1–{len(befores)} of {pages} are shown; the output holds all {pages}."]
            if pages > len(befores)
            else []
        )
        comparisons = []
        for page, (before, after) in enumerate(zip(befores, afters, strict=True), 1):
            shots: dict[str, Picture] = {}
            for side, image in (("before", before), ("after", after)):
                if image is not None:
                    data, (fw, fh) = _preview_pixels(image, max_side)
                    name = f"{index:04d}-p{page}-{side}"
                    src = placer.place(_png(data), f"{name}.png")
                    levels = tuple(
                        (width, placer.place(png, f"{name}-{width}w.png")) for width, png in fit_levels(data)
                    )
                    shots[side] = Picture(src, data.shape[1], data.shape[0], fw, fh, levels)
            if len(shots) == 2 and (shots["before"].full_width, shots["before"].full_height) != (
                shots["after"].full_width,
                shots["after"].full_height,
            ):
                notes.append(f"Page {page}: the output's size differs from the input's.")
            comparisons.append(Comparison(page, shots.get("before"), shots.get("after")))
        previews.append(Preview(comparisons, " ".join(notes) or None, pages))
    placer.tidy()
    return previews


# ----------------------------------------------------------------------------- the page

_PACKAGE = Path(os.path.realpath(Path(__file__).parents[1]))
CSP = "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


@dataclass(frozen=True)
class Row:
    """One line of a file's listing: ``text``, or ``code`` (a path), ``strong`` (a status, ``text`` its
    detail), ``error``, ``pages`` (per page: text and figures); ``muted`` figures in brackets after the text;
    ``earlier`` says it is the earlier run's."""

    label: str
    text: str = ""
    code: str | None = None
    strong: str | None = None
    error: str | None = None
    pages: tuple[tuple[str, str], ...] = ()
    muted: str = ""
    earlier: bool = False


def shown_path(path: object, base: str | os.PathLike | None = None) -> str:
    """``path`` as the page shows it, never absolute where it can be relative: a file of the installed
    package from the package's name (``deep_halftoning/assets/...``), others relative to ``base`` (the
    report's folder) when given; as recorded otherwise."""
    text = str(path)
    if not text:
        return text
    real = Path(os.path.realpath(text))
    if _PACKAGE in real.parents:
        return real.relative_to(_PACKAGE.parent).as_posix()
    if base is None:
        return text
    try:
        return Path(os.path.relpath(os.path.abspath(text), os.path.abspath(base))).as_posix()
    except ValueError:  # another drive: no relative path
        return text


def describe_method(record: Mapping, batch: Mapping, base: str | os.PathLike | None = None) -> str:
    """The method or model that made the record's output (its checkpoint as :func:`shown_path` shows it)."""
    method = record.get("method") or batch.get("method")
    if method == "copy":
        return "none: copied unchanged"
    if method == "model":
        keys = ("checkpoint", "variant", "backend", "precision")
        model = record.get("model") or {key: batch.get(key) for key in keys}
        checkpoint = shown_path(model.get("checkpoint") or "", base)
        runtime = f", on {model['backend']} at {model['precision']}" if model.get("backend") else ""
        if model.get("variant"):
            return f"model: the shipped {model['variant']} descreener ({checkpoint}{runtime})"
        return f"model: checkpoint {checkpoint}{runtime}"
    if method in ("gaussian", "median", "fft"):
        return f"{method} (classical filter)"
    return str(method) if method else "—"


def _seconds(value: object) -> str:
    return f"{value:.2f} s" if isinstance(value, (int, float)) else "—"


def _counts(records: Sequence[Mapping]) -> dict[str, int]:
    counts = {status: 0 for status in STATUS_LABELS}
    for record in records:
        status = record.get("status", "not started")
        counts[status] = counts.get(status, 0) + 1
    return counts


def _size_text(pic: Picture) -> str:
    text = f"{pic.width}×{pic.height} px"
    if pic.downscaled:
        text += f", downscaled for this page from {pic.full_width}×{pic.full_height} (1:1 shows the preview's pixels)"
    return text


def _found(basis: Mapping, earlier: bool) -> Row:
    """What the analysis found: one text for all pages, or a list of pages."""
    analyses = basis["analysis"]
    texts = [describe_analysis(a) for a in analyses]
    if len(set(texts)) == 1:
        pages = f" (all {len(texts)} pages)" if len(texts) > 1 else ""
        return Row("Found", texts[0] + pages, muted=measures(analyses[0]), earlier=earlier)
    pages = tuple((text, measures(a)) for text, a in zip(texts, analyses, strict=True))
    return Row("Found", pages=pages, earlier=earlier)


def _scale_text(scale: Mapping) -> str:
    """A page's screen scale in words: CoarseNet's resampling factor and why."""
    return f"CoarseNet at {scale['factor']:.2f}x ({scale['reason']})"


def _result_rows(record: Mapping, batch: Mapping, base: str | os.PathLike | None) -> list[Row]:
    """What a processed file's record says: found, screen, method, pages, kept, time."""
    status = record.get("status")
    earlier = record.get("earlier") if status == "exists" else None
    basis, was = earlier or record, bool(earlier)
    rows = [_found(basis, was)] if basis.get("analysis") else []
    assumed = basis.get("assumed_screen")
    if assumed:
        where = f"page(s) {', '.join(map(str, assumed['pages']))}: " if (basis.get("pages") or 1) > 1 else ""
        text = (
            f"{where}the {assumed['preset']} preset's {assumed['lpi']:g} lpi screen (period {assumed['period']:.1f} "
            f"px at {assumed['dpi']:g} dpi), where the analysis found none (--preset)"
        )
        rows.append(Row("Screen", text, earlier=was))
    scaled = {_scale_text(s) for s in basis.get("screen_scale") or [] if s and s["factor"] != 1.0}
    if scaled:
        rows.append(Row("Scale", "; ".join(sorted(scaled)), earlier=was))
    if status != "exists" or earlier:
        rows.append(Row("Method", describe_method(basis, batch, base), earlier=was))
    if (basis.get("pages") or 1) > 1:
        rows.append(Row("Pages", str(basis["pages"])))
    if basis.get("kept_unchanged") and basis.get("status") == "descreened":
        kept = ", ".join(map(str, basis["kept_unchanged"]))
        rows.append(Row("Kept", f"page(s) {kept}: continuous tone, written unchanged"))
    if status == "exists":
        took = f"; the earlier run took {_seconds(earlier.get('seconds'))}" if earlier else ""
        rows.append(Row("Time", f"— (skipped){took}"))
    else:
        rows.append(Row("Time", _seconds(record.get("seconds"))))
    return rows


def _entry(index: int, record: Mapping, preview: Preview | None, batch: Mapping, base) -> dict[str, object]:
    """What the page shows of one record."""
    status = record.get("status", "not started")
    source = str(record.get("input", ""))
    paths = {str(record[key]): shown_path(record[key], base) for key in ("input", "output") if record.get(key)}

    def relative(text: str) -> str:  # a message that names the files as the record does
        for recorded, shown in paths.items():
            text = text.replace(recorded, shown)
        return text

    label = STATUS_LABELS.get(status, status)
    rows = [
        Row("Input", code=paths.get(source, "—")),
        Row("Output", code=paths.get(str(record.get("output")), "—")),
        Row("Status", STATUS_DETAILS.get(status, ""), strong=label),
    ]
    if record.get("error"):
        rows.append(Row("Error", error=relative(record["error"])))
    if status not in ("interrupted", "not started"):
        rows += _result_rows(record, batch, base)
    if record.get("note"):
        rows.append(Row("Note", record["note"]))
    if preview is not None and preview.note:
        rows.append(Row("Preview", relative(preview.note)))
    return {
        "index": index,
        "css": status.replace(" ", "-"),
        "label": label,
        "name": Path(source).name or source,
        "file_name": Path(source).name,
        "time": _seconds(record.get("seconds")),
        "rows": rows,
        "comparisons": preview.pages if preview is not None else [],
        "total_pages": preview.total_pages if preview is not None else 1,
    }


def _header(records: Sequence[Mapping], batch: Mapping, summary_file: str | None, base) -> dict[str, object]:
    """The page's header: when and how the batch ran, where its files are, its totals."""
    counts = _counts(records)
    meta: list[tuple[str, str | None]] = []
    if batch.get("started"):
        meta.append((f"started {batch['started']}", None))
    if batch.get("method"):
        meta.append((f"method {describe_method({}, batch, base)}", None))
    if batch.get("output"):
        meta.append(("output folder", shown_path(batch["output"], base)))
    if summary_file:
        meta.append(("made from the records of", shown_path(summary_file, base)))
    seconds = sum(r.get("seconds", 0) or 0 for r in records if isinstance(r.get("seconds"), (int, float)))
    return {
        "meta": meta,
        "totals": [
            (status.replace(" ", "-"), counts.get(status, 0), label)
            for status, label in STATUS_LABELS.items()
            if counts.get(status) or status in ("descreened", "failed")
        ],
        "seconds": _seconds(batch.get("seconds", seconds)),
        "interrupted": batch.get("interrupted"),
        "finished": counts["descreened"] + counts["copied"] + counts["exists"],
    }


@functools.cache
def _template() -> jinja2.Template:
    loader = jinja2.PackageLoader("deep_halftoning.batch", "templates")
    environment = jinja2.Environment(loader=loader, autoescape=True, undefined=jinja2.StrictUndefined)
    return environment.get_template("report.html.j2")


def render_report(
    records: Sequence[Mapping],
    previews: Sequence[Preview | None] | None = None,
    *,
    batch: Mapping | None = None,
    title: str = "Descreening report",
    summary_file: str | None = None,
    preview_side: int = PREVIEW_SIDE,
    base: str | os.PathLike | None = None,
) -> str:
    """The HTML page for ``records`` (the ``files`` of a descreen summary), with ``previews`` aligned to them.

    ``batch`` is the rest of the summary (``method``, ``checkpoint``/``variant``, ``started``, ``seconds``,
    ``output``, ``counts``, ``interrupted``); totals are counted from ``records``. Paths are shown relative
    to ``base`` (the page's folder), see :func:`shown_path`. Every text is escaped.
    """
    batch = batch or {}
    previews = list(previews or [])[: len(records)]
    previews += [None] * (len(records) - len(previews))
    entries = [_entry(i, r, p, batch, base) for i, (r, p) in enumerate(zip(records, previews, strict=True), 1)]
    return _template().render(
        title=title,
        csp=CSP,
        divider=DIVIDER_COLOUR,
        zooms=ZOOMS,
        size_text=_size_text,
        preview_side=preview_side,
        entries=entries,
        **_header(records, batch, summary_file, base),
    )


def is_preview(path: str | os.PathLike) -> bool:
    """Whether ``path`` is a preview that a report wrote beside itself (in a :func:`files_folder`)."""
    path = Path(path)
    return path.parent.name.endswith("_files") and bool(_FILE_PATTERN.match(path.name))


def files_folder(path: str | os.PathLike) -> Path:
    """Where the previews not embedded in the page at ``path`` go: ``<stem>_files`` beside it."""
    path = Path(path)
    return path.with_name(f"{path.stem}_files")


def write_report(
    path: str | os.PathLike,
    summary: Mapping,
    *,
    summary_file: str | None = None,
    max_side: int = PREVIEW_SIDE,
    embed_limit: int = EMBED_LIMIT,
    embed_total: int = EMBED_TOTAL,
    max_pages: int = MAX_PAGES,
) -> Path:
    """Write the report of a descreen ``summary`` (the dict written as ``descreen-summary.json``) to ``path``:
    previews first (those not embedded into :func:`files_folder`), then the page, atomically."""
    path = Path(path)
    if path.is_dir():
        raise ImageWriteError(f"{path}: is a directory, not a report file")
    records = list(summary.get("files", []))
    previews = collect_previews(
        records,
        files_folder(path),
        max_side=max_side,
        embed_limit=embed_limit,
        embed_total=embed_total,
        max_pages=max_pages,
    )
    batch = {k: v for k, v in summary.items() if k != "files"}
    page = render_report(
        records, previews, batch=batch, summary_file=summary_file, preview_side=max_side, base=path.parent
    )
    with atomic_output(path) as tmp:
        tmp.write_text(page, encoding="utf-8", errors="replace")
    return path
