"""The Hydra recipes end to end: composition, every stage under debug=fdr, chaining, errors, W&B."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import make_cfg, run_stage
from hydra.errors import ConfigCompositionException
from PIL import Image

from deep_halftoning.config import CONF_DIR, compose_config
from deep_halftoning.models.checkpoint import load_networks
from deep_halftoning.training import train as train_module
from deep_halftoning.training.train import MissingCheckpoint, TrainingSetupError

EXPERIMENTS = sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))


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
    cfg = compose_config(["experiment=details", "hparams_search=details_optuna"], hydra_config=True)
    assert "optuna" in cfg.hydra.sweeper._target_.lower()


def test_unknown_keys_and_bad_values_fail_naming_them(tmp_path):
    with pytest.raises(ConfigCompositionException, match="crop_sise"):
        make_cfg(tmp_path, "experiment=coarse", "data.crop_sise=64")
    with pytest.raises(ConfigCompositionException, match="experiment"):
        make_cfg(tmp_path, "experiment=coarsest")
    with pytest.raises(Exception, match="data.crop_size must be a positive integer"):
        run_stage(tmp_path, "coarse", "debug=fdr", "data.crop_size=-4")
    with pytest.raises(TrainingSetupError, match="data.train_source: image folder /no/such/photos"):
        run_stage(
            tmp_path,
            "coarse",
            "debug=fdr",
            "data=folder",
            "data.train_source.path=/no/such/photos",
            "data.val_source.path=/no/such/photos",
        )
    with pytest.raises(
        TrainingSetupError, match=r"^model.module: loss_weights must give exactly l1, fft, style .*unknown: l2"
    ):
        run_stage(tmp_path, "coarse", "debug=fdr", "+model.module.loss_weights.l2=1.0")


def _largest_change(before: Path, after: Path, name: str) -> float:
    """The largest difference between the parameters of network ``name`` in two checkpoints."""
    old, new = (dict(load_networks(path, [name])[name].named_parameters()) for path in (before, after))
    assert old.keys() == new.keys(), name
    return max((old[key] - new[key]).abs().max().item() for key in old)


def test_stage_wise_recipe_chains_checkpoints(tmp_path):
    """coarse -> edge -> details -> joint, each with debug=fdr, each reading what the last one published."""
    with pytest.raises(MissingCheckpoint, match="make train-stage STAGE=coarse"):
        run_stage(tmp_path, "details", "debug=fdr")
    published = {}
    for seed, experiment in enumerate(("coarse", "edge", "details", "joint")):  # each stage its own random start
        cfg, metric = run_stage(tmp_path, experiment, "debug=fdr", f"seed={seed}")
        assert metric is not None and torch.isfinite(torch.tensor(metric)), experiment
        published[experiment] = Path(cfg.paths.stage_dir)
        assert (published[experiment] / "best.ckpt").is_file(), experiment
        assert (published[experiment] / "last.ckpt").is_file(), experiment
    for name in ("coarse", "edge"):  # details froze the very networks coarse and edge published
        assert _largest_change(published[name] / "best.ckpt", published["details"] / "last.ckpt", name) == 0
    # joint (the last cfg) started from all three and took one Adam step: each parameter moves by at most its
    # learning rate (float32 rounding adds a little); a network left at its own random start is ~0.25 away
    module = cfg.model.module
    for name in ("coarse", "edge", "details"):
        lr = module.optimizer.lr if name == "details" else module.upstream_lr[name]
        change = _largest_change(published["details"] / "best.ckpt", published["joint"] / "last.ckpt", name)
        assert 0 < change <= 1.1 * lr, (name, change)


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


def wandb_records(path: Path):
    """The records of an offline run's ``.wandb`` file.

    wandb 0.31 has no Python reader (wandb-core writes the file), so this reads its
    LevelDB-log framing: a 7-byte ``:W&B`` header, then 32 KiB blocks of chunks, each with a 7-byte
    header (crc32, little-endian length, type 1 full / 2 first / 3 middle / 4 last) around a
    serialised ``wandb_internal_pb2.Record``.
    """
    from wandb.proto import wandb_internal_pb2

    data = path.read_bytes()
    assert data[:4] == b":W&B", "not a W&B transaction log"
    position, pending = 7, b""
    while position + 7 <= len(data):
        room = 32768 - position % 32768
        if room < 7:  # a block's tail too short for a chunk header is zero padding
            position += room
            continue
        length, kind = int.from_bytes(data[position + 4 : position + 6], "little"), data[position + 6]
        chunk = data[position + 7 : position + 7 + length]
        position += 7 + length
        pending = chunk if kind in (1, 2) else pending + chunk
        if kind in (1, 4):
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            yield record


def test_wandb_offline_run_logs_metrics_and_visible_panels(tmp_path, monkeypatch):
    """What a user sees on the dashboard: the validation metrics, and panels that are not black.

    (wandb 0.31 casts a float image in [0, 1] to 8 bits without scaling: the PNG it writes holds 0 and 1.)
    """
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
        "trainer.log_every_n_steps=1",
    )
    runs = list(Path(cfg.paths.output_dir).glob("wandb/offline-run-*"))  # inside the run folder
    assert len(runs) == 1
    panels = sorted(runs[0].glob("files/media/images/val/panel_*.png"))
    assert panels, "no image panel was written"
    for png in panels:
        pixels = np.asarray(Image.open(png).convert("RGB"))
        assert pixels.dtype == np.uint8 and len(np.unique(pixels)) > 20 and pixels.max() > 200, png.name
        assert pixels.mean() > 20, png.name  # photos, not a black frame
    history: dict[str, list[float]] = {}
    for record in wandb_records(next(runs[0].glob("run-*.wandb"))):
        for item in record.history.item:
            key = item.key or "/".join(item.nested_key)
            history.setdefault(key, []).append(json.loads(item.value_json))
    for key in ("val/psnr", "val/ssim", "train/loss"):
        assert key in history, sorted(history)
    assert all(5 < value < 100 for value in history["val/psnr"]), history["val/psnr"]
    assert all(-1 <= value <= 1 for value in history["val/ssim"]), history["val/ssim"]
    # the panels are history items pointing at those PNGs (one before training, one after the epoch)
    logged = sorted(runs[0] / "files" / name for names in history["val/panel/filenames"] for name in names)
    assert logged == panels


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
