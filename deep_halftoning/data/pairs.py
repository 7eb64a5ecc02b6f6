"""One training sample: a clean crop, its halftone and the targets, made on the fly."""

from __future__ import annotations

import json
import math
import warnings
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
from torch.utils.data import Dataset

from ..halftone import halftone
from ..halftone.scan import rotate, simulate_scan
from ..halftone.screen_scale import ScreenScale, to_canonical
from ..io import ImageReadError, read_image
from .ade20k import ClassMap
from .augment import random_crop, random_flip_rotate
from .mix import HalftoneMix, Recipe
from .sources import Record
from .targets import canny_edges

#: How pairs meet the screen scale: ``canonical`` (the pair resampled to the canonical period, as
#: CoarseNet sees it), ``full`` (full resolution, the factor given with it: stages running the pipeline).
SCREEN_SCALE_MODES = ("canonical", "full")


@dataclass(frozen=True)
class ScreenNormalisation:
    """AM pairs brought to the canonical screen period as serving brings scans (see
    :mod:`..halftone.screen_scale`), in ``mode`` (:data:`SCREEN_SCALE_MODES`). The factor comes from
    the print's period off by up to ``detection_error`` (relative), as a scan analysis measures it."""

    mode: str
    scale: ScreenScale
    detection_error: float = 0.02

    @classmethod
    def from_config(cls, config: Mapping | None) -> ScreenNormalisation | None:
        if not config:
            return None
        config = dict(config)
        mode, error = config.pop("mode", None), config.pop("detection_error", 0.02)
        if mode not in SCREEN_SCALE_MODES:
            raise ValueError(f"data.screen_scale.mode must be one of {', '.join(SCREEN_SCALE_MODES)}, got {mode!r}")
        if not 0 <= float(error) < 0.5:
            raise ValueError(f"data.screen_scale.detection_error must be in [0, 0.5), got {error!r}")
        known = {"canonical_period", "min_factor", "max_factor"}
        unknown = sorted(set(config) - known)
        if unknown:
            raise ValueError(f"unknown data.screen_scale settings {unknown}; known: {sorted(known)}")
        return cls(mode, ScreenScale(**{k: float(v) for k, v in config.items()}), float(error))

    def factor(self, recipe: Recipe, rng: np.random.Generator) -> float:
        """The factor serving would use for ``recipe``'s print (1 for halftones without a screen period)."""
        period = recipe.screen_period
        if period is None:
            return 1.0
        return self.scale.factor(period * (1.0 + rng.uniform(-self.detection_error, self.detection_error)))


@dataclass(frozen=True)
class PairSettings:
    """How crops are cut and targets made: the defaults are conf/data/default.yaml's (a test checks)."""

    crop_size: int = 256
    scale_range: tuple[float, float] = (0.6, 1.0)
    small_images: str = "reflect"
    flips: bool = True
    rot90: bool = True
    max_side: int | None = 2048
    edges: Mapping[str, float] = field(default_factory=lambda: {"sigma": 1.0, "low": 50.0, "high": 150.0})
    screen_scale: ScreenNormalisation | None = None


def _nbytes(item: tuple[np.ndarray, np.ndarray | None]) -> int:
    return item[0].nbytes + (0 if item[1] is None else item[1].nbytes)


class _ImageCache:
    """Decoded images kept per process up to a byte budget (oldest out first)."""

    def __init__(self, budget_mb: float) -> None:
        self.budget = int(budget_mb * 2**20)
        self.used = 0
        self.items: OrderedDict[Record, tuple[np.ndarray, np.ndarray | None]] = OrderedDict()

    def get(self, record: Record, load) -> tuple[np.ndarray, np.ndarray | None]:
        if record in self.items:
            return self.items[record]
        value = load(record)
        size = _nbytes(value)
        if size <= self.budget:
            while self.used + size > self.budget:
                _, old = self.items.popitem(last=False)
                self.used -= _nbytes(old)
            self.items[record] = value
            self.used += size
        return value


