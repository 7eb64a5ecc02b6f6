"""Descreen scans of any size with trained networks, tile by tile."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..halftone.screen_scale import canonical_size, canonical_window, from_canonical
from ..models.checkpoint import CheckpointError, load_networks
from ..models.pipeline import DescreeningPipeline
from .detect import ScreenAnalysis, analyse
from .options import BATCH, OVERLAP, TILE, TILE_MULTIPLE, check_tiling, parse_scale
from .runtime import make_runtime
from .tiling import tiled_apply, tiled_windows, tiles


def _mps_available() -> bool:
    return getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()


def pick_device(device: str | None = None) -> torch.device:
    """``device`` checked against this machine, or the best available: CUDA, then Apple MPS, then CPU.

    A name that is no device, or a device this machine lacks, raises ``ValueError`` (one line naming it).
    """
    if device in (None, "", "auto"):
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except RuntimeError:
        raise ValueError(f"{device}: not a device; use cpu, cuda, cuda:N or mps") from None
    if chosen.type == "cuda" and (not torch.cuda.is_available() or (chosen.index or 0) >= torch.cuda.device_count()):
        raise ValueError(f"{device}: no such CUDA GPU on this machine")
    if chosen.type == "mps" and not _mps_available():
        raise ValueError(f"{device}: Apple MPS is not available on this machine")
    return chosen


def load_pipeline(path: str | os.PathLike) -> DescreeningPipeline:
    """The descreening pipeline of a checkpoint (``weights_only``), rebuilt from the specs stored with it.

    Anything that is not one raises :class:`CheckpointError` (a ``ValueError``), one line naming the file.
    """
    networks = load_networks(path)
    if "coarse" not in networks:
        raise CheckpointError(f"{Path(path)}: a Deep Halftoning checkpoint without a descreening (coarse) network")
    return DescreeningPipeline(**networks).eval()


@dataclass(frozen=True)
class ScaleChoice:
    """The screen scale a page is descreened at: CoarseNet at ``factor`` (1: full resolution), for a
    screen of ``period`` pixels when one was measured, and why (``reason``, a few words)."""

    factor: float
    period: float | None
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


class Descreener:
    """The trained pipeline (Coarse, Edge, Object, Details; or Coarse alone) on images of any size.

    Images are processed in overlapping tiles blended with a smooth window, a batch of
    tiles at a time, so memory stays bounded. ObjectNet's context is computed once over
    the whole page at reduced scale (``object_side`` pixels on the longer side) and
    cropped for each tile, so all tiles see consistent semantics. With a CoarseNet trained at a
    canonical screen scale, an AM page is brought to it (``scale``: ``auto`` measures the screen,
    ``off`` never resamples, a number is the factor), CoarseNet's image of it is made tile by tile
    and each full-resolution tile reads its part of it back (:mod:`..halftone.screen_scale`). The
    tiles run on the ``backend`` (:mod:`.runtime`: OpenVINO on the CPU where installed, else
    PyTorch) at ``precision`` (bf16 where the hardware computes it natively); :attr:`backend` and
    :attr:`precision` tell what was chosen.
    """

    def __init__(
        self,
        pipeline: DescreeningPipeline,
        device: str | None = None,
        tile: int = TILE,
        overlap: int = OVERLAP,
        batch: int = BATCH,
        object_side: int = 512,
        precision: str = "auto",
        backend: str = "auto",
        scale: str | float = "auto",
    ) -> None:
        check_tiling(tile, overlap, TILE_MULTIPLE)
        self.scale = parse_scale(scale)
        self.device = pick_device(device)
        self.runtime = make_runtime(pipeline, backend, self.device, precision)
        self.pipeline = pipeline.eval()
        self.tile, self.overlap, self.batch, self.object_side = tile, overlap, batch, object_side

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, **kwargs) -> Descreener:
        return cls(load_pipeline(path), **kwargs)

    @property
    def backend(self) -> str:
        """The runtime the tiles run on: ``torch`` or ``openvino``."""
        return self.runtime.name

    @property
    def precision(self) -> str:
        """The precision the tiles run at: ``bf16``, ``fp16`` or ``fp32``."""
        return self.runtime.precision

    def choose_scale(self, image: np.ndarray, analysis: ScreenAnalysis | None = None) -> ScaleChoice:
        """The screen scale ``image`` is descreened at (``analysis``: its screen analysis, if made)."""
        if self.scale == "off":
            return ScaleChoice(1.0, None, "off")
        if self.scale != "auto":
            return ScaleChoice(float(self.scale), None, "given")
        screen_scale = self.pipeline.screen_scale
        if screen_scale is None:
            return ScaleChoice(1.0, None, "the model works at full resolution")
        analysis = analysis if analysis is not None else analyse(image)
        period = analysis.am_period
        if period is None:
            return ScaleChoice(1.0, None, f"no AM screen ({analysis.kind})")
        return ScaleChoice(screen_scale.factor(period), period, f"AM screen of {period:.2f} px")

    def _object_context(self, image: torch.Tensor) -> torch.Tensor | None:
        details = self.pipeline.details
        if details is None or not details.object_channels:
            return None
        h, w = image.shape[-2:]
        scale = min(1.0, self.object_side / max(h, w))
        small = F.interpolate(image[None], scale_factor=scale, mode="area") if scale < 1 else image[None]
        # ObjectNet runs in torch on every backend: once per page, at reduced scale.
        runtime = self.runtime.torch_runtime
        with torch.inference_mode(), runtime.autocast():
            return self.pipeline.object_probabilities(small.to(runtime.device))[1].float().cpu()

    def _tile_count(self, height: int, width: int) -> int:
        return sum(1 for _ in tiles(height, width, self.tile, self.overlap))

    def _tiled(self, image: torch.Tensor, run, bar) -> torch.Tensor:
        return tiled_apply(image, run, self.tile, self.overlap, self.batch, progress=bar.update)

    def _canonical_coarse(self, image: torch.Tensor, factor: float, size: tuple[int, int], bar) -> torch.Tensor:
        """CoarseNet's canonical image of the page (``size``), each tile resampled from the page window it covers."""

        def run(batch: torch.Tensor, _) -> torch.Tensor:
            return self.runtime.coarse(batch)

        window = partial(canonical_window, image, factor)
        return tiled_windows(size, window, run, self.tile, self.overlap, self.batch, progress=bar.update)

    def _run_tiles(self, batch: torch.Tensor, boxes, context, full_size, coarse, factor) -> torch.Tensor:
        objects = coarse_tiles = None
        if context is not None:
            objects = torch.stack([_crop_context(context, box, full_size) for box in boxes])
        if coarse is not None:
            coarse_tiles = torch.cat([from_canonical(coarse[None], factor, box) for box in boxes])
        return self.runtime(batch, objects, coarse_tiles)

    def __call__(self, image: np.ndarray, progress: bool = False, scale: ScaleChoice | None = None) -> np.ndarray:
        """Descreen an ``H x W x 3`` (or grey ``H x W``) float image in [0, 1] (at ``scale``, or the
        one :meth:`choose_scale` picks)."""
        grey = image.ndim == 2
        rgb = np.repeat(image[..., None], 3, axis=2) if grey else image
        factor = (scale or self.choose_scale(rgb)).factor
        # C x H x W views of H x W x C memory: tiles are copied out of the page and blended into
        # the output one batch at a time, so a page costs its input and output buffers only
        page = torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1)
        result = np.ascontiguousarray(self._descreen(page, factor, progress).permute(1, 2, 0).numpy())
        return result.mean(axis=2, dtype=np.float32) if grey else result

    def _descreen(self, image: torch.Tensor, factor: float, progress: bool) -> torch.Tensor:
        """The descreened ``3 x H x W`` image: CoarseNet at the screen scale ``factor`` when it is not 1, its
        canonical tiles each resampled from the page window they cover, then the full-resolution tiles
        (unless CoarseNet alone is the pipeline)."""
        size = tuple(image.shape[-2:])
        small = canonical_size(*size, factor) if factor != 1.0 else None
        full_pass = small is None or self.pipeline.details is not None  # else CoarseNet's image is the output
        count = (self._tile_count(*size) if full_pass else 0) + (self._tile_count(*small) if small else 0)
        with tqdm(total=count, desc="tiles", unit="tile", disable=not progress, leave=False) as bar:
            coarse = None if small is None else self._canonical_coarse(image, factor, small, bar)
            if not full_pass:
                return from_canonical(coarse[None], factor, (0, 0, *size))[0].clamp(0, 1)
            context = self._object_context(image)
            return self._tiled(image, lambda t, b: self._run_tiles(t, b, context, size, coarse, factor), bar)


def _crop_context(context: torch.Tensor, box, full_size) -> torch.Tensor:
    """The object probabilities of one tile, cropped from the page-level map and resized to the tile."""
    y, x, h, w = box
    height, width = full_size
    ch, cw = context.shape[-2:]
    y0, y1 = int(y * ch / height), max(int(y * ch / height) + 1, int(np.ceil((y + h) * ch / height)))
    x0, x1 = int(x * cw / width), max(int(x * cw / width) + 1, int(np.ceil((x + w) * cw / width)))
    crop = context[:, :, y0:y1, x0:x1]
    return F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False)[0]
