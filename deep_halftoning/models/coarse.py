"""CoarseNet: a U-Net that learns the low-pass filter removing the halftone pattern."""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..halftone.screen_scale import ScreenScale
from .blocks import norm_layer, pad_to_multiple


class CoarseNet(nn.Module):
    """Encoder of 4x4 stride-2 convolutions (LeakyReLU 0.2, norm in the middle), transposed
    convolutions back up with skip connections, and a final 3x3 convolution to RGB.

    ``width=64`` and ``depth=5`` give the paper's 3-64-128-256-512-512 encoder (about
    16.8 M parameters); ``width=16`` is the CPU-friendly lite network. Inputs of any
    size are reflect-padded to a multiple of ``2**depth`` and cropped back. With
    ``lowpass=sigma > 0`` the network predicts a residual over a fixed Gaussian blur
    of the input (no extra parameters), which it learns much faster from. ``full_res=f > 0``
    adds what the paper's U-Net lacks, full-resolution features: two 3x3 convolutions with
    ``f`` channels before the first stride-2 layer, skip-connected to a 3x3 convolution
    before the head, so the output is not built from half-resolution features alone.
    ``screen_scale`` (:class:`~..halftone.screen_scale.ScreenScale`'s fields) says the network was
    trained on AM scans brought to that canonical screen period; the pipeline serves it the same way.
    """

    def __init__(
        self,
        width: int = 64,
        depth: int = 5,
        max_width: int = 512,
        norm: str = "batch",
        lowpass: float = 0.0,
        full_res: int = 0,
        screen_scale: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        if full_res < 0:
            raise ValueError(f"full_res must be >= 0, got {full_res}")
        channels = [min(width * 2**i, max_width * width // 64) for i in range(depth)]
        self.config = {
            "width": width,
            "depth": depth,
            "max_width": max_width,
            "norm": norm,
            "lowpass": lowpass,
            "full_res": full_res,
        }
        self.set_screen_scale(screen_scale)
        self.register_buffer("blur", _gaussian_kernel(lowpass), persistent=False)
        self.depth = depth
        self.pad_multiple = 2**depth  # inputs are padded to this multiple
        self.stem = _full_res_convs(3, full_res) if full_res else None
        self.down = nn.ModuleList()
        previous = full_res or 3
        for i, c in enumerate(channels):
            layers: list[nn.Module] = [nn.Conv2d(previous, c, 4, stride=2, padding=1, bias=i in (0, depth - 1))]
            if 0 < i < depth - 1:
                layers.append(norm_layer(norm, c))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            self.down.append(nn.Sequential(*layers))
            previous = c
        self.up = nn.ModuleList()
        for i in reversed(range(depth)):
            out = channels[i - 1] if i > 0 else width
            in_ch = channels[i] if i == depth - 1 else channels[i] * 2
            layers = [nn.ConvTranspose2d(in_ch, out, 4, stride=2, padding=1, bias=i == 0)]
            if i > 0:
                layers.append(norm_layer(norm, out))
            layers.append(nn.ReLU(inplace=True))
            self.up.append(nn.Sequential(*layers))
        self.merge = _full_res_convs(width + full_res, full_res, layers=1) if full_res else None
        self.head = nn.Conv2d(full_res or width, 3, 3, padding=1)

    def set_screen_scale(self, screen_scale: Mapping[str, float] | None) -> None:
        """Serve AM scans at ``screen_scale`` (:class:`~..halftone.screen_scale.ScreenScale`'s fields; ``None``:
        as they are); recorded in :attr:`config`, so a checkpoint saved afterwards is served the same way."""
        self.screen_scale = None if screen_scale is None else ScreenScale(**screen_scale)
        self.config["screen_scale"] = None if screen_scale is None else dict(screen_scale)

    def forward(self, halftone: torch.Tensor) -> torch.Tensor:
        x, (h, w) = pad_to_multiple(halftone, self.pad_multiple)
        skips = []
        if self.stem is not None:
            x = self.stem(x)
            skips.append(x)
        for layer in self.down:
            x = layer(x)
            skips.append(x)
        skips.pop()
        for layer in self.up:
            x = layer(x)
            if skips:
                x = torch.cat([x, skips.pop()], dim=1)
        if self.merge is not None:
            x = self.merge(x)
        out = self.head(x)[..., :h, :w]
        if self.config["lowpass"] > 0:  # predict a residual over a fixed Gaussian low-pass of the input
            pad = self.blur.shape[-1] // 2
            smooth = F.conv2d(F.pad(halftone, (pad,) * 4, mode="replicate"), self.blur.expand(3, 1, -1, -1), groups=3)
            out = out + smooth
        return out


def _full_res_convs(in_channels: int, channels: int, layers: int = 2) -> nn.Sequential:
    """``layers`` 3x3 convolutions with LeakyReLU 0.2 (no norm: cheap at full resolution)."""
    modules: list[nn.Module] = []
    for i in range(layers):
        modules += [nn.Conv2d(in_channels if i == 0 else channels, channels, 3, padding=1), nn.LeakyReLU(0.2, True)]
    return nn.Sequential(*modules)


def _gaussian_kernel(sigma: float) -> torch.Tensor:
    """A normalised 2-D Gaussian (1 x 1 x k x k), or a 1 x 1 x 1 x 1 identity when ``sigma`` is 0."""
    if sigma <= 0:
        return torch.ones(1, 1, 1, 1)
    radius = max(1, int(round(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32)
    g = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = torch.outer(g, g)
    return (kernel / kernel.sum())[None, None]
