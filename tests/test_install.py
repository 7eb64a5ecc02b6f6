"""The package as a user installs it: not editable, run from a folder that is not the checkout."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_installed_package_trains_and_demos_from_any_directory(tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            target,
            REPO,
        ],
        check=True,
        capture_output=True,
    )
    assert (target / "deep_halftoning" / "conf" / "train.yaml").is_file()  # a real file, not the checkout's link
    assert not (target / "deep_halftoning" / "conf").is_symlink()
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(target), "WANDB_MODE": "offline"}
    run = [sys.executable, "-c", "import sys; from deep_halftoning.cli import main; sys.exit(main())"]
    where = subprocess.run(
        [sys.executable, "-c", "import deep_halftoning; print(deep_halftoning.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.strip().startswith(str(target))
    train = subprocess.run(
        [*run, "train", "experiment=coarse", "trainer.max_steps=2", "trainer.max_epochs=1", "logger=none",
         "data.loader.num_workers=0", "data.samples_per_epoch=32", "data.val_samples=4", "data.crop_size=64"],
        cwd=work, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert train.returncode == 0, train.stderr[-2000:]
    assert (work / "outputs" / "coarse" / "last.ckpt").is_file()
    demo = subprocess.run(
        [sys.executable, "-m", "deep_halftoning.demo", str(work / "demo")],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert demo.returncode == 0, demo.stderr[-2000:]
    assert (work / "demo" / "newspaper.png").is_file()
    named = subprocess.run(
        [*run, "halftone", str(work / "demo" / "original.png"), str(work / "comics.png"), "--preset", "comics"],
        cwd=work, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert named.returncode == 0 and (work / "comics.png").is_file(), named.stderr[-2000:]
