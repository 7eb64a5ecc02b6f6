"""Batched halftoning in torch, on any device, equal to the numpy engine.

For training on a GPU: ordered dither and AM screening of ``N x C x H x W``
batches in [0, 1]. Results match :func:`deep_halftoning.halftone.halftone`
exactly (same thresholds, same 32-bit fixed-point screen coordinates, same
float32 operations in the same order).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from . import ordered
from .catalogue import get_method
from .color import LUMA
from .screen import AXIS_WEIGHT, COORD_SCALE, DEFAULT_ANGLES, LEVELS, coverage_levels, screen_period, screen_steps

_MATRICES = {
    "bayer-2": lambda: ordered.bayer_matrix(2),
    "bayer-4": lambda: ordered.bayer_matrix(4),
    "bayer-8": lambda: ordered.bayer_matrix(8),
    "bayer-16": lambda: ordered.bayer_matrix(16),
    "clustered-dot": ordered.clustered_dot_matrix,
    "diagonal-dot": ordered.diagonal_dot_matrix,
    "blue-noise": ordered.blue_noise_matrix,
}
#: Methods with a torch implementation.
TORCH_METHODS = (*_MATRICES, "am-cmyk", "am-cmyk-binary")


def _check_batch(x: torch.Tensor) -> None:
    if x.ndim != 4 or x.shape[1] not in (1, 3):
        raise ValueError(f"expected an N x C x H x W batch with C in (1, 3), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"expected a float batch in [0, 1], got {x.dtype}")


def ordered_dither(x: torch.Tensor, ranks: np.ndarray) -> torch.Tensor:
    """Binary ordered dither of every channel of ``x`` with the index matrix ``ranks``."""
    t = torch.from_numpy(ordered.thresholds(ranks)).to(x.device)
    h, w = x.shape[-2:]
    rows = torch.arange(h, device=x.device) % t.shape[0]
    cols = torch.arange(w, device=x.device) % t.shape[1]
    return (x.float() > t[rows][:, cols]).float()


def to_gray(rgb: torch.Tensor) -> torch.Tensor:
    """Rec. 601 luma of an ``N x 3 x H x W`` batch, ``N x 1 x H x W``."""
    r, g, b = rgb.float().unbind(1)
    return (r * float(LUMA[0]) + g * float(LUMA[1]) + b * float(LUMA[2])).unsqueeze(1)


def rgb_to_cmyk(rgb: torch.Tensor, ucr: float = 1.0) -> torch.Tensor:
    """``N x 4 x H x W`` CMYK coverage, as :func:`deep_halftoning.halftone.color.rgb_to_cmyk`."""
    rgb = rgb.float()
    k = ucr * (1.0 - rgb.amax(dim=1, keepdim=True))
    white = 1.0 - k
    safe = torch.where(white > 0, white, torch.ones_like(white))
    cmy = torch.where(white > 0, (white - rgb) / safe, torch.zeros_like(rgb))
    return torch.cat([cmy, k], dim=1).clamp(0.0, 1.0)


def _wave(t: torch.Tensor) -> torch.Tensor:
    a = t.abs()
    b = 0.5 - a
    return torch.where(a <= 0.25, 1.0 - 16.0 * a * a, 16.0 * b * b - 1.0)


def _screen_hits(inks: torch.Tensor, angles: Sequence[float], period: float, s: int, dot: str) -> torch.Tensor:
    """``N x K x H x s x W x s`` booleans: which sub-samples each ink covers."""
    n, k, h, w = inks.shape
    device = inks.device
    steps = torch.from_numpy(screen_steps(angles, period, s).astype(np.int64)).to(device)
    gy = torch.arange(h * s, device=device, dtype=torch.int64).view(1, -1, 1)
    gx = torch.arange(w * s, device=device, dtype=torch.int64).view(1, 1, -1)
    ux, uy, vx, vy, u0, v0 = (steps[:, i].view(-1, 1, 1) for i in range(6))

    def cell(coord: torch.Tensor) -> torch.Tensor:  # 32-bit fraction -> float32 in [-0.5, 0.5)
        return ((coord & 0xFFFFFFFF) >> 8).float() * COORD_SCALE - 0.5

    tu = cell(u0 + gy * uy + gx * ux)
    tv = cell(v0 + gy * vy + gx * vx)
    spot = -torch.maximum(tu.abs(), tv.abs()) if dot == "square" else _wave(tu) + AXIS_WEIGHT[dot] * _wave(tv)
    table = torch.from_numpy(coverage_levels(dot).copy()).to(device)
    levels = table[(inks.float().clamp(0.0, 1.0) * float(LEVELS) + 0.5).long()]
    return spot.view(1, k, h, s, w, s) > levels.view(n, k, h, 1, w, 1)


def am_screen(
    inks: torch.Tensor,
    angles: Sequence[float],
    lpi: float = 150.0,
    dpi: float = 600.0,
    dot: str = "round",
    supersample: int = 4,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Screen ``N x K x H x W`` ink coverage (K = 1: K; 3: CMY; 4: CMYK); return ``(image, coverage)``."""
    n, k, h, w = inks.shape
    if k not in (1, 3, 4) or len(angles) != k:
        raise ValueError(f"need 1, 3 or 4 inks with one angle each, got {k} inks and {len(angles)} angles")
    s = supersample
    hits = _screen_hits(inks, angles, screen_period(lpi, dpi), s, dot)
    inv = 1.0 / (s * s)
    coverage = hits.sum(dim=(3, 5), dtype=torch.int32).float() * inv
    covered = hits[:, :3] | hits[:, 3:4] if k == 4 else hits  # K darkens every channel
    image = (~covered).sum(dim=(3, 5), dtype=torch.int32).float() * inv
    return image, coverage


def halftone_torch(
    batch: torch.Tensor, method: str, *, mode: str | None = None, ucr: float = 1.0, **params: object
) -> torch.Tensor:
    """Halftone an ``N x C x H x W`` batch (C = 1 grey, 3 RGB) with an ordered or AM method.

    Modes and parameters are those of :func:`deep_halftoning.halftone.halftone`;
    the result is ``N x 1 x H x W`` for grey, ``N x 3 x H x W`` otherwise.
    """
    if method not in TORCH_METHODS:
        raise ValueError(f"no torch implementation of {method!r}; available: {', '.join(TORCH_METHODS)}")
    _check_batch(batch)
    spec = get_method(method)
    resolved = spec.resolve(params)
    mode = mode or ("gray" if batch.shape[1] == 1 else spec.colour_mode)
    rgb = batch.float() if batch.shape[1] == 3 else batch.float().expand(-1, 3, -1, -1)
    gray = batch.float() if batch.shape[1] == 1 else to_gray(batch)
    if spec.planar:
        ranks = _MATRICES[method](**resolved)
        if mode == "cmyk":
            inks = ordered_dither(rgb_to_cmyk(rgb, ucr), ranks)
            return (1.0 - inks[:, :3]) * (1.0 - inks[:, 3:4])
        return ordered_dither(gray if mode == "gray" else rgb, ranks)
    angles = tuple(resolved.pop("angles", DEFAULT_ANGLES))
    resolved.setdefault("supersample", 1)
    if mode == "gray":
        inks, ink_angles = 1.0 - gray, angles[3:]
    elif mode == "rgb":
        inks, ink_angles = 1.0 - rgb, angles[:3]
    else:
        inks, ink_angles = rgb_to_cmyk(rgb, ucr), angles
    return am_screen(inks, ink_angles, **resolved)[0]
