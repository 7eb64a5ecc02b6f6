"""Training never replaces a better published checkpoint silently."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from helpers import run_stage, train_process

from deep_halftoning.training.publish import decide, validation_fingerprint


def test_decide_compares_scores_only_on_the_same_validation_data():
    previous = {"run": "a", "metric": "val/psnr", "score": 25.2, "validation": "v1"}
    assert decide("better", 26.0, "max", "v1", previous).publish
    worse = decide("better", 18.8, "max", "v1", previous)
    assert not worse.publish and "18.8000 does not beat the published 25.2000" in worse.reason
    other = decide("better", 30.0, "max", "v2", previous)  # a higher score on other data says nothing
    assert not other.publish and "other validation data" in other.reason
    assert decide("better", 0.1, "min", "v1", {**previous, "score": 0.2}).publish  # a loss: lower is better
    assert decide("better", 1.0, "max", "v1", None).publish
    assert decide("always", 1.0, "max", "v2", previous).publish
    assert not decide("never", 99.0, "max", "v1", None).publish
    with pytest.raises(ValueError, match="publish"):
        decide("sometimes", 1.0, "max", "v1", None)


def test_the_fingerprint_follows_what_decides_the_validation_pairs():
    data = {"val_source": {"kind": "embedded", "split": "val"}, "val_samples": 48, "crop_size": 96, "seed": 0}
    same = validation_fingerprint({**data, "samples_per_epoch": 99, "num_workers": 7}, "val/psnr")
    assert validation_fingerprint(data, "val/psnr") == same  # training-only settings do not matter
    assert validation_fingerprint({**data, "val_samples": 8}, "val/psnr") != same
    assert validation_fingerprint({**data, "val_source": {"kind": "folder", "path": "x"}}, "val/psnr") != same
    assert validation_fingerprint(data, "val/ssim") != same


def test_a_worse_run_keeps_the_published_checkpoint_and_says_so(tmp_path, capsys):
    good, _ = run_stage(tmp_path, "coarse", "trainer.max_epochs=3", "model.module.optimizer.lr=3e-3", run="good")
    stage_dir = Path(good.paths.stage_dir)
    published = torch.load(stage_dir / "best.ckpt", weights_only=True)["state_dict"]
    record = json.loads((stage_dir / "published.json").read_text())
    assert record["run"] == good.paths.output_dir and record["score"] is not None
    capsys.readouterr()
    # a run that never learns (lr 0) scores worse on the same validation pairs: nothing moves
    bad, _ = run_stage(tmp_path, "coarse", "trainer.max_epochs=1", "model.module.optimizer.lr=0", run="bad")
    out = capsys.readouterr().out
    assert "NOT published" in out and "does not beat the published" in out and str(good.paths.output_dir) in out
    kept = torch.load(stage_dir / "best.ckpt", weights_only=True)["state_dict"]
    assert all(torch.equal(kept[k], v) for k, v in published.items())
    assert (Path(bad.paths.output_dir) / "checkpoints" / "last.ckpt").is_file()  # the run keeps its own
    # the user asks: it moves, and the summary says why
    run_stage(tmp_path, "coarse", "trainer.max_epochs=1", "model.module.optimizer.lr=0", "publish=always", run="forced")
    out = capsys.readouterr().out
    assert "published to" in out and "publish=always" in out
    assert "descreen with it: deep-halftoning descreen" in out and str(stage_dir / "best.ckpt") in out
    assert json.loads((stage_dir / "published.json").read_text())["run"].endswith("forced")


def test_training_data_problems_are_one_line_naming_the_key(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = {
        ("data=folder",): "set data.train_source.path=FOLDER",
        ("data=folder", f"data.train_source.path={tmp_path / 'nowhere'}", f"data.val_source.path={empty}"): (
            f"data.train_source: image folder {tmp_path / 'nowhere'} does not exist"
        ),
        ("data=folder", f"data.train_source.path={empty}", f"data.val_source.path={tmp_path / 'nowhere'}"): (
            "data.train_source: image folder"
        ),
    }
    for overrides, expected in cases.items():
        done = train_process("experiment=coarse", "logger=none", *overrides, f"paths.outputs_dir={tmp_path / 'out'}")
        assert done.returncode == 2, done.stderr[-2000:]
        errors = [line for line in done.stderr.splitlines() if line.startswith("deep-halftoning train: error:")]
        assert len(errors) == 1 and expected in errors[0], done.stderr[-2000:]
        assert "Traceback" not in done.stderr


def test_the_same_folder_for_training_and_validation_is_warned_about(tmp_path, photo_folder):
    done = train_process(
        "experiment=coarse",
        "logger=none",
        "data=folder",
        f"data.train_source.path={photo_folder}",
        f"data.val_source.path={photo_folder}",
        "debug=fdr",
        "data.loader.num_workers=0",
        "data.crop_size=32",
        f"paths.outputs_dir={tmp_path / 'out'}",
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "are the same folder" in done.stderr and "measured on training photos" in done.stderr
    for noise in ("💡 Tip", "was configured so", "is not supported by the model summary"):
        assert noise not in done.stdout + done.stderr, noise
