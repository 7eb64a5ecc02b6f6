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
import html
import itertools
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import cv2
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
        """Remove previews an earlier report left in the folder that this one no longer uses."""
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
    into ``folder`` (named ``NNNN-pP-before.png`` / ``-after.png``; earlier ones no longer used are removed).
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


# ----------------------------------------------------------------------------- text


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _found_html(record: Mapping) -> str:
    analyses = record.get("analysis")
    if not analyses:
        return "—"
    texts = [describe_analysis(a) for a in analyses]
    if len(set(texts)) == 1:
        extra = measures(analyses[0])
        pages = f" (all {len(texts)} pages)" if len(texts) > 1 else ""
        return f"{_e(texts[0])}{_e(pages)}" + (f' <span class="muted">({_e(extra)})</span>' if extra else "")
    items = "".join(
        f"<li>page {n}: {_e(text)}"
        + (f' <span class="muted">({_e(measures(a))})</span>' if measures(a) else "")
        + "</li>"
        for n, (text, a) in enumerate(zip(texts, analyses, strict=True), 1)
    )
    return f'<ul class="pages">{items}</ul>'


_PACKAGE = Path(os.path.realpath(Path(__file__).parents[1]))


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


# ----------------------------------------------------------------------------- the page

STYLE = """
:root{color-scheme:light;--divider:%(divider)s}
*{box-sizing:border-box}
body{margin:0;padding:12px 20px 40px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1b1b;
background:#f4f4f2}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:16px;margin:0 0 6px;overflow-wrap:anywhere}
code{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;overflow-wrap:anywhere}
.muted{color:#666}
header{margin-bottom:12px}
.totals{display:flex;flex-wrap:wrap;gap:6px;list-style:none;margin:6px 0;padding:0}
.totals li{padding:2px 8px;border-radius:10px;background:#e3e3df}
.banner{background:#fff3cd;border:1px solid #e0c060;padding:4px 8px;margin:6px 0}
.badge{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600;vertical-align:2px;
margin-right:6px;background:#ddd}
.s-descreened{background:#cdeccd}.s-copied{background:#d6e4f5}.s-exists{background:#e6e0f2}
.s-failed{background:#f6c9c9}.s-interrupted,.s-not-started{background:#f3e2b8}
.entry{background:#fff;border:1px solid #ddd;border-radius:6px;padding:10px 12px;margin:0 0 14px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:1px 12px;margin:0 0 8px}
dt{color:#555}dd{margin:0}
ul.pages{margin:0;padding-left:18px}
.error{color:#9b1c1c;font-weight:600}
figure.compare{margin:8px 0 0}
.tools{display:flex;gap:10px;align-items:center;margin:0 0 4px;font-size:12px}
.tools button{font:inherit;padding:2px 8px}
.viewport{max-width:100%%}
.compare.zoomed .viewport{overflow:auto;max-height:85vh;border:1px solid #ccc}
.stage{position:relative;width:min(100%%,var(--w),calc(80vh * var(--ar)));user-select:none;-webkit-user-select:none;
touch-action:pan-y;cursor:ew-resize;background:#fff}
.compare.zoomed .stage{max-width:none}
.stage img{display:block;width:100%%;height:auto;-webkit-user-drag:none;pointer-events:none}
.stage img.after{position:absolute;left:0;top:0;height:100%%;clip-path:inset(0 0 0 var(--pos))}
.compare.zoomed .stage img{image-rendering:pixelated}
.tools button[aria-pressed="true"]{font-weight:700;background:#333;color:#fff;border:1px solid #333}
.divider{position:absolute;top:0;bottom:0;left:var(--pos);width:4px;margin-left:-2px;background:var(--divider);
outline:none}
.divider .grip{position:absolute;top:50%%;left:50%%;width:20px;height:20px;margin:-10px 0 0 -10px;border-radius:50%%;
background:var(--divider);box-shadow:0 0 0 2px #fff}
.divider:focus-visible .grip{box-shadow:0 0 0 2px #fff,0 0 0 5px #111}
.label{position:absolute;top:4px;padding:0 5px;font-size:11px;background:rgba(0,0,0,.6);color:#fff;border-radius:3px;
pointer-events:none}
.label.left{left:4px}.label.right{right:4px}
.compare.small .label{display:none}
.single img{display:block;max-width:100%%;height:auto}
figcaption{font-size:12px;color:#555;margin-top:3px}
details{margin:6px 0}
table{border-collapse:collapse;font-size:12px}
td,th{padding:1px 8px;text-align:left;border-bottom:1px solid #ddd}
"""

