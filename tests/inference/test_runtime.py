"""The serving runtimes: OpenVINO equals torch, the backend choice and its fallbacks, the export cache."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from helpers import configured_stage, lite_pipeline, save_stage

from deep_halftoning.inference import Descreener, load_pipeline, shipped_checkpoint
from deep_halftoning.inference import export as export_module
from deep_halftoning.inference import runtime as runtime_module
from deep_halftoning.inference.export import (
    ExportError,
    cached_openvino_model,
    export_checkpoint,
    export_pipeline,
    pipeline_digest,
    side_multiple,
)
from deep_halftoning.inference.options import checkpoint_source
from deep_halftoning.inference.runtime import BackendError, OpenVINORuntime, TorchRuntime, make_runtime
from deep_halftoning.models.coarse import CoarseNet
from deep_halftoning.models.metrics import psnr
from deep_halftoning.models.pipeline import DescreeningPipeline

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def pipeline() -> DescreeningPipeline:
    return lite_pipeline()


@pytest.fixture
def halftone_image() -> np.ndarray:
    return (np.random.default_rng(3).random((96, 160, 3)) > 0.5).astype(np.float32)


def test_openvino_fp32_equals_torch_and_bf16_keeps_8_bit_accuracy(pipeline, halftone_image):
    tiling = {"device": "cpu", "tile": 64, "overlap": 16}
    reference = Descreener(pipeline, backend="torch", precision="fp32", **tiling)(halftone_image)
    exact = Descreener(pipeline, backend="openvino", precision="fp32", **tiling)
    assert (exact.backend, exact.precision) == ("openvino", "fp32")
    np.testing.assert_allclose(exact(halftone_image), reference, atol=1e-5)
    fast = Descreener(pipeline, backend="openvino", precision="bf16", **tiling)(halftone_image)
    difference = np.abs(fast - reference)
    assert 0 < difference.mean() < 1 / 255 and difference.max() < 0.03  # bf16 really ran, at 8-bit accuracy


def test_the_shipped_model_exports_faithfully_on_a_held_out_crop():
    from deep_halftoning.data.sources import embedded_records
    from deep_halftoning.halftone import halftone
    from deep_halftoning.io import read_image

    photo = read_image(embedded_records("val")[0].image)[:128, :192]  # no shipped recipe trains on it
    scan = halftone(photo, "floyd-steinberg", threads=1).image.astype(np.float32)
    shipped = load_pipeline(shipped_checkpoint())
    tiling = {"device": "cpu", "tile": 128, "overlap": 32}
    reference = Descreener(shipped, backend="torch", precision="fp32", **tiling)(scan)
    exact = Descreener(shipped, backend="openvino", precision="fp32", **tiling)(scan)
    np.testing.assert_allclose(exact, reference, atol=1e-4)
    fast = Descreener(shipped, backend="openvino", precision="bf16", **tiling)(scan)
    assert abs(psnr(fast, photo) - psnr(reference, photo)) < 0.1


def test_tiles_the_graph_cannot_take_run_in_torch(pipeline):
    runtime = make_runtime(pipeline, "openvino", CPU, "fp32")
    assert isinstance(runtime, OpenVINORuntime) and side_multiple(pipeline) == 8
    odd = torch.rand(1, 3, 36, 44)  # an image smaller than one tile, sides not multiples of 8
    expected = TorchRuntime(pipeline, CPU, "fp32")(odd)
    torch.testing.assert_close(runtime(odd), expected)


def test_auto_prefers_openvino_on_the_cpu_and_falls_back_to_torch_with_a_warning(pipeline, monkeypatch):
    assert make_runtime(pipeline, "auto", CPU, "auto").name == "openvino"
    assert make_runtime(pipeline, "torch", CPU, "auto").name == "torch"
    monkeypatch.setattr(runtime_module, "openvino_available", lambda: False)
    with pytest.warns(RuntimeWarning, match="openvino is not installed"):
        assert make_runtime(pipeline, "auto", CPU, "auto").name == "torch"
    with pytest.raises(BackendError, match="needs the openvino package"):
        make_runtime(pipeline, "openvino", CPU, "auto")


def test_a_failing_export_falls_back_for_auto_and_is_an_error_by_name(monkeypatch):
    def broken(*args, **kwargs):
        raise ExportError("cannot export the pipeline to ONNX: unsupported operator")

    monkeypatch.setattr(runtime_module, "cached_openvino_model", broken)
    pipeline = lite_pipeline(seed=1)
    with pytest.warns(RuntimeWarning, match="unsupported operator; descreening with torch instead"):
        assert make_runtime(pipeline, "auto", CPU, "fp32").name == "torch"
    with pytest.raises(BackendError, match="unsupported operator"):
        make_runtime(pipeline, "openvino", CPU, "fp32")


def test_openvino_is_refused_off_the_cpu_and_unknown_names_are_errors(pipeline):
    with pytest.raises(BackendError, match="runs on the CPU"):
        make_runtime(pipeline, "openvino", torch.device("cuda"), "auto")
    with pytest.raises(ValueError, match="backend must be one of auto, torch, openvino"):
        make_runtime(pipeline, "tensorrt", CPU, "auto")
    with pytest.raises(ValueError, match="precision must be one of"):
        make_runtime(pipeline, "torch", CPU, "int4")


def test_the_cache_is_keyed_by_the_weights_and_rebuilt_when_damaged(tmp_path, monkeypatch):
    pipeline = DescreeningPipeline(CoarseNet(width=4, depth=2))  # the smallest graph: quick to export
    exports = []
    real_export = export_module.export_onnx
    monkeypatch.setattr(export_module, "export_onnx", lambda *a: exports.append(1) or real_export(*a))

    _, folder = cached_openvino_model(pipeline, tmp_path)
    assert (folder.parent.name, folder.name) == (pipeline_digest(pipeline), "pipeline") and len(exports) == 1
    assert sorted(p.name for p in folder.iterdir()) == ["export.json", "model.bin", "model.xml"]
    cached_openvino_model(pipeline, tmp_path)
    assert len(exports) == 1  # read from the cache

    weights = bytearray((folder / "model.bin").read_bytes())
    weights[len(weights) // 2] ^= 0xFF  # one flipped byte in the weights
    (folder / "model.bin").write_bytes(bytes(weights))
    cached_openvino_model(pipeline, tmp_path)
    record = json.loads((folder / "export.json").read_text())
    assert len(exports) == 2 and record["pipeline_sha256"] == folder.parent.name

    (folder / "export.json").write_text("{not json")
    cached_openvino_model(pipeline, tmp_path)
    assert len(exports) == 3

    with torch.no_grad():
        pipeline.coarse.head.bias += 0.01  # retrained weights: another entry, never the old graph
    _, retrained = cached_openvino_model(pipeline, tmp_path)
    assert retrained != folder and len(exports) == 4


def test_export_writes_onnx_and_openvino_files_whole_and_keeps_existing_ones(pipeline, tmp_path):
    import onnx
    import openvino as ov

    paths = export_pipeline(pipeline, tmp_path / "out", "lite")
    assert [p.name for p in paths] == ["lite.onnx", "lite.xml", "lite.bin"]
    assert [i.name for i in onnx.load(str(paths[0])).graph.input] == ["halftone"]
    assert not [p for p in (tmp_path / "out").iterdir() if p.name.startswith(".")]  # no staging left behind
    halftone = torch.rand(2, 3, 64, 96)
    expected = TorchRuntime(pipeline, CPU, "fp32")(halftone).numpy()
    for path in paths[:2]:  # each file alone is a working model
        compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
        np.testing.assert_allclose(compiled([halftone.numpy()])[0], expected, atol=1e-5)
    with pytest.raises(FileExistsError, match="lite.onnx exists"):
        export_pipeline(pipeline, tmp_path / "out", "lite")
    assert export_pipeline(pipeline, tmp_path / "out", "lite", overwrite=True) == paths


def test_a_checkpoint_is_a_file_or_the_name_of_a_shipped_one(tmp_path, monkeypatch):
    assert checkpoint_source("perceptual") == "perceptual"
    (tmp_path / "run.ckpt").write_bytes(b"")
    assert checkpoint_source(tmp_path / "run.ckpt") == tmp_path / "run.ckpt"
    with pytest.raises(FileNotFoundError, match="^checkpoint .*missing.ckpt does not exist$"):
        checkpoint_source(tmp_path / "missing.ckpt")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fidelity").write_bytes(b"")
    assert checkpoint_source("fidelity") == Path("fidelity")  # a file of that name wins


def test_export_checkpoint_names_the_files_after_the_checkpoint(tmp_path):
    checkpoint = save_stage(configured_stage("coarse", net={"width": 4, "depth": 2}), tmp_path / "coarse.ckpt")
    exported = export_checkpoint(checkpoint, tmp_path / "out")
    assert [path.name for path in exported.files[:3]] == ["coarse.onnx", "coarse.xml", "coarse.bin"]
    assert all(path.is_file() for path in exported.files)
    assert exported.side_multiple == side_multiple(load_pipeline(checkpoint))
    assert f"H and W multiples of {exported.side_multiple};" in exported.interface()
    with pytest.raises(FileExistsError, match="coarse.onnx exists"):
        export_checkpoint(checkpoint, tmp_path / "out")
