"""Shared fixtures: small deterministic images; a callback that reports what each training rank did."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from lightning.pytorch.callbacks import Callback
from PIL import Image


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def smooth_rgb(rng: np.random.Generator) -> np.ndarray:
    """A 96 x 128 smooth colour image in [0, 1], like a photo's low frequencies."""
    import cv2

    small = rng.random((6, 8, 3), dtype=np.float32)
    return np.clip(cv2.resize(small, (128, 96), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


@pytest.fixture
def ramp() -> np.ndarray:
    """A horizontal grey ramp 0 -> 1, 64 x 256."""
    return np.tile(np.linspace(0.0, 1.0, 256, dtype=np.float32), (64, 1))


def save_photo(path: Path, rng: np.random.Generator, size: tuple[int, int] = (48, 64)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    import cv2

    small = rng.random((4, 5, 3), dtype=np.float32)
    photo = cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    Image.fromarray((photo * 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture
def photo_folder(tmp_path: Path, rng: np.random.Generator) -> Path:
    root = tmp_path / "photos"
    save_photo(root / "a.png", rng)
    save_photo(root / "nested" / "b.jpg", rng, (70, 90))
    save_photo(root / "nested" / "deeper" / "c.webp", rng, (40, 40))
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def ade_tree(tmp_path: Path, rng: np.random.Generator) -> Path:
    """A tiny ADEChallengeData2016 tree: 3 training and 2 validation images with annotations."""
    root = tmp_path / "ADEChallengeData2016"
    for split, count in (("training", 3), ("validation", 2)):
        for i in range(count):
            name = f"ADE_{split[:5]}_{i:08d}"
            save_photo(root / "images" / split / f"{name}.jpg", rng, (60, 80))
            labels = np.zeros((60, 80), np.uint8)  # 0 = unlabelled
            labels[:20] = 1  # wall
            labels[20:40, :40] = 26  # house -> building
            labels[20:40, 40:] = 9  # windowpane -> other
            labels[40:, :] = 3  # sky
            (root / "annotations" / split).mkdir(parents=True, exist_ok=True)
            Image.fromarray(labels).save(root / "annotations" / split / f"{name}.png")
    return root


class RankReport(Callback):
    """Each training process writes ``rank<global rank>.json`` into ``folder``: its rank and world size, steps,
    a digest of its first training batch and digests of the LightningModule's parameters before and after.

    Picklable (``ddp_spawn``) and importable by training subprocesses with ``PYTHONPATH=tests``, as
    ``+callbacks.ranks._target_=conftest.RankReport``. Read the reports with :func:`rank_reports`.
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
