"""Feature networks for perceptual and style (Gram matrix) losses.

``vgg``: ImageNet VGG-19 up to relu4_1, as in the paper (opt-in: needs the
weights, see :mod:`.pretrained`). ``random``: a fixed, seeded random multi-scale
conv net, which works offline (random features still carry texture statistics).
Both are frozen and return a list of feature maps, one per scale.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision import models

from .pretrained import load_imagenet_state

FEATURE_NETWORKS = ("vgg", "random", "off")


class RandomFeatures(nn.Module):
    """Frozen random convolutions at several scales, seeded so every run sees the same features."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128), seed: int = 0) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.stages = nn.ModuleList()
        previous = 3
        for i, width in enumerate(widths):
            conv = nn.Conv2d(previous, width, 3, padding=1)
            with torch.no_grad():
                conv.weight.normal_(0.0, (2.0 / (9 * previous)) ** 0.5, generator=generator)
                conv.bias.zero_()
            layers: list[nn.Module] = [nn.AvgPool2d(2)] if i else []
            self.stages.append(nn.Sequential(*layers, conv, nn.ReLU()))
            previous = width
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        out = []
        for stage in self.stages:
            x = stage(x)
            out.append(x)
        return out


class VGGFeatures(nn.Module):
    """ImageNet VGG-19 activations relu1_1, relu2_1, relu3_1 and relu4_1 of ImageNet-normalised input."""

    CUTS = (2, 7, 12, 21)

    def __init__(self) -> None:
        super().__init__()
        vgg = models.vgg19(weights=None)
        vgg.load_state_dict(load_imagenet_state(models.VGG19_Weights.IMAGENET1K_V1))
        layers = list(vgg.features.children())[: self.CUTS[-1]]
        bounds = (0, *self.CUTS)
        self.stages = nn.ModuleList(nn.Sequential(*layers[a:b]) for a, b in zip(bounds[:-1], bounds[1:], strict=True))
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.mean) / self.std
        out = []
        for stage in self.stages:
            x = stage(x)
            out.append(x)
        return out


def build_features(kind: str = "random", seed: int = 0) -> nn.Module | None:
    """The feature network named ``kind`` (``vgg``, ``random``) in eval mode, or ``None`` for ``off``."""
    if kind not in FEATURE_NETWORKS:
        raise ValueError(f"feature network must be one of {FEATURE_NETWORKS}, got {kind!r}")
    if kind == "off":
        return None
    net = VGGFeatures() if kind == "vgg" else RandomFeatures(seed=seed)
    return net.eval()
