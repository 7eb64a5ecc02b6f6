"""What many tests share: tiny networks and recipes, stages as their configs build them, stage checkpoints,
training in this process or in a subprocess, and the callbacks that training subprocesses report through.

Training subprocesses started by :func:`train_process` import this module (``tests/`` is on their path), so
``+callbacks.NAME._target_=helpers.RankReport`` adds a callback of this module to a run.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import torch
from hydra.utils import get_class, instantiate
from lightning.pytorch.callbacks import Callback
from omegaconf import OmegaConf, open_dict

from deep_halftoning.config import compose_config
from deep_halftoning.models.pipeline import DescreeningPipeline

ROOT = Path(__file__).resolve().parents[1]

#: Network sizes that train in seconds on a CPU, by the names of ``conf/networks/*.yaml``.
TINY_NETS = {
    "coarse": {"width": 8, "depth": 3},
    "edge": {"width": 8, "layers": 2},
    "details": {"width": 8, "blocks": 1},
    "discriminator": {"width": 8, "layers": 2},
}
#: Hydra overrides that shrink any recipe's networks to :data:`TINY_NETS` (and ObjectNet to a small head).
TINY_NETWORKS = [
    *(f"networks.{net}.{key}={value}" for net, sizes in TINY_NETS.items() for key, value in sizes.items()),
    "networks.object.backbone=resnet18",
    "networks.object.head_width=16",
]
#: Hydra overrides that shrink any recipe's data to seconds on a CPU.
TINY_DATA = [
    "data.crop_size=32",
    "data.batch_size=4",
    "data.samples_per_epoch=8",
    "data.val_samples=4",
    "data.loader.num_workers=0",
    "data.loader.persistent_workers=false",
]


def configured_stage(model: str, *, loss_weights: dict | None = None, **replaced):
    """``model=<model>``'s stage as ``conf/model/<model>.yaml`` (the one home of its loss weights, optimisers
    and schedulers) builds it: each keyword replaces that key of its ``model.module``, the given
    ``loss_weights`` terms replace the config's, and upstream checkpoints are loaded only where
    ``checkpoints`` names them (the config's point at published stages a test does not have)."""
    module = OmegaConf.to_container(compose_config([f"model={model}"]).model.module, resolve=True)
    if "checkpoints" in module:
        module["checkpoints"] = dict.fromkeys(module["checkpoints"]) | (replaced.pop("checkpoints", None) or {})
    if loss_weights:
        module["loss_weights"] |= loss_weights
    stage = get_class(module.pop("_target_"))
    return stage(**instantiate(module | replaced, _convert_="all"))  # the optimiser partials; errors unwrapped


def save_stage(stage, path: Path, **entries) -> Path:
    """``stage`` saved at ``path`` as training saves it (the networks' specs added by the stage), with
    further checkpoint ``entries`` (e.g. ``global_step``)."""
    checkpoint = {"state_dict": stage.state_dict(), **entries}
    stage.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, path)
    return path


def lite_pipeline(seed: int = 0) -> DescreeningPipeline:
    """A small random pipeline whose DetailsNet really changes the coarse image."""
    torch.manual_seed(seed)
    pipeline = DescreeningPipeline.build(
        coarse={"width": 8, "depth": 3, "full_res": 8, "lowpass": 1.0},
        edge={"width": 8, "layers": 2},
        details={"width": 8, "blocks": 1, "fold": 2},
    )
    torch.nn.init.normal_(pipeline.details.body[-3].weight, std=0.1)
    return pipeline.eval()


def make_cfg(tmp_path: Path, *overrides: str, run: str = "run"):
    """The training config with ``overrides``, writing under ``tmp_path/outputs`` (run folder ``run``)."""
    cfg = compose_config([f"paths.outputs_dir={tmp_path / 'outputs'}", *overrides])
    with open_dict(cfg):
        cfg.paths.output_dir = str(tmp_path / "outputs" / cfg.model.stage / "runs" / run)
    return cfg


def run_stage(tmp_path: Path, experiment: str, *overrides: str, run: str = "run"):
    """Train ``experiment`` with tiny data and networks in this process: its config and optimised metric."""
    from deep_halftoning.training.train import train

    cfg = make_cfg(tmp_path, f"experiment={experiment}", "trainer=cpu", *TINY_DATA, *TINY_NETWORKS, *overrides, run=run)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cfg, train(cfg)


