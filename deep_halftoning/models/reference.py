"""The plain U-Net that every descreening recipe is measured against (issue 15's reference row)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .blocks import pad_to_multiple


def _double_conv(in_channels: int, channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, channels, 3, padding=1),
        nn.ReLU(inplace=True),
        nn.Conv2d(channels, channels, 3, padding=1),
        nn.ReLU(inplace=True),
    )


class ReferenceUNet(nn.Module):
    """``levels`` levels of two 3x3 convolutions (``width`` channels at full resolution, doubling per
    level), average pooling down, nearest-neighbour up, skip connections by concatenation, and the
    output added to a 5x5 box blur of the input. ``width=32, levels=3``: 0.47 M parameters.
    """

    def __init__(self, width: int = 32, levels: int = 3) -> None:
        super().__init__()
        if levels < 1:
            raise ValueError(f"levels must be >= 1, got {levels}")
        self.config = {"width": width, "levels": levels}
        widths = [width * 2**i for i in range(levels)]
        self.down = nn.ModuleList(_double_conv(c_in, c) for c_in, c in zip([3, *widths[:-1]], widths, strict=True))
        self.up = nn.ModuleList(_double_conv(widths[i + 1] + widths[i], widths[i]) for i in reversed(range(levels - 1)))
        self.head = nn.Conv2d(width, 3, 3, padding=1)
        self.levels = levels
        self.pad_multiple = 2 ** (levels - 1)  # inputs are padded to this multiple

    def forward(self, halftone: torch.Tensor) -> torch.Tensor:
        x, (h, w) = pad_to_multiple(halftone, self.pad_multiple)
        skips = []
        for i, block in enumerate(self.down):
            x = block(x if i == 0 else F.avg_pool2d(x, 2))
            skips.append(x)
        skips.pop()
        for block in self.up:
            x = block(torch.cat([F.interpolate(x, scale_factor=2, mode="nearest"), skips.pop()], dim=1))
        blur = F.avg_pool2d(F.pad(halftone, (2, 2, 2, 2), mode="replicate"), 5, stride=1)
        return self.head(x)[..., :h, :w] + blur