SCRIPT = """
(function () {
  "use strict";
  function setPos(stage, value) {
    value = Math.max(0, Math.min(100, value));
    stage.dataset.pos = String(value);
    stage.style.setProperty("--pos", value + "%");
    var divider = stage.querySelector(".divider");
    divider.setAttribute("aria-valuenow", String(Math.round(value)));
    divider.setAttribute("aria-valuetext", Math.round(value) + "% input (before), " +
      Math.round(100 - value) + "% output (after)");
  }
  var keys = {ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10};
  document.querySelectorAll(".stage").forEach(function (stage) {
    var divider = stage.querySelector(".divider");
    var dragging = false;
    setPos(stage, 50);
    function follow(event) {
      var box = stage.getBoundingClientRect();
      if (box.width > 0) setPos(stage, (event.clientX - box.left) / box.width * 100);
    }
    stage.addEventListener("pointerdown", function (event) {
      if (event.button !== 0) return;
      dragging = true;
      stage.setPointerCapture(event.pointerId);
      follow(event);
      divider.focus({preventScroll: true});
      event.preventDefault();
    });
    stage.addEventListener("pointermove", function (event) { if (dragging) follow(event); });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach(function (name) {
      stage.addEventListener(name, function () { dragging = false; });
    });
    divider.addEventListener("keydown", function (event) {
      var pos = parseFloat(stage.dataset.pos || "50");
      var next;
      if (event.key === "Home") next = 0;
      else if (event.key === "End") next = 100;
      else if (event.key in keys) next = pos + keys[event.key] * (event.shiftKey ? 10 : 1);
      else return;
      event.preventDefault();
      setPos(stage, next);
    });
  });
  function show(figure, zoom) {
    var stage = figure.querySelector(".stage");
    var width = parseInt(figure.dataset.width, 10);
    var ratio = window.devicePixelRatio || 1;
    figure.dataset.zoom = zoom;
    figure.classList.toggle("fit", zoom === "fit");
    figure.classList.toggle("zoomed", zoom !== "fit");
    stage.style.width = zoom === "fit" ? "" : (width * Number(zoom) / ratio) + "px";
    figure.querySelectorAll("button.zoom").forEach(function (button) {
      button.setAttribute("aria-pressed", String(button.dataset.zoom === zoom));
    });
    var device = stage.getBoundingClientRect().width * ratio;
    figure.querySelectorAll(".stage img").forEach(function (img) {
      var src = img.fullSource;
      if (zoom === "fit" && device < width) {
        for (var i = 0; i < img.levels.length; i++) {
          src = img.levels[i][1];
          if (img.levels[i][0] <= device) break;
        }
      }
      if (img.getAttribute("src") !== src) img.setAttribute("src", src);
    });
  }
  var figures = document.querySelectorAll("figure.compare");
  figures.forEach(function (figure) {
    figure.querySelectorAll(".stage img").forEach(function (img) {
      img.fullSource = img.getAttribute("src");
      img.levels = JSON.parse(img.dataset.levels || "[]");
    });
    figure.querySelectorAll("button.zoom").forEach(function (button) {
      button.addEventListener("click", function () { show(figure, button.dataset.zoom); });
    });
    show(figure, "fit");
  });
  window.addEventListener("resize", function () {
    figures.forEach(function (figure) { if (figure.dataset.zoom === "fit") show(figure, "fit"); });
  });
})();
"""

CSP = "default-src 'none'; img-src data: 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'"


def _size_text(pic: Picture) -> str:
    text = f"{pic.width}×{pic.height} px"
    if pic.downscaled:
        text += f", downscaled for this page from {pic.full_width}×{pic.full_height} (1:1 shows the preview's pixels)"
    return text


_ZOOM_BUTTONS = (
    '<button type="button" class="zoom" data-zoom="fit" aria-pressed="true" title="Fit to window: both halves '
    'reduced smoothly (no moire from scaling the screen)">Fit</button>'
    + "".join(
        f'<button type="button" class="zoom" data-zoom="{z}" aria-pressed="false" title="{z} screen pixel'
        f'{"s" if z > 1 else ""} per preview pixel, not smoothed">{"1:1" if z == 1 else f"{z}×"}</button>'
        for z in ZOOMS
    )
)