def train_process(
    *args: str, cwd: Path = ROOT, env: dict | None = None, cli: bool = False, timeout: float = 300
) -> subprocess.CompletedProcess:
    """``python -m deep_halftoning.training.train ARGS`` (``deep-halftoning train ARGS`` with ``cli``) in a
    subprocess, this checkout and ``tests/`` first on its import path, W&B offline, ``env`` added; Hydra's
    ``--`` flags go before the overrides. Does not check the exit status."""
    flags = [arg for arg in args if arg.startswith("--")]
    entry = ["deep_halftoning.cli", "train"] if cli else ["deep_halftoning.training.train"]
    command = [sys.executable, "-m", *entry, *flags, *(arg for arg in args if arg not in flags)]
    return subprocess.run(command, cwd=cwd, env=training_env(env), capture_output=True, text=True, timeout=timeout)


def training_env(extra: dict | None = None) -> dict:
    """The environment of a training subprocess: this checkout and ``tests/`` first on the import path,
    W&B offline, then ``extra``."""
    path = os.pathsep.join(filter(None, [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "WANDB_MODE": "offline", "PYTHONPATH": path, **(extra or {})}


class RankReport(Callback):
    """Each training process writes ``rank<global rank>.json`` into ``folder``: its rank and world size, steps,
    a digest of its first training batch and digests of the LightningModule's parameters before and after.

    Picklable (``ddp_spawn``); a training subprocess adds it with ``+callbacks.ranks._target_=helpers.RankReport``.
    Read the reports with :func:`rank_reports`.
    """

    def __init__(self, folder: str) -> None:
        self.folder = str(folder)
        self.report: dict = {}

    @staticmethod
    def digest(tensors) -> str:
        sha = hashlib.sha1()
        for tensor in tensors:
            sha.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
        return sha.hexdigest()

    def on_train_start(self, trainer, pl_module) -> None:
        self.report = {
            "rank": trainer.global_rank,
            "world_size": trainer.world_size,
            "strategy": type(trainer.strategy).__name__,
            "initial": self.digest(pl_module.parameters()),
        }

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        self.report.setdefault("first_batch", self.digest([batch["clean"], batch["halftone"]]))

    def on_train_end(self, trainer, pl_module) -> None:
        names = [name for name, _ in pl_module.named_parameters()]
        self.report |= {
            "global_step": trainer.global_step,
            "parameters": self.digest(pl_module.parameters()),
            "per_parameter": dict(zip(names, (self.digest([p]) for p in pl_module.parameters()), strict=True)),
        }
        path = Path(self.folder) / f"rank{trainer.global_rank}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.report))


def rank_reports(folder: Path, world_size: int = 2) -> list[dict]:
    """The reports of a :class:`RankReport` run, checked: ``world_size`` distinct ranks that ran the same steps on
    different data and ended with identical, trained parameters (what data-parallel training must give)."""
    reports = [json.loads(p.read_text()) for p in sorted(Path(folder).glob("rank*.json"))]
    assert sorted(r["rank"] for r in reports) == list(range(world_size)), reports
    assert all(r["world_size"] == world_size for r in reports), reports
    assert len({r["global_step"] for r in reports}) == 1 and reports[0]["global_step"] > 0, reports
    assert len({r["first_batch"] for r in reports}) == world_size, "the ranks trained on the same batch"
    assert len({r["initial"] for r in reports}) == 1, "the ranks started from different weights"
    differing = sorted(
        name
        for name, value in reports[0]["per_parameter"].items()
        if any(r["per_parameter"][name] != value for r in reports)
    )
    assert not differing, f"parameters differ between ranks: {differing}"
    assert reports[0]["parameters"] != reports[0]["initial"], "training changed no parameter"
    return reports


class RecordSteps(Callback):
    """Appends ``step epoch lr batch-hash`` for every training batch the process runs to ``path``; with
    ``kill_at``, SIGKILLs the process as that step begins."""

    def __init__(self, path: str, kill_at: int | None = None) -> None:
        self.path, self.kill_at = Path(path), kill_at

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        digest = hashlib.sha1(batch["clean"].cpu().numpy().tobytes() + batch["halftone"].cpu().numpy().tobytes())
        lr = trainer.optimizers[0].param_groups[0]["lr"]
        with self.path.open("a") as log:
            log.write(f"{trainer.global_step} {trainer.current_epoch} {lr:.6g} {digest.hexdigest()[:12]}\n")
