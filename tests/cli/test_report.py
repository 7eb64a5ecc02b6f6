"""The before/after HTML report: render_report on synthetic records, write_report, and `descreen --report`."""

from __future__ import annotations

import html
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from deep_halftoning.batch.report import (
    Comparison,
    Preview,
    describe_analysis,
    files_folder,
    picture,
    render_report,
    write_report,
)
from deep_halftoning.cli import main
from deep_halftoning.halftone import halftone
from deep_halftoning.io import read_image, write_image, write_pages

VOID = {"meta", "img", "br", "hr", "link", "input", "source", "wbr", "col", "area", "base", "embed", "track"}
AWKWARD = "a <b> & c.png"  # a file name that must be escaped


class _Checker(HTMLParser):
    """Tags balanced (void elements aside), every attribute value recorded."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.attrs += [(tag, k, v or "") for k, v in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def _check(page: str) -> _Checker:
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    checker = _Checker()
    checker.feed(page)
    checker.close()
    assert not checker.errors and not checker.stack, (checker.errors, checker.stack)
    lowered = page.lower()
    assert "http://" not in lowered and "https://" not in lowered and "//" not in re.sub(r"data:[^\"]*", "", page)
    assert "<link" not in lowered and "@import" not in lowered and "url(" not in lowered
    assert not re.search(r"<script[^>]*\bsrc=", lowered)
    return checker


def _sources(checker: _Checker) -> list[str]:
    return [v for tag, k, v in checker.attrs if tag == "img" and k == "src"]


def _pattern(h: int, w: int, colours: tuple) -> np.ndarray:
    y, x = np.mgrid[:h, :w]
    return np.where((((x // 4) + (y // 4)) % 2 == 0)[..., None], *colours).astype(np.float32)


AM = {
    "kind": "am",
    "high_frequency_share": 0.31,
    "peak_ratio": 250.0,
    "screens": [
        {"frequency": 0.1667, "period": 6.0, "angle": 15.0, "strength": 1.0, "lpi": 100.0},
        {"frequency": 0.1667, "period": 6.0, "angle": 75.0, "strength": 0.9, "lpi": 100.0},
    ],
    "dpi": 600.0,
}
DISPERSED = {"kind": "dispersed", "high_frequency_share": 0.6, "peak_ratio": 3.0, "screens": [], "dpi": None}


def _records() -> list[dict]:
    return [
        {
            "input": f"scans/{AWKWARD}",
            "output": "out/a_descreened.png",
            "status": "descreened",
            "pages": 1,
            "analysis": [AM],
            "found": ["AM screen"],
            "seconds": 1.234,
            "method": "model",
            "model": {"checkpoint": "/pkg/assets/descreener/fidelity.ckpt", "variant": "fidelity"},
        },
        {
            "input": "scans/b&q.png",
            "output": "out/b&q_descreened.png",
            "status": "failed",
            "error": "scans/b&q.png: cannot decode (<truncated>); the file is corrupt or truncated",
            "seconds": 0.05,
        },
    ]


def test_render_report_shows_both_images_the_analysis_model_times_and_escapes_names():
    before = picture(_pattern(24, 32, ((1, 0, 0), (1, 1, 0))))
    after = picture(_pattern(24, 32, ((0, 0, 1), (0, 1, 1))))
    previews = [Preview([Comparison(1, before, after)]), Preview(note="No preview: <unreadable>")]
    batch = {"method": "model", "checkpoint": "x.ckpt", "variant": "fidelity", "seconds": 1.5, "started": "today"}
    page = render_report(_records(), previews, batch=batch)
    checker = _check(page)

    assert _sources(checker) == [before.src, after.src]  # both embedded, in order: before under after
    assert all(src.startswith("data:image/png;base64,") for src in _sources(checker))
    sliders = [v for tag, k, v in checker.attrs if k == "role" and v == "slider"]
    assert len(sliders) == 1 and 'aria-valuenow="50"' in page and 'tabindex="0"' in page
    assert "ArrowLeft" in page and "ArrowRight" in page and ">1:1</button>" in page  # keys and the zoom
    text = " ".join(checker.text)
    assert "AM screen, 2 screens: 100 lpi (period 6.00 px) at 15.0°; 100 lpi (period 6.00 px) at 75.0°" in text
    assert "scan at 600 dpi" in text
    assert "model: the shipped fidelity descreener (/pkg/assets/descreener/fidelity.ckpt)" in text
    assert "1.23 s" in text and "0.05 s" in text and "1.50 s in all" in text
    assert "failed" in text and "cannot decode (<truncated>)" in text  # the error, unescaped once parsed
    assert AWKWARD in text and "b&q.png" in text
    assert AWKWARD not in page and "a &lt;b&gt; &amp; c.png" in page and "<truncated>" not in page
    assert "No preview: &lt;unreadable&gt;" in page
    assert "2048 px on the long side" in text  # the page says how previews are made
    totals = re.search(r'<ul class="totals">(.*?)</ul>', page).group(1)
    assert "<b>2</b> files" in totals and "<b>1</b> descreened" in totals and "<b>1</b> failed" in totals


def test_describe_analysis_names_every_kind():
    assert describe_analysis(DISPERSED) == "dispersed dots (error diffusion or dither)"
    assert describe_analysis({"kind": "continuous"}).startswith("continuous tone")
    assert describe_analysis(None).startswith("not analysed")
    no_dpi = {**AM, "dpi": None, "screens": [{**AM["screens"][0], "lpi": None}]}
    assert describe_analysis(no_dpi) == "AM screen, 1 screen: 0.1667 cycles/px (period 6.00 px) at 15.0°"


def test_multi_page_records_show_each_page_and_differing_analyses():
    pic = picture(np.full((8, 8), 0.5, np.float32))
    record = {**_records()[0], "pages": 3, "analysis": [AM, DISPERSED, AM]}
    preview = Preview([Comparison(n, pic, pic) for n in (1, 2)], "Pages 1–2 of 3 are shown", total_pages=3)
    page = render_report([record], [preview])
    checker = _check(page)
    assert len(_sources(checker)) == 4 and "page 1 of 3" in page and "page 2 of 3" in page
    assert "page 2: dispersed dots" in page and "Pages 1–2 of 3 are shown" in page


def _halftone_file(path: Path, size: int = 64, seed: int = 0, am: bool = False) -> Path:
    """A small scan: Floyd-Steinberg (found as dispersed dots even at 64 px) or an AM screen, 150 lpi at 600 dpi."""
    import cv2

    rng = np.random.default_rng(seed)
    clean = np.clip(cv2.resize(rng.random((4, 5, 3), dtype=np.float32), (size, size), cv2.INTER_CUBIC), 0.2, 0.8)
    screened = halftone(clean, "am-cmyk", lpi=150, dpi=600) if am else halftone(clean, "floyd-steinberg")
    return write_image(path, screened.image)


def test_write_report_embeds_small_previews_and_puts_large_ones_beside_the_page(tmp_path):
    source = _halftone_file(tmp_path / AWKWARD, size=80, am=True)
    output = write_image(tmp_path / "out.png", read_image(source) * 0.5)
    tiff = write_pages(tmp_path / "pages.tif", [np.full((40, 40), v, np.float32) for v in (0.2, 0.5, 0.8)])
    tiff_out = write_pages(tmp_path / "pages_out.tif", [np.full((40, 40), v, np.float32) for v in (0.3, 0.6, 0.9)])
    summary = {
        "method": "fft",
        "files": [
            {"input": str(source), "output": str(output), "status": "descreened", "seconds": 0.2, "method": "fft"},
            {"input": str(tiff), "output": str(tiff_out), "status": "descreened", "pages": 3, "seconds": 0.1},
            {"input": str(tmp_path / "gone.png"), "output": str(tmp_path / "x.png"), "status": "not started"},
        ],
    }
    report = tmp_path / "r.html"
    write_report(report, summary, max_side=64, embed_limit=0, max_pages=2)  # nothing embedded
    page = report.read_text(encoding="utf-8")
    sources = _sources(_check(page))
    beside = files_folder(report)
    assert beside == tmp_path / "r_files" and len(sources) == 6  # 1 + 2 pages, before and after
    assert all(src.startswith("r_files/") for src in sources)
    assert sorted(p.name for p in beside.iterdir()) == sorted(src.removeprefix("r_files/") for src in sources)
    assert read_image(beside / "0001-p1-before.png").shape == (64, 64, 3)  # 80 px downscaled to 64
    assert "downscaled for this page from 80×80" in page
    assert "Pages 1–2 of 3 are shown" in page and "page 2 of 3" in page
    assert not list(tmp_path.glob(".*.tmp"))  # atomic: no temporary files left

    write_report(report, summary)  # small enough now: all embedded, the folder tidied away
    sources = _sources(_check(report.read_text(encoding="utf-8")))
    assert len(sources) == 8 and all(src.startswith("data:image/png;base64,") for src in sources)
    assert not beside.exists()


# ----------------------------------------------------------------------------- through the CLI


def _agrees(page: str, summary: dict, folder: Path) -> None:
    """Every record of the summary is on the page (the report in ``folder``): file, status, what was found, time;
    paths relative to the page."""
    from deep_halftoning.batch.report import STATUS_LABELS

    checker = _check(page)
    text = " ".join(checker.text)
    assert str(folder) not in text  # no absolute paths
    for record in summary["files"]:
        output = Path(record["output"]).relative_to(folder).as_posix()
        assert Path(record["input"]).name in text and f"Output {output}" in text
        assert STATUS_LABELS[record["status"]] in text
        if isinstance(record.get("seconds"), float):
            assert f"{record['seconds']:.2f} s" in text
        for analysis in record.get("analysis") or []:
            assert describe_analysis(analysis) in text
    counts = summary["counts"]
    totals = re.search(r'<ul class="totals">(.*?)</ul>', page).group(1)
    assert f"<b>{counts['total']}</b> file" in totals and f"<b>{counts['descreened']}</b> descreened" in totals


def test_descreen_report_agrees_with_the_summary(tmp_path, capsys):
    scans = tmp_path / "scans"
    first = _halftone_file(scans / AWKWARD, am=True)
    second = _halftone_file(scans / "two.png", seed=1)
    flat = write_image(scans / "flat.png", np.full((64, 64, 3), 0.5, np.float32))  # continuous tone
    pages = [read_image(_halftone_file(tmp_path / f"p{i}.png", seed=i)) for i in range(2)]
    tiff = write_pages(scans / "pages.tif", pages)
    bad = scans / "bad.png"
    bad.write_bytes(b"not a PNG")
    inputs = [str(p) for p in (first, second, flat, tiff, bad)]
    out, report = tmp_path / "out", tmp_path / "r.html"
    assert main(["descreen", *inputs, "-o", str(out), "--method", "fft", "--report", str(report)]) == 2  # bad.png
    assert f"report in {report}" in capsys.readouterr().err
    summary = json.loads((out / "descreen-summary.json").read_text())
    page = report.read_text(encoding="utf-8")
    _agrees(page, summary, tmp_path)
    assert [r["status"] for r in summary["files"]][1:] == ["descreened", "copied", "descreened", "failed"]
    assert "passed through" in page and "fft (classical filter)" in page
    assert "scans/bad.png: not an image file" in page  # the failure's one-line error, naming the file relatively
    assert "page 1 of 2" in page and "page 2 of 2" in page  # the TIFF: one slider per page
    assert html.escape(f"scans/{AWKWARD}") in page and AWKWARD not in page
    sources = _sources(_check(page))
    assert len(sources) == 10 and all(s.startswith("data:image/png;base64,") for s in sources)  # 64 px: embedded
    assert "made from the records of <code>out/descreen-summary.json</code>" in page


def test_descreen_report_lists_skipped_files(tmp_path):
    scans = [_halftone_file(tmp_path / f"s{i}.png", seed=i) for i in range(2)]
    out, report = tmp_path / "out", tmp_path / "r.html"
    assert main(["descreen", str(scans[0]), "-o", str(out), "--method", "gaussian", "-q"]) == 0
    argv = ["descreen", *map(str, scans), "-o", str(out), "--method", "gaussian", "--skip-existing"]
    assert main([*argv, "--report", str(report), "-q"]) == 0
    summary = json.loads((out / "descreen-summary.json").read_text())
    page = report.read_text(encoding="utf-8")
    _agrees(page, summary, tmp_path)
    assert "<b>1</b> skipped" in page and "--skip-existing" in page and "the earlier run" in page
    assert len(_sources(_check(page))) == 4  # the skipped file's existing output is shown too


def test_descreen_report_is_written_after_ctrl_c(tmp_path, capsys, interrupt_second_file):
    scans = [str(_halftone_file(tmp_path / f"s{i}.png", seed=i)) for i in range(3)]
    out, report = tmp_path / "out", tmp_path / "r.html"
    assert main(["descreen", *scans, "-o", str(out), "--method", "gaussian", "--report", str(report)]) == 130
    assert "Traceback" not in capsys.readouterr().err
    summary = json.loads((out / "descreen-summary.json").read_text())
    page = report.read_text(encoding="utf-8")
    _agrees(page, summary, tmp_path)
    assert "Interrupted (Ctrl-C): 1 of 3 file(s) finished" in page
    assert "interrupted" in page and "not started" in page
    assert len(_sources(_check(page))) == 2  # only the finished file has images


@pytest.mark.parametrize("where", ["input", "summary"])
def test_a_report_that_would_replace_a_file_of_the_batch_is_refused(tmp_path, capsys, where):
    scan = _halftone_file(tmp_path / "s.png")
    before = scan.read_bytes()
    out = tmp_path / "out"
    target = scan if where == "input" else out / "descreen-summary.json"
    assert main(["descreen", str(scan), "-o", str(out), "--method", "fft", "--report", str(target)]) == 2
    err = capsys.readouterr().err.strip()
    assert "--report" in err and "\n" not in err
    assert scan.read_bytes() == before and not out.exists()


# ----------------------------------------------------------------------------- zoom, fit without moire, paths


def _decoded(src: str) -> np.ndarray:
    import base64

    import cv2

    data = cv2.imdecode(np.frombuffer(base64.b64decode(src.split(",", 1)[1]), np.uint8), cv2.IMREAD_UNCHANGED)
    return data.astype(np.float32) / 255


def test_fit_to_window_shows_smooth_reductions_so_a_screen_makes_no_moire():
    import cv2

    tint = halftone(np.full((256, 1024), 0.5, np.float32), "am-cmyk", mode="gray", lpi=85, dpi=300, angles=(0,) * 4)
    pic = picture(tint.image)  # a 3.5 px screen at 0 degrees
    assert [w for w, _ in pic.levels] == [724, 512, 362, 256]  # 2**(-k/2) of 1024, down to 256

    def beats(image: np.ndarray) -> float:  # low-frequency ripple: moire, not the dots
        return float(cv2.GaussianBlur(image, (0, 0), 4)[12:-12, 12:-12].std())

    worst_browser = 0.0
    for display in (700, 300):  # screen pixels the window gives the image
        size = (display, round(256 * display / 1024))
        width, src = next((w, s) for w, s in pic.levels if w <= display)  # what the page's script picks
        shown = cv2.resize(_decoded(src), size, interpolation=cv2.INTER_LINEAR)  # the browser only enlarges
        assert abs(shown.mean() - 0.5) < 0.02 and beats(shown) < 0.005
        worst_browser = max(worst_browser, beats(cv2.resize(tint.image, size, interpolation=cv2.INTER_LINEAR)))
    assert worst_browser > 0.1  # the preview itself, shrunk by the browser: strong moire


def test_zoom_buttons_and_pixelated_enlargement():
    pic = picture(_pattern(300, 600, ((1, 0, 0), (1, 1, 0))))
    page = render_report(_records()[:1], [Preview([Comparison(1, pic, pic)])])
    checker = _check(page)
    zooms = [v for tag, k, v in checker.attrs if tag == "button" and k == "data-zoom"]
    assert zooms == ["fit", "1", "2", "4"] and ">2×</button>" in page and ">4×</button>" in page
    assert ".compare.zoomed .stage img{image-rendering:pixelated}" in page
    levels = [json.loads(v) for tag, k, v in checker.attrs if tag == "img" and k == "data-levels"]
    assert levels == [[list(level) for level in pic.levels]] * 2 and [w for w, _ in pic.levels] == [424, 300]


def test_paths_on_the_page_are_relative_to_it(tmp_path):
    from deep_halftoning.batch.report import shown_path
    from deep_halftoning.inference import shipped_checkpoint

    scan = _halftone_file(tmp_path / "scans" / "s.png")
    out = write_image(tmp_path / "out" / "s_descreened.png", read_image(scan))
    record = {"input": str(scan), "output": str(out), "status": "descreened", "method": "model", "seconds": 1.0}
    record["model"] = {"checkpoint": str(shipped_checkpoint()), "variant": "fidelity"}
    summary = {"method": "model", "output": str(tmp_path / "out"), "files": [record]}
    page = write_report(tmp_path / "reports" / "r.html", summary, summary_file=str(tmp_path / "out" / "s.json"))
    text = page.read_text(encoding="utf-8")
    assert str(tmp_path) not in text and str(shipped_checkpoint().parent) not in text
    assert "<code>../scans/s.png</code>" in text and "<code>../out/s_descreened.png</code>" in text
    assert "the shipped fidelity descreener (deep_halftoning/assets/descreener/fidelity.ckpt)" in text
    assert "records of <code>../out/s.json</code>" in text and "output folder <code>../out</code>" in text
    assert shown_path("x/y.png") == "x/y.png"  # no page: as recorded


def test_a_preset_screen_that_stood_in_is_named():
    record = {**_records()[0], "method": "gaussian", "pages": 2, "analysis": [AM, DISPERSED]}
    record["assumed_screen"] = {"preset": "newspaper", "lpi": 85.0, "dpi": 300.0, "period": 3.5294, "pages": [2]}
    text = " ".join(_check(render_report([record])).text)
    assert "page(s) 2: the newspaper preset's 85 lpi screen (period 3.5 px at 300 dpi)" in text


def test_the_screen_scale_coarse_net_ran_at_is_said():
    record = {**_records()[0], "pages": 2, "analysis": [AM, AM]}
    record["screen_scale"] = [{"factor": 0.5, "period": 8.0, "reason": "AM screen of 8.00 px"}, None]
    text = " ".join(_check(render_report([record])).text)
    assert "CoarseNet at 0.50x (AM screen of 8.00 px)" in text
    record["screen_scale"] = [{"factor": 1.0, "period": None, "reason": "off"}]
    assert "CoarseNet at" not in " ".join(_check(render_report([record])).text)


def test_a_name_with_markup_is_escaped_everywhere_on_the_page(tmp_path):
    name = '<b>&"x.png'
    scan = _halftone_file(tmp_path / name, am=True)
    out, report = tmp_path / "out", tmp_path / "r.html"
    assert main(["descreen", str(scan), "-o", str(out), "--method", "gaussian", "--report", str(report), "-q"]) == 0
    page = report.read_text(encoding="utf-8")
    checker = _check(page)
    assert name not in page and "<b>&" not in page and "&lt;b&gt;&amp;&#34;x.png" in page
    assert not any(tag == "b" and k == "class" for tag, k, _ in checker.attrs)
    assert name in " ".join(checker.text)  # the name itself, once parsed: in the heading and the index
    alts = [v for tag, k, v in checker.attrs if tag == "img" and k == "alt"]
    assert alts == [f"before: {name} (input)", f"after: {name} (output)"]  # attributes hold it whole
