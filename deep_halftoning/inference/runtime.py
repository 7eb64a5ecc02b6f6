"""Where the descreening networks run: PyTorch on any device, or OpenVINO on the CPU.

Both runtimes take a batch of halftone tiles (and, for DetailsNets that read them, object
maps) as float32 ``N x C x h x w`` tensors on the CPU and return the descreened tiles there.
``backend="auto"`` picks OpenVINO for the CPU when it is installed (about three times as fast as
PyTorch eager at the same precision; ``experiments/results/descreen.md``) and PyTorch
otherwise or on a GPU; an automatic choice that fails falls back to PyTorch with one warning.
"""

from __future__ import annotations

import contextlib
import warnings
from pathlib import Path

import numpy as np
import torch

from ..models.pipeline import DescreeningPipeline
from .export import ExportError, cached_openvino_model, pipeline_digest, side_multiple
from .options import BACKENDS, PRECISIONS


class BackendError(RuntimeError):
    """A backend that was asked for by name cannot run here."""


def _torch_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """The autocast dtype for ``precision`` on ``device`` (``None``: plain float32)."""
    if precision == "fp32" or device.type not in ("cpu", "cuda"):
        return None
    if precision == "bf16":
        return torch.bfloat16
    if precision == "fp16":
        return torch.float16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.bfloat16 if torch.ops.mkldnn._is_mkldnn_bf16_supported() else None


