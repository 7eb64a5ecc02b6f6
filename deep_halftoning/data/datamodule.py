"""The LightningDataModule that feeds every training stage with pairs made on the fly."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields

import cv2
import lightning as L
import torch
from torch.utils.data import DataLoader

from ..halftone.catalogue import PRINT_PARAMS
from ..halftone.torch_ops import TORCH_METHODS, halftone_torch
from .ade20k import ClassMap
from .augment import SMALL_IMAGE_POLICIES
from .memory import reuse_freed_memory
from .mix import HalftoneMix
from .pairs import PairDataset, PairSettings, ScreenNormalisation, decode_batch
from .sources import build_records, drop_unreadable


@dataclass(frozen=True)
class LoaderSettings:
    """How batches are loaded: ``num_workers`` processes (``persistent_workers`` kept between
    epochs), each caching ``cache_mb`` of decoded images. With ``compact_transfer`` images cross
    process and device boundaries as 8-bit tensors, a quarter of the bytes, and are float32 in
    [0, 1] again once transferred (call :meth:`HalftoneDataModule.decode` when iterating the loaders
    by hand). ``reuse_freed_memory`` keeps glibc from handing every freed batch back to the system
    (see :mod:`.memory`); ``opencv_threads`` caps OpenCV's threads per process while workers run
    (``None`` leaves OpenCV alone)."""

    num_workers: int = 2
    pin_memory: bool = False
    persistent_workers: bool = True
    cache_mb: float = 1024
    compact_transfer: bool = True
    reuse_freed_memory: bool = True
    opencv_threads: int | None = 1

    @classmethod
    def from_config(cls, loader: Mapping | None) -> LoaderSettings:
        known = {f.name for f in fields(cls)}
        unknown = set(loader or {}) - known
        if unknown:
            raise ValueError(f"unknown data.loader settings {sorted(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**dict(loader or {}))


class HalftoneDataModule(L.LightningDataModule):
    """Halftone/clean pairs for training and validation, from any source in config.

    ``batch_size`` is the global batch; each device gets ``batch_size / world_size``.
    Validation pairs are fixed (seeded by index); training pairs are fresh every
    epoch. With ``halftone_on_device`` the halftones of ordered and AM methods
    are made on the accelerator after the batch is transferred. How batches are
    loaded is one ``loader`` block (:class:`LoaderSettings`).
    """

    def __init__(  # no defaults here: conf/data/default.yaml is their one home
        self,
        *,
        train_source: Mapping,
        val_source: Mapping,
        halftone: Mapping,
        crop_size: int,
        scale_range: Sequence[float],
        small_images: str,
        flips: bool,
        rot90: bool,
        max_side: int | None,
        edges: Mapping | None,
        class_map: Mapping[str, Sequence[str]] | None,
        samples_per_epoch: int,
        val_samples: int,
        batch_size: int,
        seed: int,
        halftone_on_device: bool,
        loader: Mapping | None,
        screen_scale: Mapping | None,
    ) -> None:
        super().__init__()
        self.loader = LoaderSettings.from_config(loader)
        _check_settings(
            crop_size=crop_size,
            batch_size=batch_size,
            samples_per_epoch=samples_per_epoch,
            val_samples=val_samples,
            num_workers=self.loader.num_workers,
            scale_range=scale_range,
            small_images=small_images,
        )
        self.train_source, self.val_source = dict(train_source), dict(val_source)
        self.mix = HalftoneMix.from_config(halftone.get("methods") or {}, halftone.get("scan"))
        self.settings = PairSettings(
            crop_size=int(crop_size),
            scale_range=(float(scale_range[0]), float(scale_range[1])),
            small_images=small_images,
            flips=bool(flips),
            rot90=bool(rot90),
            max_side=max_side,
            edges=dict(edges or {"sigma": 1.0, "low": 50.0, "high": 150.0}),
            screen_scale=ScreenNormalisation.from_config(screen_scale),
        )
        self.class_map = ClassMap.from_mapping(class_map) if class_map else None
        if self.train_source.get("kind") == "ade20k" and self.class_map is None:
            raise ValueError("the ade20k source needs a class_map (see conf/data/ade20k_classes.yaml)")
        self.samples_per_epoch, self.val_samples = int(samples_per_epoch), int(val_samples)
        self.batch_size, self.seed = int(batch_size), int(seed)
        self.halftone_on_device = bool(halftone_on_device)
        if self.halftone_on_device:
            self._check_device_mix()
            if self.settings.screen_scale is not None and self.settings.screen_scale.mode == "canonical":
                raise ValueError("canonical screen-scale pairs are resampled on the CPU: not with halftone_on_device")
        self.train_set: PairDataset | None = None
        self.val_set: PairDataset | None = None

    def _check_device_mix(self) -> None:
        slow = [m for m in self.mix.methods if m not in TORCH_METHODS]
        if slow:
            raise ValueError(
                f"halftone_on_device supports {', '.join(TORCH_METHODS)}; the mix also has {', '.join(slow)}"
            )
        printed = sorted({e.method for e in self.mix.entries if set(e.params) & set(PRINT_PARAMS)})
        if printed:
            raise ValueError(
                f"halftone_on_device makes ideal prints only: drop the print-model parameters "
                f"({', '.join(PRINT_PARAMS)}) of {', '.join(printed)}"
            )
        if self.mix.scan.probability > 0:
            raise ValueError("scan simulation runs on the CPU only: set halftone.scan.probability=0 on device")

    @property
    def num_classes(self) -> int | None:
        """Merged segmentation classes (with ``other``), when the data is labelled."""
        return None if self.class_map is None else self.class_map.num_classes

    @property
    def world_size(self) -> int:
        return self.trainer.world_size if self.trainer is not None else 1

    @property
    def per_device_batch_size(self) -> int:
        if self.batch_size % self.world_size:
            raise ValueError(f"global batch_size {self.batch_size} is not divisible by {self.world_size} devices")
        return self.batch_size // self.world_size

    def setup(self, stage: str | None = None) -> None:
        if self.loader.reuse_freed_memory:
            reuse_freed_memory()  # before the workers fork, so they inherit it
        rank = self.trainer.global_rank if self.trainer is not None else 0
        common = {
            "class_map": self.class_map,
            "on_device": self.halftone_on_device,
            "cache_mb": self.loader.cache_mb,
            "compact": self.loader.compact_transfer,
        }
        if stage in (None, "fit") and self.train_set is None:
            records = _records("train_source", self.train_source)
            self.train_set = PairDataset(
                records, self.mix, self.settings, self.samples_per_epoch, seed=self.seed, **common
            )
            self.train_set.rank = rank
        if stage in (None, "fit", "validate") and self.val_set is None:
            records = _records("val_source", self.val_source)
            self.val_set = PairDataset(
                records, self.mix, self.settings, self.val_samples, deterministic=True, seed=self.seed + 1, **common
            )

    def _loader(self, dataset: PairDataset | None, train: bool) -> DataLoader:
        if dataset is None:
            raise RuntimeError("call setup() before asking for a dataloader")
        workers = self.loader.num_workers
        if workers and self.loader.opencv_threads is not None:
            cv2.setNumThreads(
                self.loader.opencv_threads
            )  # here, before the workers fork: not inside them, where it hangs
        return DataLoader(
            dataset,
            batch_size=self.per_device_batch_size,
            shuffle=train,
            drop_last=train,
            num_workers=workers,
            pin_memory=self.loader.pin_memory,
            persistent_workers=self.loader.persistent_workers and workers > 0,
        )

    def train_dataloader(self) -> DataLoader:
        return self._loader(self.train_set, train=True)

    def val_dataloader(self) -> DataLoader:
        return self._loader(self.val_set, train=False)

    #: A loader batch as the stages see it (float32 images, int64 labels), for use outside Lightning.
    decode = staticmethod(decode_batch)

    def on_after_batch_transfer(self, batch: dict, dataloader_idx: int) -> dict:
        batch = decode_batch(batch)  # 8-bit transfer -> float32 in [0, 1], on the device
        if "recipe" in batch and "halftone" not in batch:
            batch["halftone"] = halftone_on_device(batch["clean"], batch["recipe"])
        return batch


def _check_settings(**settings) -> None:
    """Name the setting when a value cannot work (before anything is built)."""
    for name in ("crop_size", "batch_size", "samples_per_epoch", "val_samples"):
        if not isinstance(settings[name], int) or settings[name] < 1:
            raise ValueError(f"data.{name} must be a positive integer, got {settings[name]!r}")
    if not isinstance(settings["num_workers"], int) or settings["num_workers"] < 0:
        raise ValueError(f"data.loader.num_workers must be an integer >= 0, got {settings['num_workers']!r}")
    low, high = settings["scale_range"]
    if not 0 < low <= high:
        raise ValueError(f"data.scale_range must be [low, high] with 0 < low <= high, got {settings['scale_range']}")
    if settings["small_images"] not in SMALL_IMAGE_POLICIES:
        raise ValueError(f"data.small_images must be one of {SMALL_IMAGE_POLICIES}, got {settings['small_images']!r}")


def halftone_on_device(clean: torch.Tensor, recipes: Sequence[str]) -> torch.Tensor:
    """Halftone a batch where it lives, grouping samples that share a recipe."""
    out = torch.empty_like(clean)
    groups: dict[str, list[int]] = {}
    for i, recipe in enumerate(recipes):
        groups.setdefault(recipe, []).append(i)
    for recipe, indices in groups.items():
        spec = json.loads(recipe)
        index = torch.tensor(indices, device=clean.device)
        result = halftone_torch(clean[index], spec["method"], mode=spec["mode"], **spec["params"])
        out[index] = result.expand(-1, 3, -1, -1) if result.shape[1] == 1 else result
    return out


def _records(key: str, source: Mapping) -> list:
    """The readable records of the ``key`` source; a problem is told naming the config key to set."""
    try:
        return drop_unreadable(build_records(source))
    except (FileNotFoundError, ValueError) as err:
        setting = f"data.{key}.path" if "path" in source else f"data.{key}"
        raise type(err)(f"data.{key}: {err} (set {setting}=...)") from None
