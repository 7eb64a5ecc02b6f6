"""Training data: sources, on-the-fly halftone/clean pairs and the LightningDataModule."""

from .ade20k import ADE20K_CLASSES, ClassMap
from .datamodule import HalftoneDataModule
from .mix import HalftoneMix, Recipe
from .pairs import PairDataset, PairSettings
from .sources import EMBEDDED_PHOTOS, Record, build_records

__all__ = [
    "ADE20K_CLASSES",
    "EMBEDDED_PHOTOS",
    "ClassMap",
    "HalftoneDataModule",
    "HalftoneMix",
    "PairDataset",
    "PairSettings",
    "Recipe",
    "Record",
    "build_records",
]
