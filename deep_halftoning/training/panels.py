"""Image panels of the first validation batch on the W&B dashboard, as a Lightning callback."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import lightning as L
import torch
from lightning.pytorch.loggers import WandbLogger


def panel_grid(columns: Sequence[torch.Tensor], samples: int = 4) -> torch.Tensor:
    """A ``3 x H x W`` float grid in [0, 1]: rows are samples, columns the given ``N x 3 x h x w`` images."""
    from torchvision.utils import make_grid

    n = min(samples, columns[0].shape[0])
    tiles = torch.stack([c[:n].detach().float().clamp(0, 1).cpu() for c in columns], dim=1).flatten(0, 1)
    return make_grid(tiles, nrow=len(columns), padding=2, pad_value=1.0)


class ImagePanels(L.Callback):
    """Logs the ``panel`` columns a stage's ``validation_step`` returns for its first batch, every
    ``every_n_epochs`` epochs, as 8-bit RGB (W&B casts float images to 8 bits unscaled: black panels).
    The last grid stays in :attr:`last` (e.g. for tests and notebooks)."""

    def __init__(self, every_n_epochs: int = 1, samples: int = 4, key: str = "val/panel") -> None:
        self.every_n_epochs, self.samples, self.key = every_n_epochs, samples, key
        self.last: torch.Tensor | None = None

    def on_validation_batch_end(self, trainer, pl_module, outputs, batch, batch_idx, dataloader_idx=0) -> None:
        if batch_idx or trainer.sanity_checking or not isinstance(outputs, Mapping) or "panel" not in outputs:
            return
        if self.every_n_epochs <= 0 or trainer.current_epoch % self.every_n_epochs:
            return
        self.last = panel_grid(outputs["panel"], self.samples)
        pixels = self.last.mul(255).round().to(torch.uint8).permute(1, 2, 0).numpy()
        for logger in trainer.loggers:
            if isinstance(logger, WandbLogger):
                logger.log_image(key=self.key, images=[pixels], step=trainer.global_step)
