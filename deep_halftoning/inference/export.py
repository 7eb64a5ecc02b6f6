"""The descreening pipeline as a portable graph: ONNX for any runtime, OpenVINO IR for the CPU.

The exported graph maps a batch of halftone tiles (``N x 3 x H x W``, float32 in [0, 1],
sides multiples of :func:`side_multiple`, where no network pads) to the descreened tiles; with a DetailsNet that reads
object maps it takes them as a second input. Exports of a pipeline are cached under
:func:`cache_root`, keyed by the sha256 of its networks (classes, configs and weights), and each
cached file's sha256 is checked before use: a stale or damaged entry is rebuilt, never trusted.
OpenVINO's model converter is not used (it sends telemetry): the ONNX file is read by the runtime.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from ..io import file_sha256
from ..models.pipeline import DescreeningPipeline
from .options import checkpoint_source

#: Bumped whenever the exported graph or the cache layout changes: older entries are then rebuilt.
EXPORT_FORMAT = 2
#: The files of one cached OpenVINO export.
IR_FILES = ("model.xml", "model.bin")


class ExportError(RuntimeError):
    """A pipeline could not be exported or loaded into a runtime."""


#: The graphs a pipeline exports to: ``pipeline`` (halftone tiles to descreened tiles), and for
#: screen-scaled serving ``coarse`` (CoarseNet alone) and ``details`` (the rest, given CoarseNet's image).
PARTS = ("pipeline", "coarse", "details")


class TileGraph(nn.Module):
    """One part (:data:`PARTS`) of the pipeline, as its exported graph computes it."""

    def __init__(self, pipeline: DescreeningPipeline, part: str = "pipeline") -> None:
        super().__init__()
        if part not in PARTS or (part == "details" and pipeline.details is None):
            raise ValueError(f"no {part!r} graph in this pipeline")
        self.pipeline, self.part = pipeline, part

    @property
    def uses_objects(self) -> bool:
        details = self.pipeline.details
        return bool(self.part != "coarse" and details is not None and details.object_channels)

    @property
    def input_names(self) -> list[str]:
        """The graph's inputs, in order."""
        names = ["halftone"] + (["coarse"] if self.part == "details" else [])
        return names + (["objects"] if self.uses_objects else [])

    def forward(self, halftone: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        if self.part == "coarse":
            return self.pipeline.coarse(halftone)
        coarse = rest[0] if self.part == "details" else None
        objects = rest[-1] if self.uses_objects else None
        return self.pipeline(halftone, objects, coarse)["output"].clamp(0, 1)


def side_multiple(pipeline: DescreeningPipeline) -> int:
    """The tile sides (multiples of this) that no network of the pipeline pads: the exported graph's sizes."""
    return math.lcm(*(getattr(net, "pad_multiple", 1) for net in pipeline.networks.values()))


def pipeline_digest(pipeline: DescreeningPipeline) -> str:
    """sha256 of what the networks are (classes and configs) and of every weight and buffer."""
    digest = hashlib.sha256(f"deep-halftoning export {EXPORT_FORMAT}".encode())
    for name, net in pipeline.networks.items():
        spec = {"name": name, "class": type(net).__name__, "config": getattr(net, "config", {})}
        digest.update(json.dumps(spec, sort_keys=True, default=str).encode())
        for key, tensor in net.state_dict().items():
            digest.update(f"{key}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
            digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def export_onnx(pipeline: DescreeningPipeline, path: str | os.PathLike, part: str = "pipeline") -> Path:
    """Write the pipeline's ``part`` graph (:data:`PARTS`) to ``path`` as ONNX (dynamic batch, sides
    multiples of :func:`side_multiple`)."""
    graph = TileGraph(copy.deepcopy(pipeline).float().eval().cpu(), part)
    multiple = side_multiple(pipeline)
    batch = torch.export.Dim("batch", min=1, max=1024)
    height = multiple * torch.export.Dim("rows", min=1, max=4096)
    width = multiple * torch.export.Dim("cols", min=1, max=4096)
    image_dims = {0: batch, 2: height, 3: width}
    shape = (2, 3, 2 * multiple, 3 * multiple)
    channels = {"halftone": 3, "coarse": 3, "objects": pipeline.details.object_channels if graph.uses_objects else 0}
    names = graph.input_names
    example = tuple(
        torch.softmax(torch.rand(2, channels[name], *shape[2:]), dim=1) if name == "objects" else torch.rand(shape)
        for name in names
    )
    dynamic = {"halftone": image_dims}  # forward(halftone, *rest)
    if len(names) > 1:
        dynamic["rest"] = tuple(image_dims for _ in names[1:])
    path = Path(path)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):  # the exporter's chatter
        warnings.simplefilter("ignore")
        try:
            program = torch.onnx.export(
                graph,
                example,
                dynamo=True,
                dynamic_shapes=dynamic,
                input_names=names,
                output_names=["output"],
                verbose=False,
            )
        except Exception as err:  # the exporter raises many types; all mean the same to a user
            raise ExportError(f"cannot export the pipeline to ONNX: {str(err).splitlines()[0]}") from err
        program.save(str(path))
    return path


def cache_root() -> Path:
    """Where exports are cached: ``$DEEP_HALFTONING_CACHE``, else ``$XDG_CACHE_HOME`` or ``~/.cache``
    ``/deep-halftoning``."""
    if os.environ.get("DEEP_HALFTONING_CACHE"):
        return Path(os.environ["DEEP_HALFTONING_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deep-halftoning"


def _record(folder: Path, key: str, part: str, runtime_version: str) -> dict:
    files = {name: file_sha256(folder / name) for name in IR_FILES}
    return {"format": EXPORT_FORMAT, "pipeline_sha256": key, "part": part, "openvino": runtime_version, "files": files}


def _valid(folder: Path, key: str, part: str, runtime_version: str) -> bool:
    """The cached entry exists, was made from this pipeline by this runtime, and its files are intact."""
    try:
        recorded = json.loads((folder / "export.json").read_text())
        return recorded == _record(folder, key, part, runtime_version)
    except (OSError, ValueError):
        return False


def write_openvino_ir(
    pipeline: DescreeningPipeline, folder: str | os.PathLike, name: str = "model", part: str = "pipeline"
) -> list[Path]:
    """Write ``name.onnx`` and OpenVINO's ``name.xml`` / ``name.bin`` of the pipeline's ``part`` into ``folder``."""
    import openvino as ov

    folder = Path(folder)
    onnx_path = export_onnx(pipeline, folder / f"{name}.onnx", part)
    try:
        model = ov.Core().read_model(str(onnx_path))
        ov.save_model(model, str(folder / f"{name}.xml"), compress_to_fp16=False)
    except RuntimeError as err:
        raise ExportError(f"OpenVINO cannot read the exported pipeline: {str(err).splitlines()[0]}") from err
    return [onnx_path, folder / f"{name}.xml", folder / f"{name}.bin"]


def cached_openvino_model(pipeline: DescreeningPipeline, root: str | os.PathLike | None = None, part: str = "pipeline"):
    """The pipeline's ``part`` (:data:`PARTS`) as an OpenVINO model, exported once and then read from the cache.

    Returns ``(model, cache_folder)``. An entry whose record or files do not match is rebuilt;
    the new entry is written to a temporary folder and moved into place whole.
    """
    import openvino as ov

    key = pipeline_digest(pipeline)
    root = Path(root) if root is not None else cache_root()
    folder = root / "openvino" / key / part
    if not _valid(folder, key, part, ov.__version__):
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=root, prefix=".export-") as tmp:
            staging = Path(tmp) / "entry"
            staging.mkdir()
            write_openvino_ir(pipeline, staging, part=part)
            (staging / "model.onnx").unlink()
            (staging / "export.json").write_text(json.dumps(_record(staging, key, part, ov.__version__), indent=1))
            shutil.rmtree(folder, ignore_errors=True)
            folder.parent.mkdir(parents=True, exist_ok=True)
            try:
                staging.rename(folder)
            except OSError:  # another process moved its identical entry in first
                if not _valid(folder, key, part, ov.__version__):
                    raise
    return ov.Core().read_model(str(folder / "model.xml")), folder


def exported_parts(pipeline: DescreeningPipeline) -> dict[str, str]:
    """The graphs serving this pipeline needs, by file-name suffix: the whole pipeline, and for a
    CoarseNet trained at a screen scale its two parts (``-coarse``, ``-details``)."""
    parts = {"": "pipeline"}
    if pipeline.screen_scale is not None:
        parts["-coarse"] = "coarse"
        if pipeline.details is not None:
            parts["-details"] = "details"
    return parts


def export_pipeline(
    pipeline: DescreeningPipeline, folder: str | os.PathLike, name: str, overwrite: bool = False
) -> list[Path]:
    """Write each of the pipeline's graphs (:func:`exported_parts`) as ``NAME[-part].onnx`` and
    OpenVINO's ``.xml`` / ``.bin`` into ``folder``.

    Files appear whole or not at all; existing ones are kept unless ``overwrite``.
    """
    folder = Path(folder)
    parts = exported_parts(pipeline)
    targets = [folder / f"{name}{tag}{suffix}" for tag in parts for suffix in (".onnx", ".xml", ".bin")]
    existing = [str(path) for path in targets if path.exists()]
    if existing and not overwrite:
        raise FileExistsError(f"{existing[0]} exists (overwrite it with --overwrite, or choose another folder or name)")
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=f".{name}.") as tmp:
        written = [path for tag, part in parts.items() for path in write_openvino_ir(pipeline, tmp, name + tag, part)]
        for source, target in zip(written, targets, strict=True):
            os.replace(source, target)
    return targets


@dataclass(frozen=True)
class Export:
    """The files :func:`export_checkpoint` wrote, and the side their graphs' inputs are multiples of."""

    files: list[Path]
    side_multiple: int
    #: the canonical screen period of the ``-coarse`` and ``-details`` graphs (``None``: none written)
    canonical_period: float | None = None

    def interface(self) -> str:
        """The graphs' input and output, in words."""
        text = (
            f"input 'halftone': N x 3 x H x W float32 RGB in [0, 1], H and W multiples of {self.side_multiple}; "
            "output 'output': the descreened tiles, same shape (the .xml/.bin pair is OpenVINO's format)"
        )
        if self.canonical_period is None:
            return text
        return (
            f"{text}. For an AM scan resampled so that its screen period is {self.canonical_period:g} px, the "
            "-coarse graph gives CoarseNet's image of it; brought back to full resolution, that image is the "
            "-details graph's input 'coarse', beside the full-resolution 'halftone'"
        )


def export_checkpoint(
    checkpoint: str | os.PathLike, folder: str | os.PathLike, name: str | None = None, overwrite: bool = False
) -> Export:
    """Export the descreening pipeline of a stage or packed checkpoint, or of a shipped descreener by name
    (see :func:`.options.checkpoint_source`), with :func:`export_pipeline`; ``name`` defaults to the stem of
    the checkpoint's file."""
    from .descreener import load_pipeline  # the descreener imports this module (through its runtimes)
    from .shipped import shipped_checkpoint

    source = checkpoint_source(checkpoint)
    path = shipped_checkpoint(source) if isinstance(source, str) else source
    pipeline = load_pipeline(path)
    files = export_pipeline(pipeline, folder, name or path.stem, overwrite=overwrite)
    scale = pipeline.screen_scale if pipeline.details is not None else None
    return Export(files, side_multiple(pipeline), None if scale is None else scale.canonical_period)
