"""ObjectStage: trains ObjectNet (PSPNet) on halftoned inputs (cross-entropy + auxiliary loss)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torchmetrics.classification import MulticlassJaccardIndex

from ..data.ade20k import IGNORE_INDEX
from ..models import ObjectNet
from .common import Stage, colour_segmentation


class ObjectStage(Stage):
    network_names = ("object",)

    def __init__(
        self,
        *,
        optimizer: Callable,
        scheduler: Callable | None,
        aux_weight: float,
        net: Mapping | None = None,
        ignore_index: int = IGNORE_INDEX,
        **kwargs,
    ) -> None:
        super().__init__(optimizer, scheduler, **kwargs)
        self.save_hyperparameters(ignore=["optimizer", "scheduler"])
        self.object = ObjectNet(**dict(net or {}))
        self.num_classes = self.object.config["num_classes"]
        self.aux_weight, self.ignore_index = aux_weight, ignore_index
        self.miou = MulticlassJaccardIndex(self.num_classes, ignore_index=ignore_index)

    def forward(self, halftone: torch.Tensor) -> torch.Tensor:
        """Class logits."""
        out = self.object(halftone)
        return out[0] if isinstance(out, tuple) else out

    def _labels(self, batch) -> torch.Tensor:
        if "segmentation" not in batch:
            raise KeyError("ObjectStage needs labelled data (a 'segmentation' key): use data=ade20k")
        return batch["segmentation"]

    def training_step(self, batch, batch_idx):
        batch = self.prepare_batch(batch)
        labels = self._labels(batch)
        logits, aux = self.object(batch["halftone"])
        main = F.cross_entropy(logits, labels, ignore_index=self.ignore_index)
        auxiliary = F.cross_entropy(aux, labels, ignore_index=self.ignore_index)
        loss = main + self.aux_weight * auxiliary
        n = len(labels)
        self.log_dict({"train/loss": loss, "train/ce": main, "train/aux": auxiliary}, prog_bar=True, batch_size=n)
        return loss

    def validation_step(self, batch, batch_idx):
        batch = self.prepare_batch(batch)
        labels = self._labels(batch)
        logits = self(batch["halftone"])
        self.miou(logits.argmax(1), labels)
        n = len(labels)
        self.log(
            "val/loss", F.cross_entropy(logits, labels, ignore_index=self.ignore_index), batch_size=n, sync_dist=True
        )
        self.log("val/miou", self.miou, prog_bar=True, batch_size=n)
        if batch_idx == 0:
            predicted = colour_segmentation(logits.argmax(1), self.num_classes)
            truth = colour_segmentation(labels, self.num_classes)
            return {"panel": [batch["halftone"], predicted, truth, batch["clean"]]}
        return None
