"""Launching training as users do: multirun sweeps, launchers, DDP across processes and nodes, resume after a kill."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import torch
from tiny_recipes import TINY_DATA, TINY_NETWORKS

ROOT = Path(__file__).resolve().parents[1]
TINY = [*TINY_DATA, "data.samples_per_epoch=16", *TINY_NETWORKS, "trainer=cpu", "logger=none"]


def train_command(*overrides: str) -> list[str]:
    flags = [o for o in overrides if o.startswith("--")]  # Hydra's flags go before the overrides
    return [sys.executable, "-m", "deep_halftoning.train", *flags, *TINY, *(o for o in overrides if o not in flags)]


def run(command: list[str], timeout: float = 300, **kwargs) -> subprocess.CompletedProcess:
    env = {**os.environ, "WANDB_MODE": "offline", "PYTHONWARNINGS": "ignore", **kwargs.pop("env", {})}
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout, env=env, **kwargs)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


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


def test_ddp_spawn_recipe_trains_the_details_gan(tmp_path):
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
        )
    )
    assert "Finished the details stage" in result.stdout
    assert (tmp_path / "details" / "last.ckpt").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_nodes_with_torchrun_on_loopback(tmp_path):
    port = _free_port()
    common = ["--nnodes=2", "--nproc_per_node=1", "--master_addr=127.0.0.1", f"--master_port={port}"]
    training = [
        "-m",
        "deep_halftoning.train",
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
    ]
    env = {**os.environ, "NUM_NODES": "2", "WANDB_MODE": "offline", "PYTHONWARNINGS": "ignore"}
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


def _final_step(path: Path) -> int:
    return torch.load(path, map_location="cpu", weights_only=True)["global_step"]


def test_killed_run_resumes_to_the_same_final_step(tmp_path):
    steps = [
        "trainer.max_epochs=100",
        "trainer.max_steps=150",
        "checkpoint_every_n_steps=2",
        "trainer.limit_val_batches=1",
        "data.samples_per_epoch=64",
    ]
    run(train_command("experiment=coarse", *steps, f"paths.outputs_dir={tmp_path / 'reference'}"))
    reference = _final_step(tmp_path / "reference" / "coarse" / "last.ckpt")
    assert reference == 150

    killed = subprocess.Popen(
        train_command("experiment=coarse", *steps, f"paths.outputs_dir={tmp_path / 'k'}"),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    deadline = time.time() + 240
    last = None
    while time.time() < deadline:
        found = list((tmp_path / "k" / "coarse" / "runs").glob("*/checkpoints/last.ckpt"))
        if found and _safe_step(found[0]) >= 4:
            last = found[0]
            break
        time.sleep(0.2)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert last is not None, "no checkpoint appeared before the kill"
    interrupted_at = _safe_step(last)
    assert 0 < interrupted_at < 150
    run(train_command("experiment=coarse", *steps, f"paths.outputs_dir={tmp_path / 'k'}", "ckpt_path=last"))
    assert _final_step(tmp_path / "k" / "coarse" / "last.ckpt") == reference


def _safe_step(path: Path) -> int:
    try:
        return _final_step(path)
    except Exception:  # noqa: BLE001 - being written right now
        return -1