class PairDataset(Dataset):
    """Halftone/clean pairs of ``length`` samples drawn from ``records``.

    With ``deterministic`` (validation), sample ``i`` is always the same image,
    crop and halftone. Otherwise every draw takes a fresh seed from torch's
    generator (seeded differently per epoch and per worker by the DataLoader)
    combined with :attr:`rank`, so workers and ranks never repeat each other.
    With ``on_device``, the halftone is left to the GPU (see the data module)
    and the sample carries its ``recipe`` instead. With ``compact``, images travel
    as 8-bit tensors (see :func:`decode_batch`).
    """

    def __init__(
        self,
        records: Sequence[Record],
        mix: HalftoneMix,
        settings: PairSettings,
        length: int,
        *,
        deterministic: bool = False,
        seed: int = 0,
        class_map: ClassMap | None = None,
        on_device: bool = False,
        cache_mb: float = 1024,
        compact: bool = False,
    ) -> None:
        if not records:
            raise ValueError("a pair dataset needs at least one image")
        if length < 1:
            raise ValueError(f"dataset length must be >= 1, got {length}")
        self.records = list(records)
        self.mix = mix
        self.settings = settings
        self.length = length
        self.deterministic = deterministic
        self.seed = seed
        self.class_map = class_map
        self.on_device = on_device
        self.compact = compact
        self.rank = 0
        self._cache = _ImageCache(cache_mb)
        self._broken: set[int] = set()
        self.labelled = class_map is not None and all(r.label is not None for r in self.records)

    def __len__(self) -> int:
        return self.length

    def rng(self, index: int) -> np.random.Generator:
        if self.deterministic:
            return np.random.default_rng([self.seed, index])
        draw = int(torch.randint(0, 2**62, (1,)).item())
        return np.random.default_rng([self.seed, self.rank, draw, index])

    def _load(self, record: Record) -> tuple[np.ndarray, np.ndarray | None]:
        image = _rgb(read_image(record.image, max_side=self.settings.max_side))
        if record.label is None or self.class_map is None:
            return image, None
        raw = cv2.imread(str(record.label), cv2.IMREAD_UNCHANGED)
        if raw is None or raw.ndim != 2:
            raise ImageReadError(f"{record.label}: not a single-channel label image")
        label = self.class_map(raw)
        if label.shape != image.shape[:2]:
            label = cv2.resize(label, (image.shape[1], image.shape[0]), interpolation=cv2.INTER_NEAREST)
        return image, label

    def _record_for(self, index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """The image of ``index``, or the next readable one if it breaks while training."""
        n = len(self.records)
        for offset in range(n):
            position = (index + offset) % n
            if position in self._broken:
                continue
            record = self.records[position]
            try:
                return self._cache.get(record, self._load)
            except ImageReadError as err:
                self._broken.add(position)
                warnings.warn(f"skipping unreadable image: {err}", stacklevel=2)
        raise RuntimeError("every image of the dataset became unreadable")

    def __getitem__(self, index: int) -> dict[str, object]:
        rng = self.rng(index)
        s = self.settings
        image, label = self._record_for(index)
        recipe = self.mix.sample(rng)
        factor = 1.0 if s.screen_scale is None else s.screen_scale.factor(recipe, rng)
        canonical = factor != 1.0 and s.screen_scale.mode == "canonical"
        # a canonical pair is printed at full resolution from a larger crop, then resampled to crop_size
        size = math.ceil(s.crop_size / factor) if canonical else s.crop_size
        clean, label = random_crop(image, label, size, rng, s.scale_range, s.small_images)
        clean, label = random_flip_rotate(clean, label, rng, s.flips, s.rot90)
        sample: dict[str, object] = {"method": recipe.method}
        if s.screen_scale is not None:
            sample["scale"] = torch.tensor(factor, dtype=torch.float32)
        if self.on_device:
            sample["recipe"] = json.dumps({"method": recipe.method, "mode": recipe.mode, "params": recipe.params})
        else:
            screened, clean = make_halftone(clean, recipe)
            if recipe.scan is not None and recipe.scan.rotation:  # a skewed scan turns the print: the target too
                clean, label = rotate_pair(clean, label, recipe.scan.rotation)
            if canonical:
                screened, clean, label = canonical_pair(screened, clean, label, factor, s.crop_size)
            sample["halftone"] = _chw(screened, self.compact)
        edges = canny_edges(clean, **s.edges)
        sample["clean"] = _chw(clean, self.compact)
        sample["edges"] = torch.from_numpy(edges.astype(np.uint8) if self.compact else edges)[None]
        if self.labelled and label is not None:
            sample["segmentation"] = torch.from_numpy(label.astype(np.uint8 if self.compact else np.int64))
        return sample


def make_halftone(clean: np.ndarray, recipe: Recipe) -> tuple[np.ndarray, np.ndarray]:
    """Halftone an RGB crop with ``recipe`` (then scan it), always ``H x W x 3``, and the target: the
    crop itself, or for a print with dot gain, real inks or tinted paper that print without its screen
    (descreening removes the pattern; it does not guess what colours the printer meant)."""
    result = halftone(clean, recipe.method, mode=recipe.mode, threads=1, **recipe.params)
    out, target = _rgb(result.image), _rgb(clean if result.contone is None else result.contone)
    if recipe.scan is not None:
        out = simulate_scan(out, recipe.scan, seed=recipe.scan_seed)
    return out, target


def canonical_pair(
    halftone: np.ndarray, clean: np.ndarray, label: np.ndarray | None, factor: float, size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """A full-resolution pair brought to the canonical period by ``factor`` (:func:`to_canonical`, as
    serving resamples a scan), cut to ``size x size`` from its top-left corner (the grid's origin)."""
    images = torch.from_numpy(np.stack([halftone, clean]).astype(np.float32, copy=False)).permute(0, 3, 1, 2)
    small = to_canonical(images, factor)[..., :size, :size].clamp(0, 1).permute(0, 2, 3, 1).numpy()
    if label is not None:
        label = cv2.resize(label, small.shape[1:3][::-1], interpolation=cv2.INTER_NEAREST)
    return np.ascontiguousarray(small[0]), np.ascontiguousarray(small[1]), label


def _rgb(image: np.ndarray) -> np.ndarray:
    """A grey ``H x W`` image as ``H x W x 3`` (colour images unchanged)."""
    return np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image


def rotate_pair(image: np.ndarray, label: np.ndarray | None, degrees: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Rotate an image (bilinear) and its label (nearest) together about the centre."""
    image = rotate(image, degrees)
    if label is None:
        return image, None
    h, w = label.shape
    matrix = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), degrees, 1.0)
    return image, cv2.warpAffine(label, matrix, (w, h), flags=cv2.INTER_NEAREST, borderMode=cv2.BORDER_REFLECT_101)


def _chw(image: np.ndarray, compact: bool = False) -> torch.Tensor:
    """A contiguous ``C x H x W`` tensor of an ``H x W x C`` image, split into planes here: collating
    contiguous samples is a plain copy; collating ``permute`` views is a strided one (0.12 ms per 8-bit
    crop, against 0.044 ms to split the planes here)."""
    # compact: 8 bits per sample, like the scans themselves: a quarter of the bytes between processes
    pixels = cv2.convertScaleAbs(image, alpha=255.0) if compact else np.asarray(image, np.float32)
    return torch.from_numpy(np.stack(cv2.split(pixels)))


IMAGE_KEYS = ("halftone", "clean", "edges")


def decode_batch(batch: dict) -> dict:
    """Compact (8-bit) batches to float32 images in [0, 1] and int64 labels; others pass unchanged."""
    for key in IMAGE_KEYS:
        value = batch.get(key)
        if torch.is_tensor(value) and value.dtype == torch.uint8:
            batch[key] = _to_float(value, 1.0 if key == "edges" else 1.0 / 255.0)
    if torch.is_tensor(batch.get("segmentation")) and batch["segmentation"].dtype == torch.uint8:
        batch["segmentation"] = batch["segmentation"].long()
    return batch


def _to_float(value: torch.Tensor, scale: float) -> torch.Tensor:
    """``value * scale`` as float32 in one pass. On the CPU through NumPy: a single thread does it
    5x faster than torch's OpenMP threads, which also fight the loader's workers for the cores."""
    if value.device.type == "cpu":
        return torch.from_numpy(np.multiply(value.numpy(), np.float32(scale), dtype=np.float32))
    return value * scale if scale != 1.0 else value.float()
