"""Descreening at the screen's scale: the choice, the two passes against the pipeline, both runtimes, the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from deep_halftoning.cli import main
from deep_halftoning.halftone import halftone
from deep_halftoning.halftone.screen_scale import from_canonical, to_canonical
from deep_halftoning.inference import Descreener
from deep_halftoning.inference.export import export_pipeline
from deep_halftoning.inference.options import parse_scale
from deep_halftoning.inference.tiling import tiled_apply
from deep_halftoning.models.checkpoint import save_networks
from deep_halftoning.models.pipeline import DescreeningPipeline

SCREEN = {"canonical_period": 4.0, "min_factor": 0.25, "max_factor": 1.0}


def screen_pipeline(details: bool = True, screen: dict | None = SCREEN) -> DescreeningPipeline:
    torch.manual_seed(0)
    coarse = {"width": 8, "depth": 3, "lowpass": 1.0, "screen_scale": screen}
    if not details:
        return DescreeningPipeline(DescreeningPipeline.build(coarse=coarse).coarse).eval()
    pipeline = DescreeningPipeline.build(
        coarse=coarse, edge={"width": 8, "layers": 2}, details={"width": 8, "blocks": 1, "fold": 2}
    )
    torch.nn.init.normal_(pipeline.details.body[-3].weight, std=0.1)  # DetailsNet really changes the image
    return pipeline.eval()


@pytest.fixture(scope="module")
def am_print() -> np.ndarray:
    """A 75 lpi print at 600 dpi: an 8 px screen."""
    grid = np.random.default_rng(1).uniform(0.15, 0.85, (4, 4, 3)).repeat(60, 0).repeat(60, 1)
    return halftone(grid.astype(np.float32), "am-cmyk", lpi=75.0, dpi=600.0).image.astype(np.float32)


def test_auto_brings_an_am_screen_to_the_trained_period_and_leaves_the_rest(am_print, smooth_rgb):
    descreener = Descreener(screen_pipeline(), backend="torch")
    choice = descreener.choose_scale(am_print)
    assert choice.factor == pytest.approx(0.5, rel=0.01) and choice.period == pytest.approx(8.0, rel=0.01)
    dispersed = halftone(smooth_rgb, "floyd-steinberg").image.astype(np.float32)
    assert descreener.choose_scale(dispersed).factor == 1.0
    unscaled = Descreener(screen_pipeline(screen=None), backend="torch").choose_scale(am_print)
    assert (unscaled.factor, unscaled.reason) == (1.0, "the model works at full resolution")
    assert Descreener(screen_pipeline(), backend="torch", scale="off").choose_scale(am_print).factor == 1.0
    assert Descreener(screen_pipeline(), backend="torch", scale="0.3").choose_scale(am_print).factor == 0.3


@pytest.mark.parametrize("bad", ["half", "0.05", "1.5", None])
def test_a_scale_is_auto_off_or_a_factor(bad):
    with pytest.raises(ValueError, match="scale must be auto, off or a factor"):
        parse_scale(bad)


@pytest.mark.parametrize("details", [True, False])
def test_a_page_in_one_tile_is_the_pipeline_at_that_scale(am_print, details):
    pipeline = screen_pipeline(details)
    page = am_print[:200, :232]
    out = Descreener(pipeline, backend="torch", precision="fp32", tile=512, scale=0.5)(page)
    with torch.no_grad():
        expected = pipeline(torch.from_numpy(page.transpose(2, 0, 1).copy())[None], scale=0.5)["output"]
    np.testing.assert_allclose(out, expected[0].clamp(0, 1).numpy().transpose(1, 2, 0), atol=1e-6)
    if not details:  # CoarseNet alone: its canonical image read back is the output
        small = pipeline.coarse(to_canonical(torch.from_numpy(page.transpose(2, 0, 1).copy())[None], 0.5))
        back = from_canonical(small, 0.5, (0, 0, 200, 232))[0].clamp(0, 1).permute(1, 2, 0)
        np.testing.assert_allclose(out, back.detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("details", [True, False])
def test_canonical_tiles_made_from_page_windows_equal_tiles_of_the_whole_canonical_page(am_print, details):
    page, factor, tiling = am_print[:229, :203], 0.57, {"tile": 64, "overlap": 16, "batch": 3}
    descreener = Descreener(screen_pipeline(details), backend="torch", precision="fp32", scale=factor, **tiling)
    out = descreener(page)
    image = torch.from_numpy(page.transpose(2, 0, 1).copy())
    canonical = F.interpolate(
        image[None],
        scale_factor=factor,
        mode="bilinear",
        antialias=True,
        align_corners=False,
        recompute_scale_factor=False,
    )[0]
    coarse = tiled_apply(canonical, lambda t, _: descreener.runtime.coarse(t), **tiling)
    assert coarse.shape[-1] > tiling["tile"]  # several canonical tiles

    def full_resolution(tiles: torch.Tensor, boxes: list) -> torch.Tensor:
        return descreener.runtime(tiles, None, torch.cat([from_canonical(coarse[None], factor, b) for b in boxes]))

    if details:
        expected = tiled_apply(image, full_resolution, **tiling)
    else:
        expected = from_canonical(coarse[None], factor, (0, 0, *page.shape[:2]))[0].clamp(0, 1)
    np.testing.assert_allclose(out, expected.permute(1, 2, 0).numpy(), atol=1e-5)
    grey = descreener(page.mean(axis=2))
    assert grey.shape == page.shape[:2] and np.isfinite(grey).all()


def test_openvino_equals_torch_on_the_screen_scaled_path(am_print):
    tiling = {"tile": 64, "overlap": 16, "scale": 0.5}
    pipeline = screen_pipeline()
    reference = Descreener(pipeline, backend="torch", precision="fp32", **tiling)(am_print)
    fast = Descreener(pipeline, backend="openvino", precision="fp32", **tiling)(am_print)
    np.testing.assert_allclose(fast, reference, atol=1e-5)
    full = Descreener(pipeline, backend="torch", precision="fp32", tile=64, overlap=16, scale="off")(am_print)
    assert np.abs(full - reference).mean() > 1e-3  # the scale really changed the work


def test_export_writes_the_two_parts_of_a_screen_scaled_model(tmp_path):
    paths = export_pipeline(screen_pipeline(), tmp_path, "screen")
    assert sorted(p.name for p in paths) == sorted(
        f"screen{part}{suffix}" for part in ("", "-coarse", "-details") for suffix in (".onnx", ".xml", ".bin")
    )


def test_the_cli_records_each_pages_screen_scale(tmp_path, am_print, capsys):
    checkpoint = tmp_path / "screen.ckpt"
    save_networks(checkpoint, screen_pipeline().networks)
    Image.fromarray((am_print * 255 + 0.5).astype(np.uint8)).save(tmp_path / "print.png")
    out = tmp_path / "out"
    assert main(["descreen", str(tmp_path / "print.png"), "-o", str(out), "--checkpoint", str(checkpoint)]) == 0
    (record,) = json.loads((out / "descreen-summary.json").read_text())["files"]
    (scale,) = record["screen_scale"]
    assert scale["factor"] == pytest.approx(0.5, rel=0.01) and scale["reason"].startswith("AM screen of 8.0")
    assert main(["descreen", str(tmp_path / "print.png"), "-o", str(out), "--scale", "2"]) == 2
    assert "--scale must be auto, off or a factor" in capsys.readouterr().err
