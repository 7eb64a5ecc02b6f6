"""EdgeNet: a small CNN predicting the Canny edges of the clean image from its halftone."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import norm_layer


class EdgeNet(nn.Module):
    """``layers`` x (conv 5x5, ``width`` channels, norm, ReLU) then conv 3x3 to one channel of logits.

    The paper's 5 x 32 gives about 0.1 M parameters. Apply a sigmoid for probabilities.
    """

    def __init__(self, width: int = 32, layers: int = 5, norm: str = "batch") -> None:
        super().__init__()
        self.config = {"width": width, "layers": layers, "norm": norm}
        body: list[nn.Module] = []
        previous = 3
        for _ in range(layers):
            body += [
                nn.Conv2d(previous, width, 5, padding=2, padding_mode="replicate", bias=norm == "none"),
                norm_layer(norm, width),
                nn.ReLU(inplace=True),
            ]
            previous = width
        body.append(nn.Conv2d(previous, 1, 3, padding=1, padding_mode="replicate"))
        self.body = nn.Sequential(*body)

    def forward(self, halftone: torch.Tensor) -> torch.Tensor:
        return self.body(halftone)
