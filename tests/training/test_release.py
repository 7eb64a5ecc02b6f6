"""The release recipe behind the shipped descreener (`make reproduce`) runs end to end on tiny settings."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from helpers import ROOT, TINY_DATA, TINY_NETWORKS, make_cfg, run_stage, save_stage
from hydra.utils import instantiate

from deep_halftoning.evaluation.rows import DEFAULT_ROWS
from deep_halftoning.models.checkpoint import network_state, read_checkpoint
from deep_halftoning.training.stage_graph import recipe_graph, training_order


def test_the_perceptual_recipe_trains_its_discriminators(tmp_path, photo_folder):
    """``release/joint_perceptual`` is the fidelity recipe plus the adversarial term: with ``adv: 0`` the
    next ``make reproduce`` would ship a second fidelity model under the perceptual name."""
    overrides = ["trainer=cpu", *TINY_DATA, *TINY_NETWORKS, f"data.train_source.sources.1.path={photo_folder}"]
    cfg = make_cfg(tmp_path, "experiment=release/joint_perceptual", *overrides)
    assert cfg.model.module.loss_weights.adv > 0
    assert make_cfg(tmp_path, "experiment=release/joint").model.module.loss_weights.adv == 0  # the fidelity one
    cfg.model.module.checkpoints = dict.fromkeys(cfg.model.module.checkpoints)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # random upstream weights, on purpose
        start = instantiate(cfg.model.module, _convert_="all")
    save_stage(start, tmp_path / "start.ckpt")
    upstream = [f"model.module.checkpoints.{name}={tmp_path / 'start.ckpt'}" for name in ("coarse", "edge", "details")]
    cfg, _ = run_stage(tmp_path, "release/joint_perceptual", "debug=fdr", *overrides[1:], *upstream)  # one batch
    before, after = read_checkpoint(tmp_path / "start.ckpt"), read_checkpoint(Path(cfg.paths.stage_dir) / "last.ckpt")
    assert after["global_step"] == len(start.discriminators) + 1  # a step of each discriminator, then of G
    for name in start.discriminators:  # each discriminator started from the upstream file and took steps
        old, new = network_state(before, name), network_state(after, name)
        assert old.keys() == new.keys() and any(not torch.equal(old[k], new[k]) for k in old), name


@pytest.mark.slow
def test_release_recipe_trains_every_stage_and_ships_it(tmp_path, photo_folder):
    for stage in training_order(recipe_graph("release")):  # the wallpapers replaced by the test's own photos
        cfg, metric = run_stage(
            tmp_path, f"release/{stage}", "debug=fdr", f"data.train_source.sources.1.path={photo_folder}", run=stage
        )
        assert metric is not None, stage
        assert (Path(cfg.paths.stage_dir) / "config.yaml").is_file(), stage
    assert Path(cfg.paths.stage_dir).name == "joint_perceptual"
    out, results = tmp_path / "shipped", tmp_path / "results"
    command = [sys.executable, "experiments/ship_descreener.py", "--stages", str(tmp_path / "outputs")]
    readme = tmp_path / "README.md"
    readme.write_text("# Title\n\n<!-- results:begin -->\nold numbers\n<!-- results:end -->\n\n## Next\n")
    command += ["--out", str(out), "--results", str(results), "--images", str(photo_folder), "--max-side", "64"]
    command += ["--readme", str(readme)]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["variants"]) == {"fidelity", "perceptual"}
    fidelity = manifest["variants"]["fidelity"]
    assert list(fidelity["stages"]) == ["coarse", "edge", "details", "joint"]
    assert set(fidelity["metrics"]) == set(DEFAULT_ROWS)  # every default evaluation row
    assert manifest["reference"]["steps"] > 0 and "reference" in manifest["baselines"]["floyd-steinberg"]
    assert any("a.png" in path for path in manifest["data"]["train"])
    assert (out / "configs" / "joint.yaml").is_file() and (results / "descreening.png").is_file()
    assert "| floyd-steinberg |" in (results / "descreening.md").read_text()
    scores = json.loads((tmp_path / "outputs" / "evaluation" / "results.json").read_text())["scores"]
    photos = len(manifest["data"]["evaluation"])
    assert {(s["method"], len(s["psnr_per_photo"])) for s in scores} >= {("model", photos), ("reference", photos)}
    text = readme.read_text()  # the README's results block is the generated table, the rest untouched
    assert "old numbers" not in text and "| am-xgen+scan |" in text and "SSIM" not in text  # SSIM: descreening.md
    assert text.startswith("# Title\n\n<!-- results:begin -->\n") and text.endswith("<!-- results:end -->\n\n## Next\n")
