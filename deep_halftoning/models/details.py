"""DetailsNet (the generator) and its two patch discriminators."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ResidualBlock, norm_layer


def details_in_channels(object_channels: int = 0, use_edges: bool = True) -> int:
    """Input channels of DetailsNet: halftone (3) + coarse (3) + object maps + edge map."""
    return 6 + object_channels + int(use_edges)


class DetailsNet(nn.Module):
    """Residual blocks on ``[halftone, coarse, objects?, edges?]``; a tanh residual added to the coarse image.

    With 25 object maps and edges that is the paper's 32-channel input. Object maps
    and edge maps can each be switched off (``object_channels=0``, ``use_edges=False``),
    as in the paper's ablations and wherever no segmentation labels exist.
    """

    def __init__(
        self, object_channels: int = 0, use_edges: bool = True, width: int = 64, blocks: int = 8, norm: str = "batch"
    ) -> None:
        super().__init__()
        self.config = {
            "object_channels": object_channels,
            "use_edges": use_edges,
            "width": width,
            "blocks": blocks,
            "norm": norm,
        }
        self.object_channels, self.use_edges = object_channels, use_edges
        self.body = nn.Sequential(
            nn.Conv2d(details_in_channels(object_channels, use_edges), width, 3, padding=1, padding_mode="replicate"),
            nn.ReLU(inplace=True),
            *(ResidualBlock(width, norm) for _ in range(blocks)),
            nn.Conv2d(width, 3, 3, padding=1, padding_mode="replicate"),
            nn.Tanh(),
        )
        head = self.body[-2]
        nn.init.zeros_(head.weight)  # start as the identity on the coarse image
        nn.init.zeros_(head.bias)

    def forward(
        self,
        halftone: torch.Tensor,
        coarse: torch.Tensor,
        objects: torch.Tensor | None = None,
        edges: torch.Tensor | None = None,
    ) -> torch.Tensor:
        parts = [halftone, coarse]
        if self.object_channels:
            if objects is None or objects.shape[1] != self.object_channels:
                raise ValueError(f"DetailsNet expects {self.object_channels} object maps")
            parts.append(objects)
        if self.use_edges:
            if edges is None:
                raise ValueError("DetailsNet was built with edge maps; pass edges")
            parts.append(edges)
        return coarse + self.body(torch.cat(parts, dim=1))


class PatchDiscriminator(nn.Module):
    """PatchGAN: 4x4 convolutions, stride 2 then 1, one real/fake score per patch (LSGAN: no sigmoid)."""

    def __init__(self, in_channels: int = 3, width: int = 64, layers: int = 3, norm: str = "instance") -> None:
        super().__init__()
        self.config = {"in_channels": in_channels, "width": width, "layers": layers, "norm": norm}
        body: list[nn.Module] = [nn.Conv2d(in_channels, width, 4, stride=2, padding=1), nn.LeakyReLU(0.2, True)]
        channels = width
        for i in range(1, layers + 1):
            out = width * min(2**i, 8)
            stride = 2 if i < layers else 1
            body += [
                nn.Conv2d(channels, out, 4, stride=stride, padding=1, bias=norm == "none"),
                norm_layer(norm, out),
                nn.LeakyReLU(0.2, True),
            ]
            channels = out
        body.append(nn.Conv2d(channels, 1, 4, stride=1, padding=1))
        self.body = nn.Sequential(*body)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.body(torch.cat(inputs, dim=1) if len(inputs) > 1 else inputs[0])
