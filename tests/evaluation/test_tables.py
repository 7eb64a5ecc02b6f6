"""The evaluation's statistics, tables, paired comparisons, routed columns and tone ceiling."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
from conftest import save_photo

from deep_halftoning.evaluation import methods, tone_ceiling
from deep_halftoning.evaluation.paired import paired_table
from deep_halftoning.evaluation.scores import Score, paired_gain
from deep_halftoning.evaluation.statistics import differences, summarise
from deep_halftoning.evaluation.tables import metric_table


def test_t_interval_against_a_hand_computation():
    summary = summarise([1.0, 2.0, 3.0, 4.0])
    assert summary.mean == pytest.approx(2.5)
    assert summary.half_width == pytest.approx(3.182446 * 1.290994 / 2, abs=1e-4)  # = 2.054
    assert (summary.minimum, summary.maximum) == (1.0, 4.0)
    assert math.isnan(summarise([3.0]).half_width)
    with pytest.raises(ValueError, match="as many values"):
        differences([1.0, 2.0], [1.0])


def test_tables_show_intervals_best_classical_and_paired_gain():
    scores = {
        ("bayer-8", "halftone"): Score.of([10.0, 12.0, 14.0], [0.1, 0.2, 0.3]),
        ("bayer-8", "model"): Score.of([31.0, 33.0, 35.0], [0.8, 0.9, 1.0]),
        ("bayer-8", "gaussian"): Score.of([30.0, 31.0, 32.0], [0.7, 0.8, 0.9]),
        ("bayer-8", "median"): Score.of([20.0, 21.0, 22.0], [0.5, 0.6, 0.7]),
    }
    gain = paired_gain(scores, "bayer-8", "model", "gaussian")
    assert gain.mean == pytest.approx(2.0)
    assert gain.half_width == pytest.approx(4.302653 * 1.0 / math.sqrt(3), abs=1e-4)
    table = metric_table(scores, ["bayer-8"], ["halftone", "model", "gaussian", "median"])
    assert "| halftone | halftone | model | gaussian | median | best classical | gain model |" in table
    assert "**33.00 ± 4.97**" in table and "| gaussian | +2.00 ± 2.48 |" in table


def test_colour_fit_undoes_an_affine_colour_map(rng):
    photo = rng.random((24, 32, 3), dtype=np.float32) * 0.6 + 0.2
    matrix = np.array([[0.9, 0.05, 0.0], [0.1, 0.8, 0.1], [0.0, 0.2, 0.7]], np.float32)
    tinted = photo @ matrix + np.float32(0.05)
    assert np.abs(tone_ceiling.colour_fit(tinted, photo) - photo).max() < 1e-4


def test_tone_ceiling_separates_tone_from_screen(tmp_path, rng):
    """A print whose tone is right gets a high low-pass score; a darkened one a low one that the colour fit
    gives back; the table names every row asked for."""
    photo = cv2.resize(rng.random((4, 4, 3), dtype=np.float32), (64, 64), interpolation=cv2.INTER_LINEAR) * 0.8 + 0.1
    screened = (rng.random(photo.shape) < photo).astype(np.float32)
    right = tone_ceiling.row_scores(photo, screened, sigma=3.0)
    dark = tone_ceiling.row_scores(photo, screened * 0.8, sigma=3.0)
    assert right["low-pass error"] > dark["low-pass error"] + 6
    assert dark["gaussian + colour fit"] > dark["gaussian"] + 3
    assert right["print's tone, clean detail"] > right["gaussian"]
    images = [tmp_path / "photos" / name for name in ("a.png", "b.png")]
    for path in images:
        save_photo(path, rng, (64, 80))
    halftones = ["floyd-steinberg", "bayer-8"]
    values = tone_ceiling.ceiling_values(images, halftones, sigma=3.0, max_side=768)
    table = tone_ceiling.ceiling_table(values, halftones, len(images))
    assert "| floyd-steinberg |" in table and "| bayer-8 |" in table and "2 photos" in table
    assert "2 photos shrunk to 768 px" in tone_ceiling.ceiling_report(table, 2, 768, 3.0)


def test_routed_specialists_follow_the_analysed_kind(monkeypatch):
    def fake_methods(checkpoints, device, tile):
        return {kind: lambda image, analysis, p=path: f"{p}({image})" for kind, path in checkpoints.items()}

    monkeypatch.setattr(methods, "model_methods", fake_methods)
    name, routes = methods.parse_route("split=am:am.ckpt,dispersed:ed.ckpt")
    routed = methods.routed_methods({name: routes}, None, 64)["split"]
    assert routed("x", SimpleNamespace(kind="am")) == "am.ckpt(x)"
    assert routed("x", SimpleNamespace(kind="dispersed")) == "ed.ckpt(x)"
    assert routed("x", SimpleNamespace(kind="continuous")) == "am.ckpt(x)"  # the first is the fallback
    for bad in ("split", "split=am.ckpt", "=am:a.ckpt", "split=am:"):
        with pytest.raises(ValueError, match="NAME=KIND:CKPT"):
            methods.parse_route(bad)


def test_paired_differences_between_two_evaluations(tmp_path):
    def results(path, photos, column, psnr):
        scores = [{"halftone": "fs", "method": column, "psnr_per_photo": psnr}]
        path.write_text(json.dumps({"images": photos, "scores": scores}))
        return path

    a = results(tmp_path / "a.json", ["/x/p1.png", "/x/p2.png", "/x/p3.png"], "new", [30.0, 31.0, 32.5])
    b = results(tmp_path / "b.json", ["/y/p1.png", "/y/p2.png", "/y/p3.png"], "old", [29.0, 30.0, 31.0])
    table = paired_table(f"{a}:new", f"{b}:old")
    assert "| fs | +1.17 ± 0.72 |" in table  # differences 1, 1, 1.5: t(0.975, 2) * 0.289 / sqrt(3)
    with pytest.raises(ValueError, match="columns: new"):
        paired_table(f"{a}:old", f"{b}:old")
    other = results(tmp_path / "c.json", ["/y/p1.png", "/y/p2.png", "/y/q.png"], "old", [29.0, 30.0, 31.0])
    with pytest.raises(ValueError, match="different photos"):
        paired_table(f"{a}:new", f"{other}:old")
