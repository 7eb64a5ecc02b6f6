"""The measurements of a quantised descreener: calibration tiles, held-out PSNR per row, time per tile."""

from __future__ import annotations

import numpy as np
import pytest

from deep_halftoning.data.sources import embedded_records
from deep_halftoning.evaluation.quantization import (
    CALIBRATION_METHODS,
    calibration_set,
    held_out_pairs,
    row_psnr,
    tile_seconds,
)


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
