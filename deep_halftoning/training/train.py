"""Train a stage: ``deep-halftoning train experiment=coarse [overrides...]``
(or ``python -m deep_halftoning.training.train``).

Composes ``conf/train.yaml`` with Hydra, builds the data module, the stage, the
loggers and callbacks, trains, publishes the stage's best and last checkpoints
to ``outputs/<stage>/`` for the next stage, and prints where everything is.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import warnings
from pathlib import Path

import hydra
import lightning as L
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from lightning.pytorch.loggers import CSVLogger, WandbLogger
from omegaconf import DictConfig, OmegaConf

from ..config import CONF_DIR, CONFIG_NAME
from ..io import atomic_output
from .callbacks import FinalCheckpoint, RandomState
from .publish import decide, publish, read_record, validation_fingerprint
from .stage_graph import upstream_checkpoints
from .train_command import run as run_command

#: The stages whose checkpoints descreen on their own (CoarseNet, or the whole pipeline).
DESCREENING_STAGES = ("coarse", "details", "joint")
#: The logger of the run summary, which is printed and also written to the run's train.log.
SUMMARY_LOG = f"{__name__}.summary"


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
    for key, path in upstream_checkpoints(cfg).items():
        if not Path(path).is_file():
            raise MissingCheckpoint(
                f"the {cfg.model.stage} stage needs the {key} checkpoint {path}, which does not exist: run "
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


def _loggers(cfg: DictConfig) -> list:
    return [instantiate(conf) for conf in (cfg.get("logger") or {}).values() if conf is not None]


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
    _check_sources(cfg)
    try:
        datamodule = instantiate(cfg.data, _convert_="all")
        datamodule.setup("fit")  # a missing folder or bad file fails here, before any training
    except (FileNotFoundError, ValueError, InstantiationException) as err:
        raise _setup_error(err.__cause__ or err) from None
    try:
        model = instantiate(cfg.model.module, _convert_="all")
    except InstantiationException as err:  # a missing, unknown or refused stage setting, or upstream network
        raise _setup_error(err.__cause__ or err, "model.module: ") from None
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
        _publish_run(cfg, trainer, output_dir, None if metric is None else float(metric), loggers)
    return None if metric is None else float(metric)


def best_checkpoint(trainer: L.Trainer, monitor: str, checkpoint_dir: Path) -> tuple[Path, float | None]:
    """The run's best checkpoint and score, as the checkpoint callback of the monitored metric kept them
    (the run's last checkpoint, unscored, when nothing was monitored, e.g. under ``fast_dev_run``)."""
    for callback in trainer.checkpoint_callbacks:
        if getattr(callback, "monitor", None) == monitor and callback.best_model_path:
            score = callback.best_model_score
            return Path(callback.best_model_path), None if score is None else float(score)
    # after ddp_spawn the launching process's callbacks are empty: the one kept file carries its state
    kept = [p for p in checkpoint_dir.glob("*.ckpt") if p.name != "last.ckpt"]
    if len(kept) == 1:
        states = torch.load(kept[0], map_location="cpu", weights_only=True).get("callbacks", {})
        for key, state in states.items():
            if f"monitor='{monitor}'" in key and state.get("best_model_score") is not None:
                return kept[0], float(state["best_model_score"])
    return checkpoint_dir / "last.ckpt", None


def _publish_run(cfg: DictConfig, trainer: L.Trainer, output_dir: Path, metric: float | None, loggers: list) -> None:
    """Publish the run's checkpoints to the stage folder when :func:`decide` says so, and say what happened."""
    checkpoint_dir, stage_dir = output_dir / "checkpoints", Path(cfg.paths.stage_dir)
    best, score = best_checkpoint(trainer, cfg.model.monitor, checkpoint_dir)
    config = output_dir / "config.yaml"
    with atomic_output(config) as tmp:  # the recipe that made this run's checkpoints
        OmegaConf.save(cfg, tmp)
    fingerprint = validation_fingerprint(OmegaConf.to_container(cfg.data, resolve=True), cfg.model.monitor)
    previous = read_record(stage_dir)
    decision = decide(cfg.publish, score if score is not None else metric, cfg.model.mode, fingerprint, previous)
    record = {"run": str(output_dir), "metric": cfg.model.monitor, "score": score, "validation": fingerprint}
    files = {"best": best, "last": checkpoint_dir / "last.ckpt", "config": config}
    published = publish(stage_dir, files, record) if decision.publish else {}
    _print_summary(cfg, metric, decision, published, files, previous, loggers)


def _finish_wandb(loggers: list) -> None:
    """Close the W&B run, so the next job of a sweep gets its own."""
    if any(isinstance(logger, WandbLogger) for logger in loggers):
        import wandb

        wandb.finish()


def _print_summary(cfg, metric, decision, published: dict, files: dict, previous, loggers: list) -> None:
    output_dir = Path(cfg.paths.output_dir)
    lines = [f"\nFinished the {cfg.model.stage} stage."]
    if metric is not None:
        lines.append(f"  {cfg.optimized_metric} = {metric:.4f} (last validation)")
    lines.append(f"  run folder: {output_dir} (its checkpoints: {output_dir / 'checkpoints'})")
    if published:
        lines.append(f"  published to {cfg.paths.stage_dir}/ ({decision.reason}):")
        lines += [f"    {name}: {path}" for name, path in published.items()]
    else:
        kept = previous.get("run", "-") if previous else "-"
        lines.append(f"  NOT published ({decision.reason}): {cfg.paths.stage_dir}/ keeps run {kept}")
        lines.append("    publish=always replaces it; later stages read the published files")
    for logger in loggers:
        if isinstance(logger, WandbLogger):
            offline = sorted(output_dir.glob("wandb/offline-run-*"))
            hint = f"wandb sync {offline[-1]}" if offline else "see the W&B project page"
            lines.append(f"  W&B: {hint}")
        elif isinstance(logger, CSVLogger):
            lines.append(f"  metrics: {logger.log_dir}/metrics.csv")
    best = published.get("best", files["best"])
    if cfg.model.stage in DESCREENING_STAGES:
        lines.append(f"  descreen with it: deep-halftoning descreen SCANS... -o OUT/ --checkpoint {best}")
    else:
        lines.append(f"  next: the stages that build on {cfg.model.stage}, e.g. make train-stage STAGE=details")
    text = "\n".join(lines)
    print(text, flush=True)
    logging.getLogger(SUMMARY_LOG).info(text)  # into the run's train.log (see _log_to_run)


class _QuietNotices(logging.Filter):
    """Drops Lightning's notices a user cannot act on: product tips and echoes of default settings."""

    NOTICES = ("💡 Tip:", "was configured so")

    def filter(self, record: logging.LogRecord) -> bool:
        return not any(notice in record.getMessage() for notice in self.NOTICES)


#: Warnings a user cannot act on (the ones they can, e.g. about their data, still show).
QUIET_WARNINGS = (
    ".*does not have many workers.*",
    ".*LeafSpec.*",  # Lightning under torch 2.14
    ".*module\\(s\\) in eval mode at the start of training.*",  # frozen upstream and feature networks, on purpose
    ".*is not supported by the model summary.*",  # bf16: the summary estimates sizes in fp32
)


class TrainingSetupError(Exception):
    """A problem with the training data or config, told in one line naming the key to set."""


def _setup_error(err: Exception, prefix: str = "") -> TrainingSetupError:
    """``err`` from building the data or the stage, in one line (the messages name the key to set)."""
    message = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return TrainingSetupError(prefix + message)


def _check_sources(cfg: DictConfig) -> None:
    """Refuse an unset folder in one line naming the key; warn when training and validation share a folder."""
    for key in ("train_source", "val_source"):
        source = cfg.data.get(key)
        # `"path" in source` is False for a missing (???) value; keys() lists it
        if source is not None and "path" in source.keys() and OmegaConf.is_missing(source, "path"):  # noqa: SIM118
            raise TrainingSetupError(
                f"no {key.split('_')[0]}ing photos given: set data.{key}.path=FOLDER "
                "(e.g. data=folder data.train_source.path=photos/train data.val_source.path=photos/val)"
            )
    train, val = cfg.data.get("train_source") or {}, cfg.data.get("val_source") or {}
    if train.get("kind") == val.get("kind") == "folder" and train.get("path") and train.get("path") == val.get("path"):
        warnings.warn(
            f"data.train_source.path and data.val_source.path are the same folder ({train.get('path')}): "
            "validation scores will be measured on training photos",
            stacklevel=2,
        )


def _log_to_run() -> None:
    """Lightning's messages through the handlers Hydra gave the root logger (the console and the run's
    ``train.log``) instead of Lightning's own console handler, less the notices a user cannot act on; the
    run summary (printed) to ``train.log`` as well."""
    notices = _QuietNotices()
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(notices)
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logger = logging.getLogger(name)
        logger.addFilter(notices)
        if root.handlers:  # Lightning added its handler because it was imported before Hydra set logging up
            for handler in list(logger.handlers):
                logger.removeHandler(handler)
            logger.propagate = True
        for handler in logger.handlers:
            handler.addFilter(notices)
    summary = logging.getLogger(SUMMARY_LOG)  # printed already: to the log files only
    summary.handlers = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
    summary.propagate = not summary.handlers


def _drop_unfinished_run(cfg: DictConfig) -> None:
    """Remove the folder of a run that failed or was interrupted before it saved a checkpoint (and the
    folders above it, up to ``paths.outputs_dir``, that this leaves empty): nothing to resume or look at."""
    run_dir = Path(cfg.paths.output_dir)
    if not run_dir.is_dir() or any(run_dir.rglob("*.ckpt")):
        return
    root = logging.getLogger()
    for handler in list(root.handlers):  # close train.log before its folder goes
        if isinstance(handler, logging.FileHandler) and run_dir in Path(handler.baseFilename).parents:
            root.removeHandler(handler)
            handler.close()
    shutil.rmtree(run_dir, ignore_errors=True)
    top = Path(cfg.paths.outputs_dir).resolve()
    for folder in run_dir.resolve().parents:
        if folder != top and top not in folder.parents:
            break
        try:
            folder.rmdir()  # only when empty
        except OSError:
            break


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name=CONFIG_NAME)
def main(cfg: DictConfig) -> float | None:
    """Hydra entry point (also used by ``--multirun`` sweeps)."""
    _log_to_run()
    os.environ.setdefault("WANDB_SILENT", "true")  # the run summary prints the W&B sync command itself
    with warnings.catch_warnings():
        for pattern in QUIET_WARNINGS:
            warnings.filterwarnings("ignore", pattern)
        try:
            return train(cfg)
        except (TrainingSetupError, MissingCheckpoint) as err:
            _drop_unfinished_run(cfg)
            print(f"deep-halftoning train: error: {err}", file=sys.stderr)
            raise SystemExit(2) from None
        except BaseException:  # a crash, Ctrl-C (Lightning exits with status 1 after a graceful stop)
            _drop_unfinished_run(cfg)
            raise


if __name__ == "__main__":
    sys.exit(run_command(sys.argv[1:], main))