def _levels(pic: Picture) -> str:
    """The ``data-levels`` attribute (JSON ``[[width, src], ...]``) of a picture with smooth reductions."""
    return f' data-levels="{_e(json.dumps([list(level) for level in pic.levels]))}"' if pic.levels else ""


def _comparison_html(comparison: Comparison, pages: int, label: str) -> str:
    before, after = comparison.before, comparison.after
    page = f"page {comparison.page} of {pages} · " if pages > 1 else ""
    if before is not None and after is not None:
        w, h = before.width, before.height
        return (
            f'<figure class="compare fit{" small" if w < 160 else ""}" data-width="{w}" '
            f'style="--w:{w}px;--ar:{w / h:.6f}">'
            f'<div class="tools"><span role="group" aria-label="Zoom">{_ZOOM_BUTTONS}</span>'
            f"<span>{_e(page + _size_text(before))}</span></div>"
            f'<div class="viewport"><div class="stage" style="--pos:50%">'
            f'<img class="before" src="{_e(before.src)}"{_levels(before)} width="{w}" height="{h}" '
            f'alt="before: {_e(label)} (input)">'
            f'<img class="after" src="{_e(after.src)}"{_levels(after)} width="{w}" height="{h}" '
            f'alt="after: {_e(label)} (output)">'
            f'<div class="divider" role="slider" tabindex="0" aria-orientation="horizontal" '
            f'aria-label="Before/after divider for {_e(label)}" aria-valuemin="0" aria-valuemax="100" '
            f'aria-valuenow="50" aria-valuetext="50% input (before), 50% output (after)">'
            f'<span class="grip"></span></div>'
            f'<span class="label left">before</span><span class="label right">after</span>'
            f"</div></div>"
            f"<figcaption>Left of the divider: the input scan; right: the output. Drag it, or focus it (Tab) "
            f"and use the arrow keys (Shift: 10 %, Home/End: the edges).</figcaption></figure>"
        )
    only = before or after
    if only is None:
        return ""
    which = "input (before)" if before is not None else "output (after)"
    return (
        f'<figure class="single"><img src="{_e(only.src)}" width="{only.width}" height="{only.height}" '
        f'alt="{_e(label)}: {which}"><figcaption>{_e(page)}the {which} only · {_e(_size_text(only))}'
        f"</figcaption></figure>"
    )


