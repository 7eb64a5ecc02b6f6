"""CoarseStage: trains CoarseNet to remove the halftone pattern (L1 + global style loss)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F

from ..models import NETWORKS, build_features
from ..models.losses import fft_l1, style_loss
from ..models.metrics import image_metrics
from .common import Stage, exact_keys


class CoarseStage(Stage):
    """Trains the first network of the pipeline: CoarseNet, or (``architecture: ReferenceUNet``)
    the plain reference U-Net that every recipe is compared with."""

    network_names = ("coarse",)

    def __init__(
        self,
        *,
        loss_weights: Mapping[str, float],
        optimizer: Callable,
        scheduler: Callable | None,
        net: Mapping | None = None,
        architecture: str = "CoarseNet",
        features: str = "random",
        **kwargs,
    ) -> None:
        super().__init__(optimizer, scheduler, **kwargs)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        if architecture not in ("CoarseNet", "ReferenceUNet"):
            raise ValueError(f"architecture must be CoarseNet or ReferenceUNet, got {architecture!r}")
        self.coarse = NETWORKS[architecture](**dict(net or {}))
        self.weights = exact_keys(loss_weights, ("l1", "fft", "style"), "loss_weights")
        self.features = build_features(features) if self.weights["style"] else None
        self.psnr, self.ssim = image_metrics()

    def forward(self, halftone: torch.Tensor) -> torch.Tensor:
        return self.coarse(halftone)

    def losses(self, prediction: torch.Tensor, clean: torch.Tensor) -> dict[str, torch.Tensor]:
        terms = {"l1": F.l1_loss(prediction, clean)}
        if self.weights["fft"]:
            terms["fft"] = fft_l1(prediction, clean)
        if self.features is not None:
            terms["style"] = style_loss(self.features(prediction), self.features(clean))
        terms["loss"] = sum(self.weights[k] * v for k, v in terms.items())
        return terms

    def training_step(self, batch, batch_idx):
        batch = self.prepare_batch(batch)
        terms = self.losses(self(batch["halftone"]), batch["clean"])
        self.log_dict({f"train/{k}": v for k, v in terms.items()}, prog_bar=True, batch_size=len(batch["clean"]))
        return terms["loss"]

    def validation_step(self, batch, batch_idx):
        batch = self.prepare_batch(batch)
        prediction = self(batch["halftone"])
        clean = batch["clean"]
        terms = self.losses(prediction, clean)
        self.psnr(prediction.float().clamp(0, 1), clean.float())
        self.ssim(prediction.float().clamp(0, 1), clean.float())
        n = len(clean)
        self.log("val/loss", terms["loss"], batch_size=n, sync_dist=True)
        self.log_dict({"val/psnr": self.psnr, "val/ssim": self.ssim}, prog_bar=True, batch_size=n)
        return {"panel": [batch["halftone"], prediction, clean]} if batch_idx == 0 else None
