"""The measurements of a quantised descreener: calibration tiles, held-out PSNR per row, time per tile."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from helpers import lite_pipeline

from deep_halftoning.data.sources import embedded_records
from deep_halftoning.evaluation.quantization import (
    CALIBRATION_METHODS,
    SCREEN_RULINGS,
    calibration_set,
    held_out_pairs,
    row_psnr,
    screen_calibration,
    screen_scaled_psnr,
    tile_seconds,
)
from deep_halftoning.inference import Descreener
from deep_halftoning.models.metrics import psnr

SCREEN_SCALE = {"canonical_period": 4.0, "min_factor": 0.25, "max_factor": 1.0}


def _screen_pipeline():
    pipeline = lite_pipeline()
    pipeline.coarse.set_screen_scale(SCREEN_SCALE)
    return pipeline


def _torch_graph(network):
    def run(inputs: list[np.ndarray]) -> list[np.ndarray]:
        with torch.inference_mode():
            return [network(*(torch.from_numpy(a) for a in inputs)).numpy()]

    return run


def test_calibration_takes_every_method_on_every_training_photo():
    tiles = calibration_set(1, side=64)
    assert len(tiles) == len(embedded_records("train", colour_only=True)) * len(CALIBRATION_METHODS)
    assert all(t.shape == (1, 3, 64, 64) and t.dtype == np.float32 for t in tiles)
    assert set(np.unique(tiles[0])) <= {0.0, 1.0}  # Floyd-Steinberg first
    np.testing.assert_array_equal(calibration_set(1, side=64)[-1], tiles[-1])  # seeded


def test_rows_score_each_held_out_crop_against_its_target():
    pairs = held_out_pairs(2, ["bayer-8", "am-ideal-6px"])
    assert [len(items) for items in pairs.values()] == [2, 2]
    halftone, target = pairs["bayer-8"][0]
    assert halftone.shape == target.shape and halftone.shape[:2] == (1, 3) and halftone.shape[2] <= 384
    scores = row_psnr(lambda inputs: [inputs[0]], pairs)
    targets = {id(h): t for h, t in pairs["bayer-8"]}
    exact = row_psnr(lambda inputs: [targets[id(inputs[0])]], {"bayer-8": pairs["bayer-8"]})
    assert scores["bayer-8"].shape == (2,) and np.all(scores["bayer-8"] < 20) and np.all(exact["bayer-8"] > 80)


def test_graphs_take_turns_in_every_timed_round():
    calls: list[str] = []
    graphs = {name: (lambda inputs, name=name: calls.append(name) or [inputs[0]]) for name in ("a", "b")}
    seconds = tile_seconds(graphs, np.zeros((1, 3, 8, 8), np.float32), 3)
    assert calls == ["a", "b"] * 4  # one warm-up each, then three rounds
    assert {name: s.shape for name, s in seconds.items()} == {"a": (3,), "b": (3,)} and seconds["a"].min() >= 0


def test_the_shipped_descreener_in_int8_with_float_output_sums_keeps_bf16_psnr_on_held_out_crops():
    pytest.importorskip("nncf")
    import openvino as ov

    from deep_halftoning.inference import load_pipeline, shipped_checkpoint
    from deep_halftoning.inference.export import cached_openvino_model
    from deep_halftoning.inference.quantize import quantize_int8

    pipeline = load_pipeline(shipped_checkpoint())
    model = cached_openvino_model(pipeline)[0]
    quantised = quantize_int8(model, pipeline, calibration_set(1), float_output=True)
    core, config = ov.Core(), {"INFERENCE_PRECISION_HINT": "bf16"}
    pairs = held_out_pairs(2, ["floyd-steinberg", "am-cmyk+scan"])  # the row int8 costs most, the training family
    reference = row_psnr(core.compile_model(model, "CPU", config), pairs)
    int8 = row_psnr(core.compile_model(quantised, "CPU", config), pairs)
    for row in pairs:
        assert np.all(int8[row] != reference[row])  # really another graph
        assert int8[row].mean() - reference[row].mean() >= -0.1


def test_screen_calibration_gives_canonical_tiles_and_full_resolution_pairs():
    pipeline = _screen_pipeline()
    coarse, details = screen_calibration(pipeline, 1, side=64)
    assert len(coarse) == len(details) == len(embedded_records("train", colour_only=True)) * len(SCREEN_RULINGS)
    assert all(t.shape[:2] == (1, 3) and t.shape[2] % 32 == 0 and 0 < t.shape[3] <= 64 for t in coarse)
    for tile, image in details:
        assert tile.shape == image.shape == (1, 3, 64, 64)
        assert np.abs(image - tile).mean() > 0.05  # CoarseNet's image, not the halftone


def test_the_screen_scaled_graphs_serve_as_the_descreener_does():
    pipeline = _screen_pipeline().float()
    pairs = held_out_pairs(1, ["am-ideal-8px"])
    halftone, target = pairs["am-ideal-8px"][0]
    graphs = _torch_graph(pipeline.coarse), _torch_graph(lambda h, c: pipeline(h, coarse=c)["output"])
    scores = screen_scaled_psnr(*graphs, pipeline, pairs)
    descreener = Descreener(pipeline, device="cpu", backend="torch", precision="fp32", tile=512, overlap=64)
    image = halftone[0].transpose(1, 2, 0)
    assert descreener.choose_scale(image).factor < 1  # an 8 px screen is brought to 4 px
    served = descreener(image).transpose(2, 0, 1)[None]
    assert scores["am-ideal-8px"][0] == pytest.approx(
        psnr(torch.from_numpy(served), torch.from_numpy(target)), abs=0.05
    )
