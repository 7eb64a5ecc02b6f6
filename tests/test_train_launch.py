"""Launching training as users do: multirun sweeps, launchers, DDP across processes and nodes, resume after a kill.

The sweeps and cluster launchers are ``slow`` (``make test-slow``); resume and the ``ddp_spawn`` recipe stay in
the default suite.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from lightning.pytorch.callbacks import Callback
from tiny_recipes import TINY_DATA, TINY_NETWORKS

ROOT = Path(__file__).resolve().parents[1]
TINY = [*TINY_DATA, "data.samples_per_epoch=16", *TINY_NETWORKS, "trainer=cpu", "logger=none"]
#: lets training subprocesses load the test callbacks below (``test_train_launch.RankReport``, ``RecordSteps``)
TESTS_PATH = os.pathsep.join(filter(None, [str(ROOT / "tests"), os.environ.get("PYTHONPATH")]))


def train_command(*overrides: str) -> list[str]:
    flags = [o for o in overrides if o.startswith("--")]  # Hydra's flags go before the overrides
    return [
        sys.executable,
        "-m",
        "deep_halftoning.training.train",
        *flags,
        *TINY,
        *(o for o in overrides if o not in flags),
    ]


def run(command: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONWARNINGS": "ignore", **kwargs.pop("env", {})}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, **kwargs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_basic_multirun_sweep(tmp_path):
    run(
        train_command(
            "--multirun",
            "experiment=coarse",
            "debug=fdr",
            f"paths.outputs_dir={tmp_path}",
            "model.module.optimizer.lr=1e-4,3e-4",
        )
    )
    jobs = sorted((tmp_path / "multirun").glob("*/*/.hydra/overrides.yaml"))
    assert len(jobs) == 2
    assert "lr=0.0001" in jobs[0].read_text() and "lr=0.0003" in jobs[1].read_text()


@pytest.mark.slow
def test_optuna_sweep_optimises_the_validation_metric(tmp_path):
    result = run(
        train_command(
            "--multirun",
            "experiment=details",
            "hparams_search=details_optuna",
            "debug=fdr",
            f"paths.outputs_dir={tmp_path}",
            "hydra.sweeper.n_trials=2",
            "hydra.sweeper.sampler.n_startup_trials=2",
            "model.module.checkpoints.coarse=null",
            "model.module.checkpoints.edge=null",
        )
    )
    best = next((tmp_path / "multirun").glob("*/optimization_results.yaml")).read_text()
    assert "best_value" in best and "model.module.optimizer.lr" in best, result.stdout[-2000:]


@pytest.mark.slow
def test_submitit_local_launcher(tmp_path):
    run(
        train_command(
            "--multirun",
            "experiment=coarse",
            "debug=fdr",
            f"paths.outputs_dir={tmp_path}",
            "hydra/launcher=submitit_local",
            "hydra.launcher.timeout_min=10",
        ),
        timeout=400,
    )
    assert list((tmp_path / "multirun").glob("*/0/.hydra/config.yaml"))
    assert (tmp_path / "coarse" / "last.ckpt").is_file()


class RankReport(Callback):
    """Each training process writes ``rank<global rank>.json`` into ``folder``: its rank and world size, steps,
    a digest of its first training batch and digests of the LightningModule's parameters before and after.

    Picklable (``ddp_spawn``) and importable by training subprocesses with ``PYTHONPATH=tests``, as
    ``+callbacks.ranks._target_=test_train_launch.RankReport``. Read the reports with :func:`rank_reports`.
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


