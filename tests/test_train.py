"""The Hydra recipes end to end: composition, every stage under debug=fdr, chaining, errors, W&B."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from hydra.errors import ConfigCompositionException
from omegaconf import open_dict
from tiny_recipes import TINY_DATA, TINY_NETWORKS

from deep_halftoning import train as train_module
from deep_halftoning.train import CONF_DIR, MissingCheckpoint, train

EXPERIMENTS = sorted(p.stem for p in (Path(CONF_DIR) / "experiment").glob("*.yaml"))
SMALL_DATA, SMALL_NETS = TINY_DATA, TINY_NETWORKS


def make_cfg(tmp_path: Path, *overrides: str, run: str = "run"):
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"paths.outputs_dir={tmp_path / 'outputs'}", *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path / "outputs" / cfg.model.stage / "runs" / run)
    return cfg


def run_stage(tmp_path: Path, experiment: str, *overrides: str, run: str = "run"):
    cfg = make_cfg(tmp_path, f"experiment={experiment}", "trainer=cpu", *SMALL_DATA, *SMALL_NETS, *overrides, run=run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cfg, train(cfg)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes(tmp_path, experiment):
    cfg = make_cfg(tmp_path, f"experiment={experiment}")
    assert cfg.model.stage == experiment.removesuffix("_paper")
    assert cfg.model.module._target_.startswith("deep_halftoning.stages.")
    if experiment.endswith("_paper"):
        assert cfg.networks.coarse.width == 64 and cfg.data.crop_size == 256


def test_trainer_logger_and_debug_options_compose(tmp_path):
    for override in (
        "trainer=gpu",
        "trainer=ddp",
        "trainer=ddp_spawn",
        "trainer=multinode",
        "logger=csv",
        "logger=none",
        "debug=fdr",
        "debug=overfit",
        "debug=limit",
        "data=gpu",
        "networks=paper",
    ):
        make_cfg(tmp_path, "experiment=details", override)
    with initialize_config_dir(CONF_DIR, version_base="1.3"):
        cfg = compose(
            "train", overrides=["experiment=details", "hparams_search=details_optuna"], return_hydra_config=True
        )
        assert "optuna" in cfg.hydra.sweeper._target_.lower()


def test_unknown_keys_and_bad_values_fail_naming_them(tmp_path):
    with pytest.raises(ConfigCompositionException, match="crop_sise"):
        make_cfg(tmp_path, "experiment=coarse", "data.crop_sise=64")
    with pytest.raises(ConfigCompositionException, match="experiment"):
        make_cfg(tmp_path, "experiment=coarsest")
    with pytest.raises(Exception, match="data.crop_size must be a positive integer"):
        run_stage(tmp_path, "coarse", "debug=fdr", "data.crop_size=-4")
    with pytest.raises(FileNotFoundError, match="/no/such/photos"):
        run_stage(
            tmp_path,
            "coarse",
            "debug=fdr",
            "data=folder",
            "data.train_source.path=/no/such/photos",
            "data.val_source.path=/no/such/photos",
        )


def test_stage_wise_recipe_chains_checkpoints(tmp_path):
    """coarse -> edge -> details -> joint, each with debug=fdr, each reading what the last one published."""
    with pytest.raises(MissingCheckpoint, match="make train-stage STAGE=coarse"):
        run_stage(tmp_path, "details", "debug=fdr")
    for experiment in ("coarse", "edge", "details", "joint"):
        cfg, metric = run_stage(tmp_path, experiment, "debug=fdr")
        assert metric is not None and torch.isfinite(torch.tensor(metric)), experiment
        assert (Path(cfg.paths.stage_dir) / "best.ckpt").is_file(), experiment
        assert (Path(cfg.paths.stage_dir) / "last.ckpt").is_file(), experiment


def test_every_epoch_leaves_a_checkpoint(tmp_path):
    """A killed run loses at most the epoch in progress: the best and the last epoch are on disk."""
    frozen = ["model.module.optimizer.lr=0", "networks.coarse.norm=none"]  # the metric never improves after epoch 0
    cfg, _ = run_stage(tmp_path, "coarse", "trainer.max_epochs=3", "trainer.limit_val_batches=1", *frozen)
    saved = sorted(p.name for p in (Path(cfg.paths.output_dir) / "checkpoints").glob("*.ckpt"))
    assert saved == ["epoch000-step0000002.ckpt", "last.ckpt"], saved
    assert torch.load(Path(cfg.paths.stage_dir) / "last.ckpt", weights_only=True)["global_step"] == 6  # 3 x 2
    assert torch.load(Path(cfg.paths.stage_dir) / "best.ckpt", weights_only=True)["epoch"] == 0


def test_object_stage_recipe(tmp_path, ade_tree):
    cfg, metric = run_stage(
        tmp_path, "object", "debug=fdr", f"data.train_source.root={ade_tree}", f"data.val_source.root={ade_tree}"
    )
    assert cfg.model.monitor == "val/miou" and metric is not None


def test_wandb_offline_run_holds_the_logged_keys(tmp_path, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    cfg, _ = run_stage(
        tmp_path,
        "coarse",
        "logger=wandb",
        "debug=limit",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
    )
    runs = list(Path(cfg.paths.output_dir).glob("wandb/offline-run-*/run-*.wandb"))  # inside the run folder
    assert len(runs) == 1
    data = runs[0].read_bytes()
    for key in (b"val/psnr", b"val/ssim", b"train/loss", b"val/panel", b"coarse"):
        assert key in data, key


def test_wandb_mode_follows_login(monkeypatch, tmp_path):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", str(tmp_path / "netrc"))
    monkeypatch.setenv("WANDB_MODE", "")
    assert train_module.wandb_offline()
    monkeypatch.setenv("WANDB_API_KEY", "x" * 40)
    assert not train_module.wandb_offline()
    monkeypatch.setenv("WANDB_MODE", "offline")
    assert train_module.wandb_offline()


def test_ckpt_path_last_finds_the_newest_run(tmp_path):
    cfg, _ = run_stage(
        tmp_path,
        "coarse",
        "logger=none",
        "debug=limit",
        "trainer.max_epochs=1",
        "trainer.limit_train_batches=2",
        "trainer.limit_val_batches=1",
        run="first",
    )
    resumed = make_cfg(tmp_path, "experiment=coarse", "ckpt_path=last", run="second")
    assert train_module.resolve_ckpt_path(resumed).endswith("runs/first/checkpoints/last.ckpt")
    with pytest.raises(FileNotFoundError, match="no last.ckpt"):
        train_module.resolve_ckpt_path(make_cfg(tmp_path / "empty", "experiment=coarse", "ckpt_path=last"))
    assert os.path.isfile(train_module.resolve_ckpt_path(resumed))
