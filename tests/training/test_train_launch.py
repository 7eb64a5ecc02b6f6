"""Launching training as users do: multirun sweeps, launchers, DDP across processes and nodes, resume after a kill.

The sweeps and cluster launchers are ``slow`` (``make test-slow``); resume and the ``ddp_spawn`` recipe stay in
the default suite.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from helpers import ROOT, TINY_DATA, TINY_NETWORKS, RankReport, rank_reports, train_process, training_env

TINY = [*TINY_DATA, "data.samples_per_epoch=16", *TINY_NETWORKS, "trainer=cpu", "logger=none"]


def run(*args: str, timeout: float = 300, returncode: int = 0) -> subprocess.CompletedProcess:
    """Train with :data:`TINY` settings and ``args`` in a subprocess that ends with ``returncode``."""
    result = train_process(*TINY, *args, env={"PYTHONWARNINGS": "ignore"}, timeout=timeout)
    assert result.returncode == returncode, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.mark.slow
def test_basic_multirun_sweep(tmp_path):
    run(
        "--multirun",
        "experiment=coarse",
        "debug=fdr",
        f"paths.outputs_dir={tmp_path}",
        "model.module.optimizer.lr=1e-4,3e-4",
    )
    jobs = sorted((tmp_path / "multirun").glob("*/*/.hydra/overrides.yaml"))
    assert len(jobs) == 2
    assert "lr=0.0001" in jobs[0].read_text() and "lr=0.0003" in jobs[1].read_text()


@pytest.mark.slow
def test_optuna_sweep_optimises_the_validation_metric(tmp_path):
    result = run(
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
    best = next((tmp_path / "multirun").glob("*/optimization_results.yaml")).read_text()
    assert "best_value" in best and "model.module.optimizer.lr" in best, result.stdout[-2000:]


@pytest.mark.slow
def test_submitit_local_launcher(tmp_path):
    run(
        "--multirun",
        "experiment=coarse",
        "debug=fdr",
        f"paths.outputs_dir={tmp_path}",
        "hydra/launcher=submitit_local",
        "hydra.launcher.timeout_min=10",
        timeout=400,
    )
    assert list((tmp_path / "multirun").glob("*/0/.hydra/config.yaml"))
    assert (tmp_path / "coarse" / "last.ckpt").is_file()


def test_ddp_spawn_recipe_trains_the_details_gan(tmp_path):
    """``trainer=ddp_spawn`` from the command line: two ranks train (on different batches) and end identical."""
    result = run(
        "experiment=details",
        "trainer=ddp_spawn",
        "trainer.accelerator=cpu",
        "trainer.max_steps=3",
        "trainer.limit_val_batches=1",
        "data.batch_size=8",
        f"paths.outputs_dir={tmp_path}",
        "model.module.checkpoints.coarse=null",
        "model.module.checkpoints.edge=null",
        "+callbacks.ranks._target_=helpers.RankReport",
        f"+callbacks.ranks.folder={tmp_path / 'ranks'}",
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
        "+callbacks.ranks._target_=helpers.RankReport",
        f"+callbacks.ranks.folder={tmp_path / 'ranks'}",
    ]
    env = training_env({"NUM_NODES": "2", "PYTHONWARNINGS": "ignore"})
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
    record = ["+callbacks.record._target_=helpers.RecordSteps", f"+callbacks.record.path={log}"]
    if kill_at is not None:
        record.append(f"+callbacks.record.kill_at={kill_at}")
    run(
        *RESUMABLE,
        f"paths.outputs_dir={outputs}",
        *record,
        *overrides,
        returncode=0 if kill_at is None else -signal.SIGKILL,
    )
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
