"""The callbacks every training run gets: the random state in checkpoints, and the final checkpoint."""

from __future__ import annotations

from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback


class RandomState(Callback):
    """Checkpoints carry the global random generators, so a resumed run draws what the uninterrupted one would.

    Training pairs take their seeds from torch's global generator (the shuffling sampler, each DataLoader
    iterator's base seed, :meth:`PairDataset.rng`; numpy and Python randomness here is explicitly seeded).
    Lightning restores weights, optimisers and loops but not that generator, so without this a resumed run
    replays the data of the first epochs.

    The state is restored when the checkpoint loads and again when the next epoch starts (if no batch ran
    in between): resuming from an end-of-epoch checkpoint, Lightning first builds a train iterator it throws
    away (one draw) and creates the epoch's iterator after ``on_train_epoch_start``. Exact (bit-identical
    weights with ``trainer.deterministic``) from checkpoints at epoch ends, the default; from a checkpoint in
    the middle of an epoch the rest of that epoch gets a fresh order, since a plain DataLoader cannot be
    fast-forwarded. Persistent workers keep generators of their own, which are not restored.
    """

    def __init__(self) -> None:
        self.pending: dict | None = None

    def state_dict(self) -> dict:  # tensors only: checkpoints load with weights_only=True
        state = {"torch": torch.get_rng_state()}
        if torch.cuda.is_available():
            state["cuda"] = torch.cuda.get_rng_state_all()
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        self.pending = state_dict
        self.restore(state_dict)

    def on_train_epoch_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if self.pending is not None:  # resumed at an epoch end: this epoch's iterator is made after this hook
            self.restore(self.pending)
        self.pending = None

    def on_train_batch_start(self, trainer: L.Trainer, pl_module: L.LightningModule, batch, batch_idx: int) -> None:
        self.pending = None

    @staticmethod
    def restore(state: dict) -> None:
        torch.set_rng_state(state["torch"])
        cuda = state.get("cuda")
        if cuda is not None and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda)


class FinalCheckpoint(Callback):
    """The final weights with the full training state (optimisers, loops), so a later run can resume from them.

    Saved when training ends, even under ``fast_dev_run``, by the training processes themselves: after
    ``ddp_spawn`` the launching process gets the weights back but not the state (its ``global_step`` reads 0).
    """

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        trainer.save_checkpoint(self.path, weights_only=False)
