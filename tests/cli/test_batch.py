"""The batch engine from Python: the same files and summary as the command line, and its guarantees."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from deep_halftoning.batch import (
    BatchError,
    FileDone,
    HalftoneSettings,
    ModelOptions,
    Note,
    Planned,
    ProgressPrinter,
    descreen_files,
    rescreen_file,
)
from deep_halftoning.cli import main
from deep_halftoning.halftone import halftone
from deep_halftoning.io import write_image


@pytest.fixture
def scans(tmp_path) -> Path:
    """Two folders: an AM scan and a Floyd-Steinberg one with the same stem, a continuous-tone photo."""
    import cv2

    clean = np.clip(cv2.resize(np.random.default_rng(0).random((4, 5, 3), np.float32), (96, 96)), 0.2, 0.8)
    root = tmp_path / "scans"
    write_image(root / "a" / "page.png", halftone(clean, "am-cmyk", lpi=100, dpi=600).image)
    write_image(root / "a" / "page.jpg", halftone(clean, "floyd-steinberg").image)
    write_image(root / "b" / "photo.png", np.tile(np.linspace(0.2, 0.8, 96, dtype=np.float32), (96, 1)))
    return root


def _without_timings(summary: dict, out: Path) -> dict:
    """The summary with its times left out and the output folder named ``OUT``."""
    text = json.dumps({k: v for k, v in summary.items() if k not in ("started", "seconds")})
    plain = json.loads(text.replace(str(out), "OUT"))
    for record in plain["files"]:
        record.pop("seconds", None)
    return plain


def test_python_and_command_line_write_the_same_files_and_summary(scans, tmp_path, capsys):
    cli_out, py_out = tmp_path / "cli", tmp_path / "py"
    assert main(["descreen", str(scans), "-r", "-o", str(cli_out), "--method", "gaussian", "-q"]) == 0
    events = []
    summary = descreen_files([scans], py_out, recursive=True, method="gaussian", progress=events.append)

    files = sorted(p.relative_to(cli_out) for p in cli_out.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(py_out) for p in py_out.rglob("*") if p.is_file())
    assert len(files) == 4  # three outputs (page.png renamed beside page.jpg) and the summary
    for name in files:
        if name.suffix == ".png":
            assert (cli_out / name).read_bytes() == (py_out / name).read_bytes(), name
    written = {out: json.loads((out / "descreen-summary.json").read_text()) for out in (cli_out, py_out)}
    assert _without_timings(written[cli_out], cli_out) == _without_timings(written[py_out], py_out)
    assert _without_timings(summary.to_dict(), py_out) == _without_timings(written[py_out], py_out)

    assert summary.counts == {"descreened": 2, "copied": 1, "exists": 0, "failed": 0, "total": 3}
    assert [r.status for r in summary.files] == ["descreened", "descreened", "copied"]
    assert summary.summary_file == py_out / "descreen-summary.json" and not summary.interrupted
    kinds = [type(e) for e in events]
    assert kinds.index(Planned) < kinds.index(FileDone) and kinds.count(FileDone) == 3
    assert any(isinstance(e, Note) and e.important and "page_png_descreened" in e.text for e in events)


def test_the_progress_printer_prints_what_the_command_line_does(scans, tmp_path, capsys):
    def lines(out: Path) -> list[str]:
        err = capsys.readouterr().err.replace(str(out), "OUT")
        return [re.sub(r"[0-9.]+ s\)$", "T s)", line) for line in err.splitlines()]

    assert main(["descreen", str(scans), "-r", "-o", str(tmp_path / "cli"), "--method", "gaussian"]) == 0
    printed = lines(tmp_path / "cli")
    with ProgressPrinter() as progress:
        descreen_files([scans], tmp_path / "py", recursive=True, method="gaussian", progress=progress)
    assert lines(tmp_path / "py") == printed[:-1]  # all but the totals, which are the command's
    assert len(printed) == 6 and printed[-2].startswith("[3/3] ")
    with ProgressPrinter(quiet=True) as progress:
        descreen_files([scans], tmp_path / "quiet", recursive=True, method="gaussian", progress=progress)
    quiet = lines(tmp_path / "quiet")  # the important note (a renamed output) and the warning only
    assert set(quiet) < set(printed) and [line.split(":")[0] for line in quiet] == ["note", "[3/3] warning"]


def test_python_keeps_the_guarantees(scans, tmp_path, interrupt_second_file):
    with pytest.raises(BatchError, match="is a folder; add -r"):
        descreen_files([scans], tmp_path / "out", method="gaussian")
    with pytest.raises(BatchError, match="would overwrite the input"):
        descreen_files([scans / "b" / "photo.png"], scans / "b", suffix="", method="gaussian")
    with pytest.raises(ValueError, match=r"^--tile is for the model; .* --method gaussian \(a classical filter\)$"):
        descreen_files([scans], tmp_path / "out", recursive=True, method="gaussian", model=ModelOptions(tile=64))
    with pytest.raises(ValueError, match="^--backend is for the model; it cannot be combined with --descreen fft"):
        rescreen_file(
            scans / "b" / "photo.png",
            tmp_path / "r.png",
            HalftoneSettings(),
            method="fft",
            model=ModelOptions(backend="torch"),
        )
    summary = descreen_files([scans], tmp_path / "out", recursive=True, method="gaussian", summary=False)
    assert summary.interrupted and [r.status for r in summary.files] == ["descreened", "interrupted", "not started"]
    assert summary.summary_file is None and sorted(p.name for p in (tmp_path / "out").rglob("*.png")) == [
        "page_descreened.png"
    ]
