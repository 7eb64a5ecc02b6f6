"""Process images of any size in overlapping tiles, blended with a smooth window."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from .options import BATCH, OVERLAP, TILE, check_tiling

#: A tile's ``(y, x, height, width)``.
Box = tuple[int, int, int, int]
#: What runs a batch of ``N x C x h x w`` tiles, given their boxes, and returns their outputs.
TileFn = Callable[[torch.Tensor, list[Box]], torch.Tensor]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets of tiles covering ``[0, length)`` with at least ``overlap`` shared pixels."""
    check_tiling(tile, overlap)
    if length <= tile:
        return [0]
    step = tile - overlap
    starts = list(range(0, length - tile, step)) + [length - tile]
    return sorted(set(starts))


def blend_window(size: int, overlap: int, at_start: bool, at_end: bool) -> np.ndarray:
    """1-D weights: a raised-cosine ramp over ``overlap`` pixels on inner edges, 1 elsewhere."""
    weights = np.ones(size, np.float32)
    ramp = min(overlap, size // 2)
    if ramp > 0:
        rise = (0.5 - 0.5 * np.cos(np.pi * (np.arange(ramp) + 0.5) / ramp)).astype(np.float32)
        if not at_start:
            weights[:ramp] = rise
        if not at_end:
            weights[-ramp:] = rise[::-1]
    return weights


def tiles(height: int, width: int, tile: int, overlap: int) -> Iterator[Box]:
    """``(y, x, h, w)`` of every tile, row by row."""
    for y in tile_starts(height, tile, overlap):
        for x in tile_starts(width, tile, overlap):
            yield y, x, min(tile, height - y), min(tile, width - x)


def tiled_apply(
    image: torch.Tensor,
    fn: TileFn,
    tile: int = TILE,
    overlap: int = OVERLAP,
    batch: int = BATCH,
    out_channels: int = 3,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Apply ``fn`` (a batch of ``N x C x h x w`` tiles and their boxes -> outputs) to a ``C x H x W`` image
    (:func:`tiled_windows` over its windows)."""

    def window(box: Box) -> torch.Tensor:
        y, x, h, w = box
        return image[:, y : y + h, x : x + w]

    return tiled_windows(tuple(image.shape[-2:]), window, fn, tile, overlap, batch, out_channels, progress)


def tiled_windows(
    size: tuple[int, int],
    window: Callable[[Box], torch.Tensor],
    fn: TileFn,
    tile: int = TILE,
    overlap: int = OVERLAP,
    batch: int = BATCH,
    out_channels: int = 3,
    progress: Callable[[int], None] | None = None,
) -> torch.Tensor:
    """Apply ``fn`` (a batch of ``N x C x h x w`` tiles and their boxes -> outputs) to an image of ``size``
    ``(H, W)`` whose ``C x h x w`` window ``(y, x, h, w)`` is ``window(box)`` (made when its tile runs).

    Tiles of equal size are batched; outputs are blended with raised-cosine weights on
    the overlaps and accumulated on the CPU, so memory stays bounded by the tile batch
    plus one output image. The tiles form a grid of rows x columns, so the weights' sum is
    the product of a row sum and a column sum: each tile's weights are normalised up front.
    The output is a ``C x H x W`` view of ``H x W x C`` memory, so ``out.permute(1, 2, 0)``
    is the image in NumPy's layout without a copy.
    """
    height, width = size
    out = torch.zeros(height, width, out_channels).permute(2, 0, 1)
    row_weights = _normalised_windows(height, tile, overlap)
    column_weights = _normalised_windows(width, tile, overlap)
    boxes = list(tiles(height, width, tile, overlap))
    for start in range(0, len(boxes), batch):
        group = boxes[start : start + batch]
        shapes = {(h, w) for _, _, h, w in group}
        for shape in shapes:  # only edge tiles can be smaller; batch equal shapes together
            chunk = [b for b in group if (b[2], b[3]) == shape]
            results = fn(torch.stack([window(box) for box in chunk]), chunk).float().cpu()
            for (y, x, h, w), result in zip(chunk, results, strict=True):
                weight = torch.outer(row_weights[y], column_weights[x])
                out[:, y : y + h, x : x + w].addcmul_(result, weight)
        if progress is not None:
            progress(len(group))
    return out


def _normalised_windows(length: int, tile: int, overlap: int) -> dict[int, torch.Tensor]:
    """Each tile start's 1-D blend window along one axis, divided by the windows' sum over that axis."""
    starts = tile_starts(length, tile, overlap)
    windows = {
        start: torch.from_numpy(
            blend_window(min(tile, length - start), overlap, start == starts[0], start == starts[-1])
        )
        for start in starts
    }
    total = torch.zeros(length)
    for start, window in windows.items():
        total[start : start + len(window)] += window
    return {start: window / total[start : start + len(window)] for start, window in windows.items()}
