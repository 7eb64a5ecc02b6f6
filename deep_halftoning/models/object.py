"""ObjectNet: PSPNet on a dilated torchvision ResNet, predicting merged semantic classes."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torchvision import models

from .pretrained import load_imagenet_state

BACKBONES = {
    "resnet18": (models.resnet18, models.ResNet18_Weights.IMAGENET1K_V1, 256, 512),
    "resnet34": (models.resnet34, models.ResNet34_Weights.IMAGENET1K_V1, 256, 512),
    "resnet50": (models.resnet50, models.ResNet50_Weights.IMAGENET1K_V2, 1024, 2048),
    "resnet101": (models.resnet101, models.ResNet101_Weights.IMAGENET1K_V2, 1024, 2048),
}


def _dilate(layer: nn.Sequential, dilation: int) -> None:
    """Turn a stride-2 ResNet stage into a stride-1 stage with dilated 3x3 convolutions."""
    for module in layer.modules():
        if isinstance(module, nn.Conv2d):
            if module.stride == (2, 2):
                module.stride = (1, 1)
            if module.kernel_size == (3, 3):
                module.dilation = (dilation, dilation)
                module.padding = (dilation, dilation)


class PyramidPooling(nn.Module):
    """PSPNet's pyramid pooling module: pooled context at several bin sizes, upsampled and stacked."""

    def __init__(self, in_channels: int, bins: tuple[int, ...] = (1, 2, 3, 6)) -> None:
        super().__init__()
        reduced = in_channels // len(bins)
        self.stages = nn.ModuleList(
            nn.Sequential(
                nn.AdaptiveAvgPool2d(b),
                nn.Conv2d(in_channels, reduced, 1, bias=False),
                nn.BatchNorm2d(reduced),
                nn.ReLU(inplace=True),
            )
            for b in bins
        )
        self.out_channels = in_channels + reduced * len(bins)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[-2:]
        pooled = [F.interpolate(stage(x), size, mode="bilinear", align_corners=False) for stage in self.stages]
        return torch.cat([x, *pooled], dim=1)


def _head(in_channels: int, mid: int, classes: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, mid, 3, padding=1, bias=False),
        nn.BatchNorm2d(mid),
        nn.ReLU(inplace=True),
        nn.Dropout2d(dropout),
        nn.Conv2d(mid, classes, 1),
    )


class ObjectNet(nn.Module):
    """PSPNet: ResNet backbone at output stride 8, pyramid pooling (bins 1, 2, 3, 6), and an
    auxiliary head on the third stage for deep supervision (training only).

    ``pretrained="imagenet"`` loads torchvision's ImageNet weights for the backbone (opt-in;
    see :mod:`.pretrained`); the default ``"none"`` starts from random weights.
    """

    def __init__(
        self,
        num_classes: int = 26,
        backbone: str = "resnet50",
        pretrained: str = "none",
        bins: tuple[int, ...] = (1, 2, 3, 6),
        head_width: int = 512,
        dropout: float = 0.1,
    ) -> None:
        super().__init__()
        if backbone not in BACKBONES:
            raise ValueError(f"backbone must be one of {sorted(BACKBONES)}, got {backbone!r}")
        if pretrained not in ("none", "imagenet"):
            raise ValueError(f"pretrained must be 'none' or 'imagenet', got {pretrained!r}")
        self.config = {
            "num_classes": num_classes,
            "backbone": backbone,
            "pretrained": pretrained,
            "bins": tuple(bins),
            "head_width": head_width,
            "dropout": dropout,
        }
        build, weights, aux_channels, out_channels = BACKBONES[backbone]
        resnet = build(weights=None)
        if pretrained == "imagenet":
            resnet.load_state_dict(load_imagenet_state(weights))
        _dilate(resnet.layer3, 2)
        _dilate(resnet.layer4, 4)
        self.stem = nn.Sequential(resnet.conv1, resnet.bn1, resnet.relu, resnet.maxpool)
        self.layer1, self.layer2, self.layer3, self.layer4 = resnet.layer1, resnet.layer2, resnet.layer3, resnet.layer4
        self.ppm = PyramidPooling(out_channels, tuple(bins))
        self.head = _head(self.ppm.out_channels, head_width, num_classes, dropout)
        self.aux = _head(aux_channels, head_width // 2, num_classes, dropout)
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1), persistent=False)

    def forward(self, image: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Class logits at input resolution; in training mode also the auxiliary logits."""
        size = image.shape[-2:]
        x = self.stem((image - self.mean) / self.std)
        x = self.layer3(self.layer2(self.layer1(x)))
        aux = self.aux(x) if self.training else None
        logits = self.head(self.ppm(self.layer4(x)))
        logits = F.interpolate(logits, size, mode="bilinear", align_corners=False)
        if aux is None:
            return logits
        return logits, F.interpolate(aux, size, mode="bilinear", align_corners=False)