def _entry_html(
    index: int, record: Mapping, preview: Preview | None, batch: Mapping, base: str | os.PathLike | None
) -> str:
    status = record.get("status", "not started")
    label = STATUS_LABELS.get(status, status)
    source = str(record.get("input", ""))
    name = Path(source).name or source
    earlier = record.get("earlier") if status == "exists" else None
    basis = earlier or record
    paths = {str(record[key]): shown_path(record[key], base) for key in ("input", "output") if record.get(key)}

    def relative(text: str) -> str:  # a message that names the files as the record does
        for recorded, shown in paths.items():
            text = text.replace(recorded, shown)
        return text

    rows = [
        ("Input", f"<code>{_e(paths.get(source, '—'))}</code>"),
        ("Output", f"<code>{_e(paths.get(str(record.get('output')), '—'))}</code>"),
    ]
    detail = STATUS_DETAILS.get(status)
    status_html = f'<span class="badge s-{_e(status.replace(" ", "-"))}">{_e(label)}</span>'
    rows.append(("Status", f"<b>{_e(label)}</b>" + (f" — {_e(detail)}" if detail else "")))
    if record.get("error"):
        rows.append(("Error", f'<span class="error">{_e(relative(record["error"]))}</span>'))
    if status not in ("interrupted", "not started"):
        earlier_note = ' <span class="muted">(the earlier run\'s)</span>' if earlier else ""
        if basis.get("analysis"):
            rows.append(("Found", _found_html(basis) + earlier_note))
        assumed = basis.get("assumed_screen")
        if assumed:
            where = f"page(s) {', '.join(map(str, assumed['pages']))}: " if (basis.get("pages") or 1) > 1 else ""
            rows.append(
                (
                    "Screen",
                    _e(
                        f"{where}the {assumed['preset']} preset's {assumed['lpi']:g} lpi screen (period "
                        f"{assumed['period']:.1f} px at {assumed['dpi']:g} dpi), where the analysis found none "
                        "(--preset)"
                    )
                    + earlier_note,
                )
            )
        if status != "exists" or earlier:
            rows.append(("Method", _e(describe_method(basis, batch, base)) + earlier_note))
        if (basis.get("pages") or 1) > 1:
            rows.append(("Pages", _e(basis["pages"])))
        if basis.get("kept_unchanged") and basis.get("status") == "descreened":
            kept = ", ".join(map(str, basis["kept_unchanged"]))
            rows.append(("Kept", _e(f"page(s) {kept}: continuous tone, written unchanged")))
        if status == "exists":
            took = f"; the earlier run took {_e(_seconds(earlier.get('seconds')))}" if earlier else ""
            rows.append(("Time", f"— (skipped){took}"))
        else:
            rows.append(("Time", _e(_seconds(record.get("seconds")))))
    if record.get("note"):
        rows.append(("Note", _e(record["note"])))
    if preview is not None and preview.note:
        rows.append(("Preview", _e(relative(preview.note))))
    listing = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    figures = ""
    if preview is not None:
        figures = "".join(_comparison_html(c, preview.total_pages, name) for c in preview.pages)
    return f'<section class="entry" id="f{index}"><h2>{status_html}{_e(name)}</h2><dl>{listing}</dl>{figures}</section>'


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
    counts = _counts(records)
    seconds_files = sum(r.get("seconds", 0) or 0 for r in records if isinstance(r.get("seconds"), (int, float)))
    totals = [f"<li><b>{len(records)}</b> file{'s' if len(records) != 1 else ''}</li>"]
    for status, label in STATUS_LABELS.items():
        if counts.get(status) or status in ("descreened", "failed"):
            totals.append(f'<li class="s-{status.replace(" ", "-")}"><b>{counts.get(status, 0)}</b> {_e(label)}</li>')
    totals.append(f"<li>{_e(_seconds(batch.get('seconds', seconds_files)))} in all</li>")
    meta = []
    if batch.get("started"):
        meta.append(f"started {_e(batch['started'])}")
    if batch.get("method"):
        meta.append(f"method {_e(describe_method({}, batch, base))}")
    if batch.get("output"):
        meta.append(f"output folder <code>{_e(shown_path(batch['output'], base))}</code>")
    if summary_file:
        meta.append(f"made from the records of <code>{_e(shown_path(summary_file, base))}</code>")
    banner = ""
    if batch.get("interrupted"):
        finished = counts["descreened"] + counts["copied"] + counts["exists"]
        banner = (
            f'<p class="banner">Interrupted (Ctrl-C): {finished} of {len(records)} file(s) finished; '
            "rerun with --skip-existing to resume.</p>"
        )
    index_rows = "".join(
        f'<tr><td><a href="#f{i}">{i}</a></td><td>{_e(Path(str(r.get("input", ""))).name)}</td>'
        f"<td>{_e(STATUS_LABELS.get(r.get('status', ''), r.get('status', '')))}</td>"
        f"<td>{_e(_seconds(r.get('seconds')))}</td></tr>"
        for i, r in enumerate(records, 1)
    )
    entries = "".join(
        _entry_html(i, r, p, batch, base) for i, (r, p) in enumerate(zip(records, previews, strict=True), 1)
    )
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{STYLE % {'divider': DIVIDER_COLOUR}}</style></head>\n<body>"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="muted">{"; ".join(meta)}</p>'
        f'<ul class="totals">{"".join(totals)}</ul>{banner}'
        f'<p class="muted">Previews are at most {preview_side} px on the long side: smaller images are shown '
        "with all their pixels, larger ones are downscaled for this page (each says so), so 1:1, 2× and 4× "
        "then show the preview's pixels, not the file's. “Fit” shows both halves reduced smoothly, so the "
        "browser's scaling adds no moiré; zoom in to see the dots. Paths are relative to this page. "
        "The page loads nothing from the network.</p>"
        f"<details><summary>All files ({len(records)})</summary><table><thead><tr><th>#</th><th>file</th>"
        f"<th>status</th><th>time</th></tr></thead><tbody>{index_rows}</tbody></table></details></header>\n"
        f"<main>{entries}</main>\n<script>{SCRIPT}</script></body></html>\n"
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
