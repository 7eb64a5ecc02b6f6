"""Descreen scans of any size with trained networks, tile by tile."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ..models import NETWORKS
from ..stages.common import CHECKPOINT_KEY
from .tiling import tiled_apply, tiles

PIPELINE = ("coarse", "edge", "object_net", "details")


def pick_device(device: str | None = None) -> torch.device:
    """``device``, or the best available: CUDA, then Apple MPS, then CPU."""
    if device not in (None, "", "auto"):
        return torch.device(device)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def load_pipeline(path: str | os.PathLike) -> dict[str, torch.nn.Module]:
    """The networks of a stage checkpoint (``weights_only``), rebuilt from the specs stored with them."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - corrupt, truncated, not a torch file
        raise ValueError(f"{path}: not a readable checkpoint ({type(err).__name__}: {err})") from None
    specs = checkpoint.get(CHECKPOINT_KEY, {}).get("networks") if isinstance(checkpoint, dict) else None
    if not specs or "coarse" not in specs:
        raise ValueError(f"{path}: not a Deep Halftoning stage checkpoint with a coarse network")
    networks = {}
    for name in PIPELINE:
        if name not in specs:
            continue
        spec = specs[name]
        config = dict(spec["config"])
        if spec["class"] == "ObjectNet":
            config["pretrained"] = "none"  # the checkpoint holds the weights
        net = NETWORKS[spec["class"]](**config)
        state = {k[len(name) + 1 :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(f"{name}.")}
        try:
            net.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise ValueError(f"{path}: the '{name}' weights do not fit their recorded architecture: {err}") from None
        networks[name] = net.eval().requires_grad_(False)
    return networks


class Descreener:
    """The trained pipeline (Coarse, Edge, Object, Details; or Coarse alone) on images of any size.

    Images are processed in overlapping tiles blended with a smooth window, a batch of
    tiles at a time, so memory stays bounded. ObjectNet's context is computed once over
    the whole page at reduced scale (``object_side`` pixels on the longer side) and
    cropped for each tile, so all tiles see consistent semantics. On a GPU the networks
    run under bf16 (or fp16) autocast.
    """

    def __init__(
        self,
        networks: dict[str, torch.nn.Module],
        device: str | None = None,
        tile: int = 512,
        overlap: int = 64,
        batch: int = 4,
        object_side: int = 512,
    ) -> None:
        if tile % 32:
            raise ValueError(f"tile must be a multiple of 32, got {tile}")
        if not 0 <= overlap < tile:
            raise ValueError(f"overlap must be in [0, tile) = [0, {tile}), got {overlap}")
        self.device = pick_device(device)
        self.networks = {name: net.to(self.device) for name, net in networks.items()}
        self.tile, self.overlap, self.batch, self.object_side = tile, overlap, batch, object_side

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, **kwargs) -> Descreener:
        return cls(load_pipeline(path), **kwargs)

    @property
    def full_pipeline(self) -> bool:
        return "details" in self.networks

    def _autocast(self):
        if self.device.type == "cuda":
            dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
            return torch.autocast("cuda", dtype=dtype)
        return contextlib.nullcontext()

    def _object_context(self, image: torch.Tensor) -> torch.Tensor | None:
        net = self.networks.get("object_net")
        if net is None or not self.full_pipeline or not self.networks["details"].object_channels:
            return None
        h, w = image.shape[-2:]
        scale = min(1.0, self.object_side / max(h, w))
        small = F.interpolate(image[None], scale_factor=scale, mode="area") if scale < 1 else image[None]
        with self._autocast():
            return torch.softmax(net(small.to(self.device)).float(), dim=1).cpu()

    def _run_tiles(self, batch: torch.Tensor, boxes, context: torch.Tensor | None, full_size) -> torch.Tensor:
        halftone = batch.to(self.device)
        with torch.inference_mode(), self._autocast():
            coarse = self.networks["coarse"](halftone)
            if not self.full_pipeline:
                return coarse.clamp(0, 1)
            details = self.networks["details"]
            edges = torch.sigmoid(self.networks["edge"](halftone)) if details.use_edges else None
            objects = None
            if context is not None:
                objects = torch.stack([_crop_context(context, box, full_size) for box in boxes]).to(self.device)
            return details(halftone, coarse, objects, edges).clamp(0, 1)

    def __call__(self, image: np.ndarray, progress: bool = False) -> np.ndarray:
        """Descreen an ``H x W x 3`` (or grey ``H x W``) float image in [0, 1]."""
        grey = image.ndim == 2
        rgb = np.repeat(image[..., None], 3, axis=2) if grey else image
        tensor = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1), dtype=np.float32))
        context = self._object_context(tensor)
        size = tuple(tensor.shape[-2:])
        count = sum(1 for _ in tiles(*size, self.tile, self.overlap))
        with tqdm(total=count, desc="tiles", unit="tile", disable=not progress, leave=False) as bar:
            out = tiled_apply(
                tensor,
                lambda t, b: self._run_tiles(t, b, context, size),
                self.tile,
                self.overlap,
                self.batch,
                progress=bar.update,
            )
        del tensor, rgb  # free page-sized buffers before the output copy
        result = out.numpy().transpose(1, 2, 0)
        return np.ascontiguousarray(result.mean(axis=2) if grey else result, dtype=np.float32)


def _crop_context(context: torch.Tensor, box, full_size) -> torch.Tensor:
    """The object probabilities of one tile, cropped from the page-level map and resized to the tile."""
    y, x, h, w = box
    height, width = full_size
    ch, cw = context.shape[-2:]
    y0, y1 = int(y * ch / height), max(int(y * ch / height) + 1, int(np.ceil((y + h) * ch / height)))
    x0, x1 = int(x * cw / width), max(int(x * cw / width) + 1, int(np.ceil((x + w) * cw / width)))
    crop = context[:, :, y0:y1, x0:x1]
    return F.interpolate(crop, size=(h, w), mode="bilinear", align_corners=False)[0]
