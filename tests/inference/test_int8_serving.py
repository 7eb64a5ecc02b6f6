"""The shipped int8 graphs: served at ``int8`` (and by ``auto`` on CPUs with int8 instructions), within
0.1 dB of bf16 on a held-out crop, and checked against the manifest before use."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
import torch
from helpers import lite_pipeline

from deep_halftoning.inference import Descreener, load_pipeline, shipped_checkpoint
from deep_halftoning.inference import shipped as shipped_module
from deep_halftoning.inference.export import PARTS, pipeline_digest
from deep_halftoning.inference.runtime import BackendError, make_runtime
from deep_halftoning.inference.shipped import (
    MANIFEST,
    SHIPPED_DIR,
    ShippedCheckpointError,
    int8_files,
    shipped_int8,
)
from deep_halftoning.models.metrics import psnr

CPU = torch.device("cpu")


def native_int8() -> bool:
    import openvino as ov

    return "INT8" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")


@pytest.fixture(scope="module")
def shipped():
    return load_pipeline(shipped_checkpoint())


def test_the_shipped_int8_graph_serves_within_a_tenth_of_a_db_of_bf16(shipped):
    from deep_halftoning.data.sources import embedded_records
    from deep_halftoning.halftone import halftone
    from deep_halftoning.io import read_image

    photo = read_image(embedded_records("val")[0].image)[:192, :256]  # no shipped recipe trains on it
    scan = halftone(photo, "floyd-steinberg", threads=1).image.astype(np.float32)
    tiling = {"device": "cpu", "backend": "openvino", "tile": 128, "overlap": 32}
    int8 = Descreener(shipped, precision="int8", **tiling)
    bf16 = Descreener(shipped, precision="bf16", **tiling)
    assert (int8.precision, bf16.precision) == ("int8", "bf16")
    fast, reference = int8(scan), bf16(scan)
    assert np.abs(fast - reference).max() > 1 / 255  # the int8 graph really ran
    assert abs(psnr(fast, photo) - psnr(reference, photo)) < 0.1
    assert Descreener(shipped, device="cpu").precision == ("int8" if native_int8() else "bf16")


def test_a_coarse_screen_runs_the_int8_screen_scaled_graphs_within_a_tenth_of_a_db_of_bf16(shipped):
    from deep_halftoning.data.sources import embedded_records
    from deep_halftoning.halftone import halftone
    from deep_halftoning.io import read_image

    photo = read_image(embedded_records("val")[1].image)[:320, :400]  # no shipped recipe trains on it
    photo = np.clip(cv2.resize(photo, (800, 640), interpolation=cv2.INTER_CUBIC), 0, 1)  # canonical tiles of 128
    scan = halftone(photo, "am-cmyk", lpi=60.0, dpi=600.0).image.astype(np.float32)  # a 10 px screen
    tiling = {"device": "cpu", "backend": "openvino", "tile": 128, "overlap": 32}
    int8 = Descreener(shipped, precision="int8", **tiling)
    bf16 = Descreener(shipped, precision="bf16", **tiling)
    assert int8.choose_scale(scan).factor < 0.5  # CoarseNet at the canonical period, details at full resolution
    fast, reference = int8(scan), bf16(scan)
    assert set(int8.runtime.queues) == {"pipeline", "coarse", "details"}
    assert np.abs(fast - reference).max() > 1 / 255  # the int8 graphs really ran
    assert abs(psnr(fast, photo) - psnr(reference, photo)) < 0.1


def test_int8_needs_a_shipped_graph_for_the_weights_and_openvino():
    pipeline = lite_pipeline()
    with pytest.raises(BackendError, match="no int8 graph ships for these weights"):
        make_runtime(pipeline, "openvino", CPU, "int8")
    with pytest.raises(BackendError, match="int8 runs on the openvino backend"):
        make_runtime(pipeline, "torch", CPU, "int8")
    with pytest.raises(BackendError, match="int8 runs on the openvino backend"):
        make_runtime(pipeline, "auto", torch.device("cuda"), "int8")
    assert make_runtime(pipeline, "openvino", CPU, "auto").precision in ("bf16", "fp32")  # none ships: float


def test_a_damaged_int8_graph_is_never_used(tmp_path, shipped, monkeypatch):
    shutil.copy(SHIPPED_DIR / MANIFEST, tmp_path / MANIFEST)
    for part in PARTS:
        for path in int8_files("fidelity", part=part):
            shutil.copy(path, tmp_path / path.name)
    weights = tmp_path / "fidelity-int8.bin"
    digest = pipeline_digest(shipped)
    assert shipped_int8(digest, tmp_path) == {
        "pipeline": tmp_path / "fidelity-int8.xml",
        "coarse": tmp_path / "fidelity-coarse-int8.xml",
        "details": tmp_path / "fidelity-details-int8.xml",
    }
    assert shipped_int8("0" * 64, tmp_path) == {}
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(ShippedCheckpointError, match="fidelity-int8.bin is missing or does not match its manifest"):
        shipped_int8(digest, tmp_path)
    weights.unlink()
    with pytest.raises(ShippedCheckpointError, match="fidelity-int8.bin is missing"):
        shipped_int8(digest, tmp_path)
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["variants"]["fidelity"]["int8"]["pipeline_sha256"] == digest
    int8 = manifest["variants"]["fidelity"]["int8"]
    assert min([*int8["psnr_vs_bf16"].values(), *int8["screen_scaled_psnr_vs_bf16"].values()]) >= -0.1  # its bar
    shutil.copy(SHIPPED_DIR / weights.name, weights)
    (tmp_path / "fidelity-details-int8.xml").unlink()
    with pytest.raises(ShippedCheckpointError, match="fidelity-details-int8.xml is missing"):
        shipped_int8(digest, tmp_path)

    def damaged(digest: str):
        raise ShippedCheckpointError(f"the shipped int8 fidelity graph {weights} is missing or does not match")

    monkeypatch.setattr(shipped_module, "shipped_int8", damaged)
    with pytest.raises(BackendError, match="does not match"):
        make_runtime(shipped, "openvino", CPU, "int8")
    if native_int8():
        with pytest.warns(RuntimeWarning, match="does not match; descreening without int8 instead"):
            assert make_runtime(shipped, "openvino", CPU, "auto").precision in ("bf16", "fp32")
