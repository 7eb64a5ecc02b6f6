"""int8 quantisation of the exported pipeline: layers named by module, the output sums, what stays in float."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deep_halftoning.inference import load_pipeline, shipped_checkpoint
from deep_halftoning.inference.export import cached_openvino_model
from deep_halftoning.inference.quantize import WEIGHTED_OPS, float_layers, layer_modules, output_sums, quantize_int8
from deep_halftoning.models.pipeline import DescreeningPipeline


def weighted_modules(pipeline: DescreeningPipeline) -> set[str]:
    """The pipeline's modules (and weight buffers) with 4-D weights, as :func:`layer_modules` names them."""
    return {
        f"{name}.{key.removesuffix('.weight')}"
        for name, net in pipeline.networks.items()
        for key, tensor in [*net.named_parameters(), *net.named_buffers()]
        if tensor.ndim == 4
    }


@pytest.fixture(scope="module")
def pipeline() -> DescreeningPipeline:
    """A small random pipeline with norm layers that scale (and flip) channels, so that export folds them."""
    torch.manual_seed(0)
    pipeline = DescreeningPipeline.build(
        coarse={"width": 8, "depth": 3, "full_res": 8, "lowpass": 1.0},
        edge={"width": 8, "layers": 2},
        details={"width": 8, "blocks": 2, "fold": 2},
    )
    for module in pipeline.modules():
        if isinstance(module, torch.nn.BatchNorm2d):
            torch.nn.init.uniform_(module.weight, -2.0, 2.0)
            module.running_var.uniform_(0.5, 2.0)
    torch.nn.init.normal_(pipeline.details.body[-3].weight, std=0.1)
    return pipeline.eval()


@pytest.fixture(scope="module")
def model(pipeline):
    return cached_openvino_model(pipeline)[0]


def test_every_weighted_layer_is_named_by_its_module(pipeline, model):
    modules = layer_modules(model, pipeline)
    assert len(modules) == len(weighted_modules(pipeline)) and set(modules.values()) == weighted_modules(pipeline)
    shipped = load_pipeline(shipped_checkpoint())
    assert set(layer_modules(cached_openvino_model(shipped)[0], shipped).values()) == weighted_modules(shipped)


def test_float_layers_take_a_module_and_everything_under_it(pipeline, model):
    modules = layer_modules(model, pipeline)
    assert [modules[op] for op in float_layers(model, pipeline, ["details.body.1"])] == ["details.body.1"]
    under = {modules[op] for op in float_layers(model, pipeline, ["edge"])}
    assert under == {m for m in weighted_modules(pipeline) if m.startswith("edge.")}
    with pytest.raises(ValueError, match="'details.body.99'"):
        float_layers(model, pipeline, ["details.body.99"])


def test_the_output_sums_are_the_coarse_image_and_the_output():
    shipped = load_pipeline(shipped_checkpoint())
    model = cached_openvino_model(shipped)[0]
    ops = {op.get_friendly_name(): op for op in model.get_ordered_ops()}
    sums = [ops[name] for name in output_sums(model)]
    assert len(sums) == 2 and all(op.get_type_name() == "Add" for op in sums)
    sources = {value.get_node().get_type_name() for op in sums for value in op.input_values()}
    assert sources == {"Add", "GroupConvolution", "Tanh"}  # head + low-pass; coarse + residual


def _op(model, name: str):
    return next(op for op in model.get_ordered_ops() if op.get_friendly_name() == name)


def _fed_by_fake_quantize(model, name: str, port: int) -> bool:
    return _op(model, name).input_value(port).get_node().get_type_name() == "FakeQuantize"


def _int8_weights(model, name: str) -> bool:
    """Whether the op's weights pass a quantiser or are stored as integers (converted to float in the graph)."""
    node = _op(model, name).input_value(1).get_node()
    kinds = []
    while node.get_input_size():
        kinds.append(node.get_type_name())
        node = node.input_value(0).get_node()
    return "FakeQuantize" in kinds or "Convert" in kinds


def test_quantisation_keeps_the_chosen_layers_and_the_output_sums_in_float(pipeline, model):
    pytest.importorskip("nncf")
    import openvino as ov

    rng = np.random.default_rng(0)
    tiles = [(rng.random((1, 3, 64, 64)) > 0.5).astype(np.float32) for _ in range(4)]
    everything = quantize_int8(model, pipeline, tiles)
    mixed = quantize_int8(model, pipeline, tiles, ["details.body.1"], float_output=True)
    kept = float_layers(model, pipeline, ["details.body.1"])[0]
    assert _int8_weights(everything, kept) and not _int8_weights(mixed, kept)
    for name in output_sums(model):
        assert _fed_by_fake_quantize(everything, name, 0) or _fed_by_fake_quantize(everything, name, 1)
        assert not _fed_by_fake_quantize(mixed, name, 0) and not _fed_by_fake_quantize(mixed, name, 1)
    weighted = [op for op in mixed.get_ordered_ops() if op.get_type_name() in WEIGHTED_OPS]
    assert sum(_int8_weights(mixed, op.get_friendly_name()) for op in weighted) == len(weighted) - 1
    core = ov.Core()
    reference = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})([tiles[0]])[0]
    output = core.compile_model(mixed, "CPU")([tiles[0]])[0]
    assert np.abs(output - reference).mean() < 0.02
    with pytest.raises(ValueError, match="preset"):
        quantize_int8(model, pipeline, tiles, preset="fast")
