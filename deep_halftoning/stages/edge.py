"""EdgeStage: trains EdgeNet to predict the clean image's Canny edges (class-balanced BCE)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
from torchmetrics.classification import BinaryAveragePrecision, BinaryF1Score

from ..models import EdgeNet
from ..models.losses import balanced_bce
from .common import Stage


class EdgeStage(Stage):
    network_names = ("edge",)

    def __init__(
        self,
        *,
        optimizer: Callable,
        scheduler: Callable | None,
        net: Mapping | None = None,
        **kwargs,
    ) -> None:
        super().__init__(optimizer, scheduler, **kwargs)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.edge = EdgeNet(**dict(net or {}))
        self.f1 = BinaryF1Score()
        self.ap = BinaryAveragePrecision(thresholds=101)

    def forward(self, halftone: torch.Tensor) -> torch.Tensor:
        """Edge logits."""
        return self.edge(halftone)

    def training_step(self, batch, batch_idx):
        batch = self.prepare_batch(batch)
        loss = balanced_bce(self(batch["halftone"]), batch["edges"])
        self.log("train/loss", loss, prog_bar=True, batch_size=len(batch["edges"]))
        return loss

    def validation_step(self, batch, batch_idx):
        batch = self.prepare_batch(batch)
        logits, target = self(batch["halftone"]), batch["edges"]
        probabilities = torch.sigmoid(logits.float())
        self.f1(probabilities, target.int())
        self.ap(probabilities, target.int())
        n = len(target)
        self.log("val/loss", balanced_bce(logits, target), batch_size=n, sync_dist=True)
        self.log_dict({"val/f1": self.f1, "val/ap": self.ap}, prog_bar=True, batch_size=n)
        if batch_idx == 0:
            grey = [t.expand(-1, 3, -1, -1) for t in (probabilities, target)]
            return {"panel": [batch["halftone"], *grey, batch["clean"]]}
        return None