class TorchRuntime:
    """The pipeline in PyTorch eager mode, under autocast at the chosen precision (channels-last on CPUs)."""

    name = "torch"

    def __init__(self, pipeline: DescreeningPipeline, device: torch.device, precision: str = "auto") -> None:
        self.device = device
        self.dtype = _torch_dtype(device, precision)
        self.precision = {None: "fp32", torch.bfloat16: "bf16", torch.float16: "fp16"}[self.dtype]
        self.memory_format = torch.channels_last if device.type == "cpu" else torch.contiguous_format
        self.pipeline = pipeline.to(device, memory_format=self.memory_format).eval()

    @property
    def torch_runtime(self) -> TorchRuntime:
        """The torch runtime of this backend (for work outside the tiles): itself."""
        return self

    def autocast(self) -> contextlib.AbstractContextManager:
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def _inputs(self, *tensors: torch.Tensor | None) -> list[torch.Tensor | None]:
        return [None if t is None else t.to(self.device, memory_format=self.memory_format) for t in tensors]

    def __call__(
        self, halftone: torch.Tensor, objects: torch.Tensor | None = None, coarse: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The descreened tiles (``coarse``: CoarseNet's image of them, made at the screen scale)."""
        halftone, objects, coarse = self._inputs(halftone, objects, coarse)
        with torch.inference_mode(), self.autocast():
            return self.pipeline(halftone, objects, coarse)["output"].float().clamp(0, 1).cpu()

    def coarse(self, halftone: torch.Tensor) -> torch.Tensor:
        """CoarseNet's image of the tiles (not clamped: DetailsNet reads it as it was trained)."""
        (halftone,) = self._inputs(halftone)
        with torch.inference_mode(), self.autocast():
            return self.pipeline.coarse(halftone).float().cpu()


#: OpenVINO's names for our precisions.
_OPENVINO_PRECISION = {"bf16": "bf16", "fp16": "f16", "fp32": "f32"}


class OpenVINORuntime:
    """The pipeline exported once (cached by the sha256 of its weights) and compiled by OpenVINO for the CPU.

    At ``int8`` (and ``auto`` on CPUs with int8 instructions) each graph with an int8 version shipped for
    these weights (:func:`.shipped.shipped_int8`: the whole pipeline, and the screen-scaled path's CoarseNet
    and details graphs) runs it; the other layers and graphs run at the float precision ``auto`` picks.
    Tiles whose sides are not multiples of the graph's (:func:`.export.side_multiple`, only on images
    smaller than a tile) run in :attr:`torch_runtime` at the float precision, so both give the same image.
    """

    name = "openvino"

    def __init__(self, pipeline: DescreeningPipeline, precision: str = "auto", threads: int | None = None) -> None:
        import openvino as ov

        self.device = torch.device("cpu")
        core = ov.Core()
        capabilities = core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")
        self.int8 = _int8_graphs(pipeline, precision, "INT8" in capabilities)
        if precision in ("auto", "int8"):
            precision = "bf16" if "BF16" in capabilities else "fp32"
        self.precision = "int8" if self.int8 else precision
        self.multiple = side_multiple(pipeline)
        self.torch_runtime = TorchRuntime(pipeline, self.device, precision)
        self.pipeline, self.core = pipeline, core
        # THROUGHPUT: parallel streams (on 2 cores, two of one thread each), one tile in each at a time
        self.config = {"INFERENCE_PRECISION_HINT": _OPENVINO_PRECISION[precision], "PERFORMANCE_HINT": "THROUGHPUT"}
        if threads:
            self.config["INFERENCE_NUM_THREADS"] = threads
        self.queues: dict[str, tuple] = {}
        self.cache = self._compiled("pipeline")[1]

    def _compiled(self, part: str):
        """The inference queue of ``part``'s graph (exported and compiled on first use) and its cache folder."""
        if part not in self.queues:
            import openvino as ov

            if part in self.int8:
                model, folder = self.core.read_model(str(self.int8[part])), self.int8[part].parent
            else:
                model, folder = cached_openvino_model(self.pipeline, part=part)
            try:
                compiled = self.core.compile_model(model, "CPU", self.config)
            except RuntimeError as err:
                raise ExportError(f"OpenVINO cannot compile the pipeline: {str(err).splitlines()[0]}") from err
            requests = compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS")
            self.queues[part] = ov.AsyncInferQueue(compiled, requests), folder
        return self.queues[part]

    def _run(self, part: str, *inputs: torch.Tensor | None) -> torch.Tensor:
        # One tile per inference, one in flight per stream: the streams keep the cores busy, and a few
        # tiles' activations, not a batch's, bound the peak memory.
        queue = self._compiled(part)[0]
        given = [t for t in inputs if t is not None]
        outputs: list[np.ndarray | None] = [None] * len(given[0])

        def keep(request, index: int) -> None:
            outputs[index] = request.get_output_tensor(0).data.copy()

        queue.set_callback(keep)
        for i in range(len(outputs)):
            queue.start_async([t[i : i + 1].numpy() for t in given], userdata=i)
        queue.wait_all()
        return torch.from_numpy(np.concatenate(outputs))

    def _odd(self, halftone: torch.Tensor) -> bool:
        return bool(halftone.shape[-2] % self.multiple or halftone.shape[-1] % self.multiple)

    def __call__(
        self, halftone: torch.Tensor, objects: torch.Tensor | None = None, coarse: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The descreened tiles (``coarse``: CoarseNet's image of them, made at the screen scale)."""
        if self._odd(halftone):
            return self.torch_runtime(halftone, objects, coarse)
        if coarse is None:
            return self._run("pipeline", halftone, objects)
        return self._run("details", halftone, coarse, objects)

    def coarse(self, halftone: torch.Tensor) -> torch.Tensor:
        """CoarseNet's image of the tiles."""
        if self._odd(halftone):
            return self.torch_runtime.coarse(halftone)
        return self._run("coarse", halftone)


def _int8_graphs(pipeline: DescreeningPipeline, precision: str, native: bool) -> dict[str, Path]:
    """The shipped int8 graphs of ``pipeline``, by part, where ``precision`` asks for them: ``int8`` by name
    (a :class:`BackendError` when none ships for these weights or one is damaged), or ``auto`` on a CPU with
    int8 instructions (``native``; none when none ships, and with one warning when one is damaged)."""
    from .shipped import ShippedCheckpointError, shipped_int8

    if precision != "int8" and not (precision == "auto" and native):
        return {}
    try:
        graphs = shipped_int8(pipeline_digest(pipeline))
    except ShippedCheckpointError as err:
        if precision == "int8":
            raise BackendError(str(err)) from err
        warnings.warn(f"{err}; descreening without int8 instead", RuntimeWarning, stacklevel=4)
        return {}
    if not graphs and precision == "int8":
        raise BackendError(
            "no int8 graph ships for these weights: int8 serves the packaged descreeners "
            "(experiments/quantize_descreener.py makes one)"
        )
    return graphs


def openvino_available() -> bool:
    """Whether the OpenVINO runtime can be imported here."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def make_runtime(
    pipeline: DescreeningPipeline, backend: str, device: torch.device, precision: str
) -> TorchRuntime | OpenVINORuntime:
    """The runtime for ``backend`` (see :data:`BACKENDS`) on ``device`` at ``precision``.

    ``openvino`` by name raises :class:`BackendError` when it cannot run; ``auto`` uses it on the
    CPU when it is installed and otherwise, or when it fails, PyTorch (with one warning line).
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    if precision == "int8":  # an OpenVINO graph only: asked for by name, it never falls back
        if backend == "torch" or device.type != "cpu" or not openvino_available():
            raise BackendError("int8 runs on the openvino backend on the CPU (pip install openvino)")
        try:
            return OpenVINORuntime(pipeline, precision, threads=torch.get_num_threads())
        except (ExportError, OSError) as err:
            raise BackendError(str(err)) from err
    if backend == "torch" or (backend == "auto" and device.type != "cpu"):
        return TorchRuntime(pipeline, device, precision)
    if device.type != "cpu":
        raise BackendError(f"the openvino backend runs on the CPU, not on {device}")
    if not openvino_available():
        if backend == "openvino":
            raise BackendError("the openvino backend needs the openvino package (pip install openvino)")
        warnings.warn("openvino is not installed: descreening with torch (slower)", RuntimeWarning, stacklevel=3)
        return TorchRuntime(pipeline, device, precision)
    try:
        return OpenVINORuntime(pipeline, precision, threads=torch.get_num_threads())
    except (ExportError, OSError) as err:
        if backend == "openvino":
            raise BackendError(str(err)) from err
        warnings.warn(f"{err}; descreening with torch instead", RuntimeWarning, stacklevel=3)
        return TorchRuntime(pipeline, device, precision)
