"""Descreening at the screen's own scale: an AM scan resampled so its screen period becomes canonical.

An AM screen looks the same at every ruling once its period is fixed, so CoarseNet removes it at
one canonical period (:attr:`ScreenScale.canonical_period` pixels per screen cell) and its image is
brought back to full resolution, where DetailsNet restores what the resampling lost. Training and
serving resample with these functions only: :func:`to_canonical` (antialiased bilinear, the scale
factor itself defining the pixel grid; :func:`canonical_window`, any window of it) and
:func:`from_canonical` (bilinear, any window of the full-resolution grid), so a network sees in
serving exactly what it saw in training.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

#: Factors this close to 1 are 1: a screen within 2 % of the canonical period (a scan analysis measures
#: periods to well within that) is at the canonical period, and a resampling by 0.99x would only blur it.
UNIT_TOLERANCE = 0.02


@dataclass(frozen=True)
class ScreenScale:
    """How a screen period (pixels per cell) becomes a resampling factor: ``canonical_period / period``,
    clamped to ``[min_factor, max_factor]`` (``max_factor`` 1: never up-sampled); within
    :data:`UNIT_TOLERANCE` of 1, exactly 1."""

    canonical_period: float = 4.0
    min_factor: float = 0.25
    max_factor: float = 1.0

    def __post_init__(self) -> None:
        if not self.canonical_period > 0:
            raise ValueError(f"canonical_period must be positive, got {self.canonical_period}")
        if not 0 < self.min_factor <= self.max_factor:
            raise ValueError(f"need 0 < min_factor <= max_factor, got {self.min_factor}, {self.max_factor}")

    def factor(self, period: float | None) -> float:
        """The resampling factor for a screen of ``period`` pixels (``None``: no screen, factor 1)."""
        if period is None or not math.isfinite(period) or period <= 0:
            return 1.0
        factor = min(self.max_factor, max(self.min_factor, self.canonical_period / period))
        return 1.0 if abs(factor - 1.0) <= UNIT_TOLERANCE else factor


def canonical_size(height: int, width: int, factor: float) -> tuple[int, int]:
    """The size of an ``height x width`` image brought to the canonical period by ``factor``."""
    return max(1, math.floor(height * factor)), max(1, math.floor(width * factor))


def to_canonical(image: torch.Tensor, factor: float) -> torch.Tensor:
    """``N x C x H x W`` images resampled by ``factor`` to :func:`canonical_size` (1: unchanged); the whole
    of :func:`canonical_window`."""
    if factor == 1.0:
        return image
    return canonical_window(image, factor, (0, 0, *canonical_size(*image.shape[-2:], factor)))


def canonical_window(image: torch.Tensor, factor: float, box: tuple[int, int, int, int]) -> torch.Tensor:
    """The window ``box = (y, x, height, width)`` of the canonical image of ``N x C x H x W`` images
    (antialiased bilinear; 1: unchanged), reading only the part of ``image`` it needs.

    The resampling is PyTorch's ``F.interpolate(mode="bilinear", antialias=True, align_corners=False,
    scale_factor=factor, recompute_scale_factor=False)`` written as separable taps: output pixel ``i``
    is centred on input coordinate ``(i + 0.5) / factor - 0.5`` and averages the input under a triangle
    ``1 / factor`` pixels wide (for ``factor > 1``: plain bilinear), renormalised where it meets the
    border. Each output pixel depends on its index and the input's size only, so any window is exact
    for any factor, and a page is resampled tile by tile without a canonical page in memory. (Cropping
    ``F.interpolate``'s input instead would be exact only for factors snapped to aligned grids and
    windows starting on them; taps keep the measured factor and any tiling.)
    """
    y, x, height, width = box
    if factor == 1.0:
        return image[..., y : y + height, x : x + width]
    top, bottom, *rows = _antialias_taps(y, height, factor, image.shape[-2])
    left, right, *columns = _antialias_taps(x, width, factor, image.shape[-1])
    window = image[..., top:bottom, left:right]
    return _resample(_resample(window, *columns, -1), *rows, -2)


def _antialias_taps(start: int, length: int, factor: float, source: int) -> tuple[int, int, torch.Tensor, torch.Tensor]:
    """Along one axis of ``source`` input pixels, for output pixels ``start .. start + length``: the input
    pixels ``first .. last`` they read, and each one's taps: ``length x k`` indices from ``first`` and
    weights (zero past its footprint)."""
    scale = 1.0 / factor
    support = max(scale, 1.0)
    centre = (torch.arange(start, start + length, dtype=torch.float64) + 0.5) * scale
    low = (centre - support + 0.5).long().clamp(min=0)
    high = (centre + support + 0.5).long().clamp(max=source)
    first, last = int(low[0]), int(high.max())
    position = low[:, None] + torch.arange(int((high - low).max()))
    weights = (1 - ((position - centre[:, None] + 0.5) * min(factor, 1.0)).abs()).clamp(min=0)
    weights = weights * (position < high[:, None])
    return first, last, (position.clamp(max=last - 1) - first), weights / weights.sum(1, keepdim=True)


def _resample(image: torch.Tensor, index: torch.Tensor, weights: torch.Tensor, dim: int) -> torch.Tensor:
    """``image`` resampled along ``dim`` (-1 or -2): output ``i`` is the sum of ``weights[i, k]`` times
    input ``index[i, k]``."""
    index, weights = index.to(image.device), weights.to(image.device, image.dtype)
    shape = (-1, 1) if dim == -2 else (-1,)
    out = image.index_select(dim, index[:, 0]) * weights[:, 0].reshape(shape)
    for k in range(1, index.shape[1]):
        out += image.index_select(dim, index[:, k]) * weights[:, k].reshape(shape)
    return out


def _axis_weights(start: int, length: int, factor: float, source: int, device) -> tuple[torch.Tensor, ...]:
    """Bilinear taps along one axis: for full-resolution pixels ``start .. start + length``, the two
    canonical indices each reads (clamped at the edges) and the weight of the second."""
    position = (torch.arange(start, start + length, device=device, dtype=torch.float64) + 0.5) * factor - 0.5
    position = position.clamp(0, source - 1)
    low = position.floor().long()
    high = (low + 1).clamp(max=source - 1)
    return low, high, (position - low).to(torch.float32)


def from_canonical(image: torch.Tensor, factor: float, box: tuple[int, int, int, int]) -> torch.Tensor:
    """The full-resolution window ``box = (y, x, height, width)`` of a canonical ``N x C x h x w``
    image made with ``factor`` (bilinear; the inverse grid of :func:`to_canonical`)."""
    y, x, height, width = box
    if factor == 1.0:
        return image[..., y : y + height, x : x + width]
    top, bottom, dy = _axis_weights(y, height, factor, image.shape[-2], image.device)
    left, right, dx = _axis_weights(x, width, factor, image.shape[-1], image.device)
    # taps ascend: gather from the part of the canonical image the window reads, not whole rows
    first_row, first_column = int(top[0]), int(left[0])
    image = image[..., first_row : int(bottom[-1]) + 1, first_column : int(right[-1]) + 1]
    top, bottom, left, right = top - first_row, bottom - first_row, left - first_column, right - first_column
    dy, dx = dy.to(image.dtype)[:, None], dx.to(image.dtype)
    rows = image[..., top, :] * (1 - dy) + image[..., bottom, :] * dy
    return rows[..., left] * (1 - dx) + rows[..., right] * dx
