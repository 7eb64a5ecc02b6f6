"""Lightning's W&B logger without the settings wandb 0.31 warns about on every run."""

from __future__ import annotations

from lightning.pytorch.loggers import WandbLogger


class QuietWandbLogger(WandbLogger):
    """:class:`WandbLogger` that does not pass ``anonymous`` to ``wandb.init`` (Lightning passes it even
    when unset, and wandb 0.31 then warns that the setting has no effect: noise a user cannot act on)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        if self._wandb_init.get("anonymous") is None:
            self._wandb_init.pop("anonymous", None)
