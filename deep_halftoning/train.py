"""Train a stage: ``python -m deep_halftoning.train experiment=coarse [overrides...]``.

Composes ``conf/train.yaml`` with Hydra, builds the data module, the stage, the
loggers and callbacks, trains, publishes the stage's best and last checkpoints
to ``outputs/<stage>/`` for the next stage, and prints where everything is.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

import hydra
import lightning as L
import torch
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig, OmegaConf

from .io import atomic_output

CONF_DIR = str(Path(__file__).resolve().parents[1] / "conf")
#: The networks each stage needs from earlier stages (``use_objects`` adds ``object``).
UPSTREAM_NEEDS = {"details": ("coarse", "edge"), "joint": ("coarse", "edge", "details")}


class MissingCheckpoint(FileNotFoundError):
    """A stage needs the checkpoint of an earlier stage that has not been trained."""


def wandb_offline() -> bool:
    """Online only when asked (``WANDB_MODE=online``) or logged in (API key or netrc entry)."""
    mode = os.environ.get("WANDB_MODE", "").lower()
    if mode in ("online", "run"):
        return False
    if mode in ("offline", "dryrun", "disabled"):
        return True
    if os.environ.get("WANDB_API_KEY"):
        return False
    netrc = Path(os.environ.get("NETRC", Path.home() / ".netrc"))
    return not (netrc.is_file() and "api.wandb.ai" in netrc.read_text(errors="ignore"))


if not OmegaConf.has_resolver("wandb_offline"):
    OmegaConf.register_new_resolver("wandb_offline", wandb_offline)


def check_upstream(cfg: DictConfig) -> None:
    """Fail early, naming the ``make`` command, when an earlier stage's checkpoint is missing."""
    stage = cfg.model.stage
    needs = list(UPSTREAM_NEEDS.get(stage, ()))
    if cfg.model.module.get("use_objects", False):
        needs.append("object")
    for key in needs:
        path = cfg.model.module.checkpoints.get(key)
        if path is not None and not Path(path).is_file():
            raise MissingCheckpoint(
                f"the {stage} stage needs the {key} checkpoint {path}, which does not exist: run "
                f"`make train-stage STAGE={key}` first, or set model.module.checkpoints.{key}=PATH "
                "(null starts that network from random weights)"
            )


def resolve_ckpt_path(cfg: DictConfig) -> str | None:
    """``ckpt_path``: a file, or ``last`` for the newest ``last.ckpt`` among this stage's runs."""
    wanted = cfg.get("ckpt_path")
    if wanted in (None, ""):
        return None
    if wanted != "last":
        if not Path(wanted).is_file():
            raise FileNotFoundError(f"ckpt_path {wanted} does not exist")
        return str(wanted)
    runs = Path(cfg.paths.stage_dir) / "runs"
    candidates = sorted(runs.glob("*/checkpoints/last.ckpt"), key=lambda p: p.stat().st_mtime)
    if not candidates:
        raise FileNotFoundError(f"ckpt_path=last: no last.ckpt under {runs}/*/checkpoints/")
    return str(candidates[-1])


def publish_checkpoints(checkpoint_dir: Path, stage_dir: Path) -> dict[str, Path]:
    """Copy the run's best and last checkpoints to ``stage_dir/{best,last}.ckpt`` (what later stages read)."""
    last = checkpoint_dir / "last.ckpt"
    ranked = sorted(
        (p for p in checkpoint_dir.glob("*.ckpt") if not p.name.startswith("last")), key=lambda p: p.stat().st_mtime
    )
    published = {}
    for name, source in (("best", ranked[-1] if ranked else last), ("last", last)):
        if source.is_file():
            with atomic_output(stage_dir / f"{name}.ckpt") as tmp:
                shutil.copyfile(source, tmp)
            published[name] = stage_dir / f"{name}.ckpt"
    return published


def _loggers(cfg: DictConfig) -> list:
    return [instantiate(conf) for conf in (cfg.get("logger") or {}).values() if conf is not None]


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


def _callbacks(cfg: DictConfig, have_logger: bool) -> list:
    configured = [
        instantiate(conf)
        for name, conf in (cfg.get("callbacks") or {}).items()
        if conf is not None and (have_logger or name != "lr_monitor")
    ]
    return [*configured, RandomState(), FinalCheckpoint(Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt")]


def train(cfg: DictConfig) -> float | None:
    """Run one stage as configured; returns the optimised metric (for sweeps)."""
    output_dir = Path(cfg.paths.output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("WANDB_DIR", str(output_dir))
    os.environ.setdefault("WANDB_CACHE_DIR", str(output_dir / ".wandb-cache"))
    L.seed_everything(cfg.seed, workers=True)
    check_upstream(cfg)
    ckpt_path = resolve_ckpt_path(cfg)
    datamodule = instantiate(cfg.data, _convert_="all")
    datamodule.setup("fit")  # a missing folder or bad file fails here, before any training
    model = instantiate(cfg.model.module, _convert_="all")
    loggers = _loggers(cfg)
    trainer = instantiate(cfg.trainer, callbacks=_callbacks(cfg, bool(loggers)), logger=loggers or False)
    for logger in loggers:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    try:
        trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path, weights_only=True)  # FinalCheckpoint saves
    finally:
        _finish_wandb(loggers)
    metric = trainer.callback_metrics.get(cfg.optimized_metric)
    if trainer.is_global_zero:
        published = publish_checkpoints(output_dir / "checkpoints", Path(cfg.paths.stage_dir))
        with atomic_output(Path(cfg.paths.stage_dir) / "config.yaml") as tmp:  # the recipe that made them
            OmegaConf.save(cfg, tmp)
        published["config"] = Path(cfg.paths.stage_dir) / "config.yaml"
        _print_summary(cfg, metric, published, output_dir, loggers)
    return None if metric is None else float(metric)


def _finish_wandb(loggers: list) -> None:
    """Close the W&B run, so the next job of a sweep gets its own."""
    if any(type(logger).__name__ == "WandbLogger" for logger in loggers):
        import wandb

        wandb.finish()


def _print_summary(cfg: DictConfig, metric, published: dict, output_dir: Path, loggers: list) -> None:
    lines = [f"\nFinished the {cfg.model.stage} stage."]
    if metric is not None:
        lines.append(f"  {cfg.optimized_metric} = {float(metric):.4f} (last validation)")
    for name, path in published.items():
        lines.append(f"  {name}: {path}" if name == "config" else f"  {name} checkpoint: {path}")
    lines.append(f"  run folder: {output_dir}")
    for logger in loggers:
        kind = type(logger).__name__
        if kind == "WandbLogger":
            offline = sorted(Path(output_dir).glob("wandb/offline-run-*"))
            hint = f"wandb sync {offline[-1]}" if offline else "see the W&B project page"
            lines.append(f"  W&B: {hint}")
        elif kind == "CSVLogger":
            lines.append(f"  metrics: {logger.log_dir}/metrics.csv")
    print("\n".join(lines), flush=True)


@hydra.main(version_base="1.3", config_path=CONF_DIR, config_name="train")
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point (also used by ``--multirun`` sweeps)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*LeafSpec.*")  # Lightning under torch 2.14
        # frozen networks (upstream stages, feature nets) are in eval mode on purpose
        warnings.filterwarnings("ignore", ".*module\\(s\\) in eval mode at the start of training.*")
        return train(cfg)


def run(argv: list[str] | None = None) -> None:
    """Entry for ``deep-halftoning train ...``: Hydra reads ``sys.argv``."""
    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    main()


if __name__ == "__main__":
    main()
