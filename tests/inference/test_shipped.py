"""The descreeners shipped inside the package: intact, small, and better than the classical baseline."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch

from deep_halftoning.cli import main
from deep_halftoning.data.sources import embedded_records
from deep_halftoning.halftone import halftone
from deep_halftoning.inference import (
    Descreener,
    ShippedCheckpointError,
    descreen_baseline,
    load_manifest,
    load_pipeline,
    pack_checkpoint,
    shipped_checkpoint,
)
from deep_halftoning.inference.shipped import MANIFEST, SHIPPED_DIR
from deep_halftoning.io import read_image, write_image
from deep_halftoning.stages import DetailsStage

HALFTONES = ("floyd-steinberg", "jarvis", "bayer-8", "am-cmyk+scan")


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    return float(10 * np.log10(1 / np.mean((np.clip(a, 0, 1) - b) ** 2)))


@pytest.fixture(scope="module")
def held_out() -> np.ndarray:
    """A 160 x 192 crop of a validation photo (the shipped model never trained on it)."""
    return read_image(embedded_records("val")[0].image)[80:240, 140:332]


def test_manifest_lists_intact_small_checkpoints():
    manifest = load_manifest()
    variants = manifest["variants"]
    assert {"fidelity", "perceptual"} <= set(variants)
    assert sum(entry["bytes"] for entry in variants.values()) <= 25 * 1024 * 1024
    for name, entry in variants.items():
        assert shipped_checkpoint(name).stat().st_size == entry["bytes"]
        assert set(entry["metrics"]) == set(HALFTONES)
        assert all(stage["steps"] > 0 for stage in entry["stages"].values())
        assert all((SHIPPED_DIR / stage["config"]).is_file() for stage in entry["stages"].values())
    assert manifest["data"]["train"] and manifest["data"]["validation"]


@pytest.mark.parametrize(("method", "params"), [("floyd-steinberg", {}), ("am-cmyk", {"lpi": 120.0, "dpi": 600.0})])
def test_shipped_descreener_beats_the_gaussian_baseline(held_out, method, params):
    screened = halftone(held_out, method, **params).image
    model = Descreener.from_checkpoint(shipped_checkpoint(), device="cpu", tile=128, overlap=32)(screened)
    assert model.shape == held_out.shape
    assert _psnr(model, held_out) > _psnr(descreen_baseline(screened, "gaussian"), held_out) + 0.3


def test_cli_uses_the_shipped_descreeners_by_default(tmp_path, held_out):
    scan = write_image(tmp_path / "scan.png", halftone(held_out, "floyd-steinberg").image)
    for extra, name in (([], "fidelity"), (["--perceptual"], "perceptual")):
        out = tmp_path / name
        assert main(["descreen", str(scan), "-o", str(out), "--device", "cpu", *extra]) == 0
        assert _psnr(read_image(out / "scan_descreened.png"), held_out) > 25
    rescreened = tmp_path / "bayer.png"
    assert main(["rescreen", str(scan), str(rescreened), "--method", "bayer-8", "--device", "cpu"]) == 0
    assert set(np.unique(read_image(rescreened))) <= {0.0, 1.0}


def test_a_damaged_or_missing_shipped_checkpoint_is_refused(tmp_path):
    copy = tmp_path / "descreener"
    shutil.copytree(SHIPPED_DIR, copy)
    with pytest.raises(ShippedCheckpointError, match="shipped: fidelity"):
        shipped_checkpoint("sharpest", copy)
    data = bytearray((copy / "fidelity.ckpt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "fidelity.ckpt").write_bytes(bytes(data))
    with pytest.raises(ShippedCheckpointError, match="sha256"):
        shipped_checkpoint("fidelity", copy)
    (copy / "fidelity.ckpt").unlink()
    with pytest.raises(ShippedCheckpointError, match="missing"):
        shipped_checkpoint("fidelity", copy)
    (copy / MANIFEST).unlink()
    with pytest.raises(ShippedCheckpointError, match="manifest missing"):
        shipped_checkpoint("fidelity", copy)


def test_packing_keeps_the_inference_networks_in_half_precision(tmp_path):
    torch.manual_seed(0)
    small = {"width": 8, "depth": 3}
    with pytest.warns(UserWarning, match="random weights"):
        stage = DetailsStage(coarse=small, edge={"width": 8, "layers": 2}, details={"width": 8, "blocks": 1})
    torch.nn.init.normal_(stage.pipeline.details.body[-2].weight, std=0.1)
    checkpoint = {"state_dict": stage.state_dict(), "global_step": 7}
    stage.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, tmp_path / "details.ckpt")
    info = pack_checkpoint(tmp_path / "details.ckpt", tmp_path / "packed.ckpt")
    assert info["global_step"] == 7 and info["bytes"] < (tmp_path / "details.ckpt").stat().st_size
    packed = torch.load(tmp_path / "packed.ckpt", weights_only=True)
    assert {key.split(".")[0] for key in packed["state_dict"]} == {"coarse", "edge", "details"}
    assert all(v.dtype == torch.float16 for v in packed["state_dict"].values() if v.is_floating_point())
    image = np.random.default_rng(0).random((64, 64, 3), dtype=np.float32)
    before = Descreener(load_pipeline(tmp_path / "details.ckpt"), device="cpu", tile=64, overlap=0)(image)
    after = Descreener(load_pipeline(tmp_path / "packed.ckpt"), device="cpu", tile=64, overlap=0)(image)
    assert np.abs(before - after).max() < 2e-2
    assert json.dumps(info)  # the manifest entry is plain JSON
