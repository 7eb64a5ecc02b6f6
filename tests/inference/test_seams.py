"""Tiled descreening has no seams (issue 18).

The shipped descreener, run in small overlapping tiles on a held-out photo, must agree with
one whole-image pass, and the disagreement that remains (the networks see less context in a
tile) must be spread over the image, not piled up where tiles meet. Every bound is relative
to the model's own median disagreement per line, or a fraction of a grey level, never a value
measured from one checkpoint, so a retrained or re-architected model passes as long as the
tiling is right. Breaking the blending (a window of ones, an unreversed ramp,
no ramp on the tiles' leading edges, overwriting instead of accumulating), shifting tiles by one
pixel or leaving a line uncovered fails these tests. The one-tile pass is itself checked against
the pipeline called directly, so a fault shared by every tile cannot hide in the reference.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch

from deep_halftoning.data.sources import embedded_records
from deep_halftoning.halftone import halftone
from deep_halftoning.inference import Descreener, load_pipeline, shipped_checkpoint
from deep_halftoning.inference.tiling import tile_starts, tiles
from deep_halftoning.io import read_image

SIZE = (192, 256)
#: (tile, overlap) pairs run, and those also held to a mean difference under one grey level. A
#: 64-pixel tile is smaller than the receptive field of the shipped CoarseNet (a 5-level U-Net: its
#: bottleneck sees a 64 tile as 2 x 2 cells), so every pixel of it sees less context than in a whole
#: pass and differs from it (about 1.5 grey levels on Floyd-Steinberg, evenly spread, and no less
#: with a wider overlap): at that size only the absence of seams is a property of the tiling.
#: The AM print (a 6 px screen) is served at the canonical 4 px period: CoarseNet's tiles cover a 128 x 170
#: canonical image, where a 96 tile again sees less than its receptive field (1.3 grey levels from a whole
#: pass), so its mean bound is 1.5 grey levels.
CONFIGS = ((64, 16), (96, 32))
MEAN_CHECKED = ((96, 32),)
MEAN_BOUND = {"floyd-steinberg": 1 / 255, "am-cmyk": 1.5 / 255}
#: No line at a tile boundary may be worse than RATIO x the median line + SLACK.
RATIO, SLACK = 2.0, 0.5 / 255


def boundary_lines(length: int, tile: int, overlap: int) -> np.ndarray:
    """Which of ``length`` rows (or columns) lie where tiles meet: covered by more than one tile,
    or next to an edge of a tile inside the image."""
    starts = tile_starts(length, tile, overlap)
    cover = np.zeros(length, int)
    for start in starts:
        cover[start : start + tile] += 1
    mask = cover > 1
    for start in starts:
        for edge in (start, start + tile):
            if 0 < edge < length:
                mask[edge - 1 : edge + 1] = True
    return mask


def seam_problems(tiled: np.ndarray, whole: np.ndarray, tile: int, overlap: int) -> tuple[list[str], list[str]]:
    """Compare the per-row and per-column difference (tiled - whole) at tile boundaries with the median line.

    Two profiles per direction: the mean absolute difference of each line (``level``), and the
    mean absolute change of the difference between neighbouring lines (``step``: a seam is a jump
    in the tiled image that the whole pass does not have). Returns ``(problems, measurements)``.
    """
    error = tiled.astype(np.float64) - whole
    problems, measured = [], []
    for axis, direction in ((0, "rows"), (1, "columns")):
        across = (1 - axis, 2)
        at_boundary = boundary_lines(error.shape[axis], tile, overlap)
        assert at_boundary.any() and not at_boundary.all(), f"{direction}: no boundary, or nothing else"
        profiles = {
            "level": (np.abs(error).mean(axis=across), at_boundary),
            "step": (np.abs(np.diff(error, axis=axis)).mean(axis=across), at_boundary[:-1] | at_boundary[1:]),
        }
        for name, (profile, near) in profiles.items():
            median = float(np.median(profile))
            worst = int(np.flatnonzero(near)[profile[near].argmax()])
            bound = RATIO * median + SLACK
            line = (
                f"{tile}/{overlap} {direction} {name}: boundary max {profile[worst] * 255:.2f} at {worst}, "
                f"boundary mean {profile[near].mean() * 255:.2f}, median line {median * 255:.2f} "
                f"(bound {bound * 255:.2f}) grey levels"
            )
            measured.append(line)
            if profile[worst] > bound:
                problems.append(line)
    return problems, measured


def direct(pipeline, image: np.ndarray, precision: str, factor: float) -> np.ndarray:
    """The pipeline on the whole image at once, CoarseNet at the screen scale ``factor``, without the tiling code."""
    tensor = torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)))[None]
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else contextlib.nullcontext()
    with torch.inference_mode(), autocast:
        return pipeline(tensor, scale=factor)["output"].float().clamp(0, 1)[0].numpy().transpose(1, 2, 0)


@pytest.fixture(scope="module")
def pipeline():
    return load_pipeline(shipped_checkpoint())


@pytest.fixture(scope="module")
def photo() -> np.ndarray:
    """A centred 192 x 256 crop of a validation photo (no shipped recipe trains on it)."""
    image = read_image(embedded_records("val")[0].image)
    height, width = SIZE
    assert image.ndim == 3 and image.shape[0] >= height and image.shape[1] >= width
    y, x = (image.shape[0] - height) // 2, (image.shape[1] - width) // 2
    return np.ascontiguousarray(image[y : y + height, x : x + width])


def test_boundary_lines_are_where_tiles_meet():
    mask = boundary_lines(192, 64, 16)  # tiles at 0, 48, 96, 128
    assert tile_starts(192, 64, 16) == [0, 48, 96, 128]
    expected = np.zeros(192, bool)
    for lo, hi in ((47, 65), (95, 113), (127, 161)):  # the overlaps, with the edge lines on either side
        expected[lo:hi] = True
    np.testing.assert_array_equal(mask, expected)
    assert not boundary_lines(100, 128, 32).any()  # one tile: nowhere to meet


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("method", ["floyd-steinberg", "am-cmyk"])
def test_tiled_shipped_model_matches_a_whole_pass_without_seams(pipeline, photo, method, precision):
    params = {"lpi": 100.0, "dpi": 600.0} if method == "am-cmyk" else {}  # a 6 px screen: served at 4 px
    image = halftone(photo, method, threads=1, **params).image.astype(np.float32)
    whole_tile = -(-max(SIZE) // 32) * 32 + 32  # larger than the image: one tile
    whole_pass = Descreener(pipeline, device="cpu", tile=whole_tile, overlap=32, precision=precision)
    assert len(list(tiles(*SIZE, whole_pass.tile, whole_pass.overlap))) == 1
    factor = whole_pass.choose_scale(image).factor  # the AM print: CoarseNet at the canonical period
    assert (factor < 1) == (method == "am-cmyk")
    whole = whole_pass(image)
    # Another runtime's bf16 kernels round differently from torch's autocast (about 0.25 grey levels).
    same_arithmetic = whole_pass.backend == "torch" or precision == "fp32"
    bound = 0.1 / 255 if same_arithmetic else 0.5 / 255
    assert np.abs(whole - direct(whole_pass.pipeline, image, precision, factor)).mean() < bound
    problems, measured = [], []
    for tile, overlap in CONFIGS:
        descreener = Descreener(pipeline, device="cpu", tile=tile, overlap=overlap, batch=3, precision=precision)
        tiled = descreener(image)
        assert tiled.shape == whole.shape
        difference = float(np.abs(tiled - whole).mean())
        line = f"{tile}/{overlap}: mean |tiled - whole| {difference * 255:.3f} grey levels"
        measured.append(line)
        if (tile, overlap) in MEAN_CHECKED and not difference < MEAN_BOUND[method]:
            problems.append(f"{line} (bound {MEAN_BOUND[method] * 255:.1f})")
        seams, numbers = seam_problems(tiled, whole, tile, overlap)
        problems += seams
        measured += numbers
    print(f"{method} {precision}:", *measured, sep="\n  ")  # shown with -s: the margins, per config
    assert not problems, f"{method} {precision}: tiling leaves seams:\n  " + "\n  ".join(problems)
