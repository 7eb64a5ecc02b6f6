"""int8 post-training quantisation of the exported pipeline with NNCF, chosen layers kept in float.

Layers are named by the pipeline's modules (``"coarse"``, ``"details.body.1"``, ``"coarse.blur"``), not by
the exporter's node names: :func:`layer_modules` finds each convolution of the OpenVINO graph by its
weights. Needs NNCF (``pip install -e ".[quantize]"``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import numpy as np

from ..models.pipeline import DescreeningPipeline

os.environ.setdefault("NNCF_CI", "1")  # NNCF reports usage over the network unless told it runs in CI

#: The OpenVINO operations that carry a network's weights, and the axis of their output channels.
WEIGHTED_OPS = {"Convolution": 0, "GroupConvolution": 0, "ConvolutionBackpropData": 1}
#: NNCF's presets by name: ``mixed`` (symmetric weights, asymmetric activations) or ``performance``.
PRESETS = ("mixed", "performance")


def _unit_rows(weight: np.ndarray, out_axis: int) -> np.ndarray:
    """One row per output channel, scaled to unit length (a folded norm layer scales each channel)."""
    rows = np.moveaxis(weight, out_axis, 0).reshape(weight.shape[out_axis], -1).astype(np.float64)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def _same_layer(ov_rows: np.ndarray, torch_rows: np.ndarray) -> bool:
    """Every output channel of the graph's weights is the module's (or its single, broadcast one) up to scale."""
    if ov_rows.shape[1] != torch_rows.shape[1] or len(torch_rows) not in (1, len(ov_rows)):
        return False
    torch_rows = np.broadcast_to(torch_rows, ov_rows.shape)
    cosines = np.abs(np.sum(ov_rows * torch_rows, axis=1))
    zero = ~ov_rows.any(axis=1) & ~torch_rows.any(axis=1)  # channels of zeros (an untrained head)
    return bool(np.all((cosines > 1 - 1e-4) | zero))


def _weight(op) -> np.ndarray:
    """The constant behind ``op``'s weights (through reshapes and broadcasts), as ``rows x in x k x k``."""
    node = op.input_value(1).get_node()
    while node.get_type_name() != "Constant" and node.get_input_size():
        node = node.input_value(0).get_node()
    if node.get_type_name() != "Constant":
        raise ValueError(f"{op.get_friendly_name()}: its weights are not a constant")
    return node.get_data().reshape(-1, *op.get_input_partial_shape(1).to_shape()[-3:])


def layer_modules(model, pipeline: DescreeningPipeline) -> dict[str, str]:
    """Each weighted operation of the OpenVINO ``model`` (its friendly name) and the pipeline module it computes.

    Modules are named as in ``pipeline.networks`` (``"details.body.1"``); a weight buffer keeps its own
    name (``"coarse.blur"``). Raises ``ValueError`` when an operation matches no module or several.
    """
    candidates = []
    for name, net in pipeline.networks.items():
        transposed = {f"{m}.weight" for m, module in net.named_modules() if "Transpose" in type(module).__name__}
        for key, tensor in [*net.named_parameters(), *net.named_buffers()]:
            if tensor.ndim == 4:
                module = key.removesuffix(".weight")
                rows = _unit_rows(tensor.detach().float().cpu().numpy(), int(key in transposed))
                candidates.append((f"{name}.{module}", rows))
    found = {}
    for op in model.get_ordered_ops():
        if op.get_type_name() not in WEIGHTED_OPS:
            continue
        rows = _unit_rows(_weight(op), WEIGHTED_OPS[op.get_type_name()])
        matches = [module for module, torch_rows in candidates if _same_layer(rows, torch_rows)]
        if len(matches) != 1:
            raise ValueError(f"{op.get_friendly_name()} matches {len(matches)} modules of the pipeline, not one")
        found[op.get_friendly_name()] = matches[0]
    return found


def float_layers(model, pipeline: DescreeningPipeline, keep: Sequence[str]) -> list[str]:
    """The friendly names of ``model``'s weighted operations computing the modules ``keep`` names (each
    a module or anything under it: ``"coarse"``, ``"details.body.1"``). Raises ``ValueError`` for a name
    that matches nothing."""
    modules = layer_modules(model, pipeline)
    names = []
    for prefix in keep:
        chosen = [op for op, module in modules.items() if module == prefix or module.startswith(f"{prefix}.")]
        if not chosen:
            raise ValueError(f"no layer of the exported pipeline computes {prefix!r}")
        names += [op for op in chosen if op not in names]
    return names


def _computed(node, memo: dict[str, bool]) -> bool:
    """Whether ``node``'s values depend on the values of the graph's inputs (not only on constants and shapes)."""
    name = node.get_friendly_name()
    if name not in memo:
        kind = node.get_type_name()
        inputs = [value.get_node() for value in node.input_values()]
        memo[name] = kind == "Parameter" or (kind != "ShapeOf" and any(_computed(n, memo) for n in inputs))
    return memo[name]


def output_sums(model) -> list[str]:
    """The friendly names of the additions that make the output image: sums of two computed 4-D tensors
    that the graph's results are reached from through no weighted operation (in the pipeline: CoarseNet's
    head plus its low-pass, and the coarse image plus DetailsNet's residual). Quantisers on their inputs
    would round the image itself to 256 levels."""
    found, seen, memo = [], set(), {}
    stack = [value.get_node() for result in model.get_results() for value in result.input_values()]
    while stack:
        node = stack.pop()
        name, kind = node.get_friendly_name(), node.get_type_name()
        if name in seen or kind in WEIGHTED_OPS or kind in ("ShapeOf", "Constant"):
            continue
        seen.add(name)
        inputs = [value.get_node() for value in node.input_values()]
        image = node.get_output_partial_shape(0).rank.get_length() == 4 and node.get_output_element_type(0).is_real()
        if kind == "Add" and image and all(_computed(n, memo) for n in inputs):
            found.append(name)
        stack += inputs
    return found


def quantize_int8(
    model,
    pipeline: DescreeningPipeline,
    calibration: Iterable[np.ndarray],
    keep_float: Sequence[str] = (),
    *,
    float_output: bool = False,
    float_types: Sequence[str] = (),
    preset: str = "mixed",
    fast_bias_correction: bool = True,
):
    """The OpenVINO ``model`` of ``pipeline`` with int8 weights and activations, except the layers of the
    modules in ``keep_float`` (see :func:`float_layers`), with ``float_output`` the additions making the
    output image (:func:`output_sums`), and the operations of the OpenVINO types
    ``float_types`` (``"Add"``: no quantiser on the inputs of additions, such as residual connections),
    calibrated on the input tiles ``calibration`` (``1 x 3 x h x w`` float32 halftones, every one used)."""
    import nncf

    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}, got {preset!r}")
    tiles = list(calibration)
    ignored = float_layers(model, pipeline, keep_float) + (output_sums(model) if float_output else [])
    return nncf.quantize(
        model,
        nncf.Dataset(tiles),
        preset=nncf.QuantizationPreset(preset),
        subset_size=len(tiles),
        fast_bias_correction=fast_bias_correction,
        ignored_scope=nncf.IgnoredScope(names=ignored, types=list(float_types)) if ignored or float_types else None,
    )
