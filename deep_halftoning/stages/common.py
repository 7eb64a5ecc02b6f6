"""What every training stage shares: optimisers from config, network specs in checkpoints, frozen networks."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import lightning as L
import torch
from torch import nn

from ..models.checkpoint import CHECKPOINT_KEY, network_spec


def exact_keys(given: Mapping, keys: tuple[str, ...], what: str) -> dict:
    """``given`` as a dict, checked to hold exactly ``keys``: the stage configs state every value
    (``model.module.<what>``), so a missing or misspelt key is an error, never a silent default."""
    missing, unknown = [k for k in keys if k not in given], sorted(set(given) - set(keys))
    if missing or unknown:
        raise ValueError(
            f"{what} must give exactly {', '.join(keys)} (missing: {', '.join(missing) or 'none'}; "
            f"unknown: {', '.join(unknown) or 'none'})"
        )
    return {k: given[k] for k in keys}


def make_scheduler(factory: Callable | None, optimizer: torch.optim.Optimizer) -> dict | None:
    """A per-epoch LR scheduler entry from a config partial, or ``None``."""
    return None if factory is None else {"scheduler": factory(optimizer), "interval": "epoch"}


def freeze(net: nn.Module) -> nn.Module:
    """No gradients and eval mode (BatchNorm statistics fixed)."""
    net.requires_grad_(False)
    return net.eval()


class Stage(L.LightningModule):
    """Base of the training stages: the networks of :meth:`named_networks` are saved with their specs
    (by default the attributes named in :attr:`network_names`); networks in :attr:`frozen` keep eval mode.

    ``optimizer`` and ``scheduler`` are the config's partials (``_partial_: true``; no scheduler is
    ``None``): like the loss weights, they have one home, the stage's YAML under ``conf/model/``.
    """

    network_names: tuple[str, ...] = ()
    frozen: tuple[nn.Module, ...] = ()

    def __init__(
        self,
        optimizer: Callable,
        scheduler: Callable | None,
        channels_last: bool = False,
    ) -> None:
        super().__init__()
        self.optimizer_factory, self.scheduler_factory = optimizer, scheduler
        self.channels_last = channels_last

    def setup(self, stage: str) -> None:
        if self.channels_last:
            self.to(memory_format=torch.channels_last)

    def prepare_batch(self, batch: Mapping) -> dict:
        """Batch tensors in the stage's memory format."""
        if not self.channels_last:
            return dict(batch)
        return {
            k: v.contiguous(memory_format=torch.channels_last) if torch.is_tensor(v) and v.ndim == 4 else v
            for k, v in batch.items()
        }

    def train(self, mode: bool = True) -> Stage:
        super().train(mode)
        for net in self.frozen:  # frozen networks keep their BatchNorm statistics
            net.eval()
        return self

    def named_networks(self) -> dict[str, tuple[nn.Module, str]]:
        """Network name -> (module, prefix of its weights in the stage's state dict)."""
        return {name: (getattr(self, name), f"{name}.") for name in self.network_names}

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        checkpoint[CHECKPOINT_KEY] = {
            "stage": type(self).__name__,
            "networks": {name: network_spec(net, prefix) for name, (net, prefix) in self.named_networks().items()},
        }

    def configure_optimizers(self):
        """One optimiser (and scheduler) over the stage's single trained network."""
        ((net, _),) = self.named_networks().values()
        optimizer = self.optimizer_factory(net.parameters())
        scheduler = make_scheduler(self.scheduler_factory, optimizer)
        return optimizer if scheduler is None else {"optimizer": optimizer, "lr_scheduler": scheduler}


def segmentation_colours(num_classes: int, seed: int = 7) -> torch.Tensor:
    """A fixed colour per class (``num_classes x 3``), for panels."""
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(num_classes, 3, generator=generator) * 0.8 + 0.2


def colour_segmentation(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``N x H x W`` class indices to ``N x 3 x H x W`` colours; ignored pixels are black."""
    palette = segmentation_colours(num_classes).to(labels.device)
    valid = (labels >= 0) & (labels < num_classes)
    colours = palette[labels.clamp(0, num_classes - 1)].permute(0, 3, 1, 2)
    return colours * valid.unsqueeze(1)