def test_ddp_spawn_recipe_trains_the_details_gan(tmp_path):
    """``trainer=ddp_spawn`` from the command line: two ranks train (on different batches) and end identical."""
    result = run(
        train_command(
            "experiment=details",
            "trainer=ddp_spawn",
            "trainer.accelerator=cpu",
            "trainer.max_steps=3",
            "trainer.limit_val_batches=1",
            "data.batch_size=8",
            f"paths.outputs_dir={tmp_path}",
            "model.module.checkpoints.coarse=null",
            "model.module.checkpoints.edge=null",
            f"+callbacks.ranks._target_={__name__}.RankReport",
            f"+callbacks.ranks.folder={tmp_path / 'ranks'}",
        ),
        env={"PYTHONPATH": TESTS_PATH},
    )
    assert "Finished the details stage" in result.stdout
    reports = rank_reports(tmp_path / "ranks", world_size=2)
    assert reports[0]["global_step"] == 3  # three optimiser steps: one batch
    published = torch.load(tmp_path / "details" / "last.ckpt", map_location="cpu", weights_only=True)
    assert published["global_step"] == 3
    assert (
        RankReport.digest(published["state_dict"][name] for name in reports[0]["per_parameter"])
        == (reports[0]["parameters"])
    )  # the published weights are the ones both ranks ended with


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_two_nodes_with_torchrun_on_loopback(tmp_path):
    port = _free_port()
    common = ["--nnodes=2", "--nproc_per_node=1", "--master_addr=127.0.0.1", f"--master_port={port}"]
    training = [
        "-m",
        "deep_halftoning.training.train",
        *TINY,
        "experiment=coarse",
        "trainer=multinode",
        "trainer.accelerator=cpu",
        "trainer.devices=1",
        "trainer.sync_batchnorm=false",
        "trainer.max_steps=3",
        "trainer.limit_val_batches=1",
        f"paths.outputs_dir={tmp_path}",
        f"hydra.run.dir={tmp_path / 'run'}",
        f"+callbacks.ranks._target_={__name__}.RankReport",
        f"+callbacks.ranks.folder={tmp_path / 'ranks'}",
    ]
    env = {**os.environ, "NUM_NODES": "2", "WANDB_MODE": "offline", "PYTHONWARNINGS": "ignore"}
    env["PYTHONPATH"] = TESTS_PATH
    nodes = [
        subprocess.Popen(
            [sys.executable, "-m", "torch.distributed.run", *common, f"--node_rank={rank}", *training],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for rank in (0, 1)
    ]
    outputs = [node.communicate(timeout=400)[0] for node in nodes]
    for node, output in zip(nodes, outputs, strict=True):
        assert node.returncode == 0, output[-3000:]
    checkpoints = sorted(p.name for p in (tmp_path / "run" / "checkpoints").glob("*.ckpt"))
    assert "last.ckpt" in checkpoints
    assert torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)["global_step"] == 3
    assert "Finished the coarse stage" in outputs[0] and "Finished the coarse stage" not in outputs[1]
    assert rank_reports(tmp_path / "ranks", world_size=2)[0]["global_step"] == 3  # one process per node, in step


def _final_step(path: Path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["global_step"]


class RecordSteps(Callback):
    """Loaded by the training subprocesses below (``PYTHONPATH=tests``): appends ``step epoch lr batch-hash`` for
    every training batch the process runs to ``path``; with ``kill_at``, SIGKILLs the process as that step begins."""

    def __init__(self, path: str, kill_at: int | None = None) -> None:
        self.path, self.kill_at = Path(path), kill_at

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if trainer.global_step == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
        digest = hashlib.sha1(batch["clean"].cpu().numpy().tobytes() + batch["halftone"].cpu().numpy().tobytes())
        lr = trainer.optimizers[0].param_groups[0]["lr"]
        with self.path.open("a") as log:
            log.write(f"{trainer.global_step} {trainer.current_epoch} {lr:.6g} {digest.hexdigest()[:12]}\n")


#: 6 epochs of 4 batches; deterministic kernels, a learning rate halved every epoch (so the schedule shows)
RESUMABLE = [
    "experiment=coarse",
    "trainer.max_epochs=100",
    "trainer.max_steps=24",
    "trainer.limit_val_batches=1",
    "trainer.deterministic=true",
    "model.module.scheduler.step_size=1",
]
STEPS_PER_EPOCH = 4  # TINY: 16 samples per epoch, batches of 4


def recorded_run(outputs: Path, log: Path, *overrides: str, kill_at: int | None = None) -> list[list[str]]:
    """Train RESUMABLE into ``outputs``; the lines RecordSteps wrote (killed at ``kill_at`` if given)."""
    record = [f"+callbacks.record._target_={__name__}.RecordSteps", f"+callbacks.record.path={log}"]
    if kill_at is not None:
        record.append(f"+callbacks.record.kill_at={kill_at}")
    command = train_command(*RESUMABLE, f"paths.outputs_dir={outputs}", *record, *overrides)
    env = {"PYTHONPATH": TESTS_PATH}
    if kill_at is None:
        run(command, env=env)
    else:
        env = {**os.environ, "WANDB_MODE": "offline", "PYTHONWARNINGS": "ignore", **env}
        killed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
        assert killed.returncode == -signal.SIGKILL, killed.stdout[-3000:] + killed.stderr[-3000:]
    return [line.split() for line in log.read_text().splitlines()]


def steps(lines: list[list[str]]) -> list[int]:
    return [int(line[0]) for line in lines]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory) -> tuple[Path, list[list[str]]]:
    """The reference: RESUMABLE from start to end (epoch checkpoints, the default)."""
    root = tmp_path_factory.mktemp("uninterrupted")
    lines = recorded_run(root, root / "steps.log")
    assert steps(lines) == list(range(24))
    return root / "coarse" / "last.ckpt", lines


