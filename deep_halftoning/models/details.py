"""DetailsNet (the generator) and its two patch discriminators."""

from __future__ import annotations

import torch
from torch import nn

from .blocks import ResidualBlock, norm_layer, pad_to_multiple


def details_in_channels(object_channels: int = 0, use_edges: bool = True) -> int:
    """Input channels of DetailsNet: halftone (3) + coarse (3) + object maps + edge map."""
    return 6 + object_channels + int(use_edges)


class DetailsNet(nn.Module):
    """Residual blocks on ``[halftone, coarse, objects?, edges?]``; a tanh residual added to the coarse image.

    With 25 object maps and edges that is the paper's 32-channel input. Object maps
    and edge maps can each be switched off (``object_channels=0``, ``use_edges=False``),
    as in the paper's ablations and wherever no segmentation labels exist.

    ``fold=f > 1`` keeps full-resolution work cheap on a CPU: the input is folded into
    channels (PixelUnshuffle, lossless), the blocks run at ``1/f`` resolution on ``f**2``
    times the channels of each input pixel, and PixelShuffle unfolds the residual, so
    every output pixel still has its own weights (as in the inverse-halftoning networks
    PRL and MSPRL). Inputs must then have sides divisible by ``f``; others are padded.
    """

    def __init__(
        self,
        object_channels: int = 0,
        use_edges: bool = True,
        width: int = 64,
        blocks: int = 8,
        norm: str = "batch",
        fold: int = 1,
    ) -> None:
        super().__init__()
        if fold < 1:
            raise ValueError(f"fold must be >= 1, got {fold}")
        self.config = {
            "object_channels": object_channels,
            "use_edges": use_edges,
            "width": width,
            "blocks": blocks,
            "norm": norm,
            "fold": fold,
        }
        self.object_channels, self.use_edges, self.fold = object_channels, use_edges, fold
        self.pad_multiple = fold  # inputs are padded to this multiple
        in_channels = details_in_channels(object_channels, use_edges) * fold**2
        self.body = nn.Sequential(
            *((nn.PixelUnshuffle(fold),) if fold > 1 else ()),
            nn.Conv2d(in_channels, width, 3, padding=1, padding_mode="replicate"),
            nn.ReLU(inplace=True),
            *(ResidualBlock(width, norm) for _ in range(blocks)),
            nn.Conv2d(width, 3 * fold**2, 3, padding=1, padding_mode="replicate"),
            *((nn.PixelShuffle(fold),) if fold > 1 else ()),
            nn.Tanh(),
        )
        head = self.body[-3 if fold > 1 else -2]
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
        x, (h, w) = pad_to_multiple(torch.cat(parts, dim=1), self.pad_multiple)
        return coarse + self.body(x)[..., :h, :w]


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