def test_a_run_killed_mid_epoch_resumes_with_the_remaining_steps(tmp_path):
    """SIGKILL after step 6 (checkpoints every 2 steps, mid-epoch): the resumed process runs steps 6..23 only.

    (A run that ignored ``ckpt_path=last`` would run 0..23; one that restarted the epoch, 4..23.)
    """
    every_2 = "checkpoint_every_n_steps=2"
    killed = recorded_run(tmp_path, tmp_path / "killed.log", every_2, kill_at=6)
    assert steps(killed) == list(range(6))
    (last,) = (tmp_path / "coarse" / "runs").glob("*/checkpoints/last.ckpt")
    assert _final_step(last) == 6
    resumed = recorded_run(tmp_path, tmp_path / "resumed.log", every_2, "ckpt_path=last")
    assert steps(resumed) == list(range(6, 24))
    assert [line[1] for line in resumed] == [str(step // STEPS_PER_EPOCH) for step in range(6, 24)]  # epochs
    base = float(killed[0][2])  # the schedule goes on: halved every epoch
    assert [line[2] for line in resumed] == [f"{base * 0.5 ** (step // STEPS_PER_EPOCH):.6g}" for step in range(6, 24)]
    assert _final_step(tmp_path / "coarse" / "last.ckpt") == 24


def test_a_killed_and_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(tmp_path, uninterrupted):
    """Deterministic kernels, fixed seed, no workers, killed after epoch 2's checkpoint: the same batches, the same
    learning rates and bit-identical final weights and optimiser state as the run that was never interrupted.

    Holds for checkpoints at epoch ends (the default). From a mid-epoch checkpoint the resumed run draws a fresh
    order for the rest of that epoch: Lightning cannot fast-forward a plain DataLoader.
    """
    reference_checkpoint, reference = uninterrupted
    killed = recorded_run(tmp_path, tmp_path / "killed.log", kill_at=2 * STEPS_PER_EPOCH)
    (last,) = (tmp_path / "coarse" / "runs").glob("*/checkpoints/last.ckpt")
    assert _final_step(last) == 2 * STEPS_PER_EPOCH
    resumed = recorded_run(tmp_path, tmp_path / "resumed.log", "ckpt_path=last")
    assert steps(resumed) == list(range(2 * STEPS_PER_EPOCH, 24))
    assert killed + resumed == reference  # step, epoch, learning rate and batch contents
    expected = torch.load(reference_checkpoint, map_location="cpu", weights_only=True)
    got = torch.load(tmp_path / "coarse" / "last.ckpt", map_location="cpu", weights_only=True)
    assert got["global_step"] == expected["global_step"] == 24
    assert expected["state_dict"].keys() == got["state_dict"].keys()
    for name, tensor in expected["state_dict"].items():
        assert torch.equal(got["state_dict"][name], tensor), name
    (expected_adam,), (got_adam,) = expected["optimizer_states"], got["optimizer_states"]
    for index, state in expected_adam["state"].items():
        for key, tensor in state.items():
            assert torch.equal(got_adam["state"][index][key], tensor), (index, key)
