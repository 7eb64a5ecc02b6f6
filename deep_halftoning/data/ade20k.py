"""ADE20K (SceneParsing, ``ADEChallengeData2016``) classes and their merge into the design's 25.

Annotation PNGs hold 0 for unlabelled pixels and ``1 + i`` for class ``i`` of
:data:`ADE20K_CLASSES`. A :class:`ClassMap` built from a mapping in config turns
them into the design's classes, ``other`` for every class not merged, and an
ignore index for unlabelled pixels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

#: The 150 official SceneParsing classes (objectInfo150), in label order 1..150.
# fmt: off
ADE20K_CLASSES: tuple[str, ...] = (
    "wall", "building", "sky", "floor", "tree", "ceiling", "road", "bed", "windowpane", "grass",
    "cabinet", "sidewalk", "person", "earth", "door", "table", "mountain", "plant", "curtain", "chair",
    "car", "water", "painting", "sofa", "shelf", "house", "sea", "mirror", "rug", "field",
    "armchair", "seat", "fence", "desk", "rock", "wardrobe", "lamp", "bathtub", "railing", "cushion",
    "base", "box", "column", "signboard", "chest of drawers", "counter", "sand", "sink", "skyscraper",
    "fireplace", "refrigerator", "grandstand", "path", "stairs", "runway", "case", "pool table",
    "pillow", "screen door", "stairway", "river", "bridge", "bookcase", "blind", "coffee table",
    "toilet", "flower", "book", "hill", "bench", "countertop", "stove", "palm", "kitchen island",
    "computer", "swivel chair", "boat", "bar", "arcade machine", "hovel", "bus", "towel", "light",
    "truck", "tower", "chandelier", "awning", "streetlight", "booth", "television receiver",
    "airplane", "dirt track", "apparel", "pole", "land", "bannister", "escalator", "ottoman",
    "bottle", "buffet", "poster", "stage", "van", "ship", "fountain", "conveyer belt", "canopy",
    "washer", "plaything", "swimming pool", "stool", "barrel", "basket", "waterfall", "tent", "bag",
    "minibike", "cradle", "oven", "ball", "food", "step", "tank", "trade name", "microwave", "pot",
    "animal", "bicycle", "lake", "dishwasher", "screen", "blanket", "sculpture", "hood", "sconce",
    "vase", "traffic light", "tray", "ashcan", "fan", "pier", "crt screen", "plate", "monitor",
    "bulletin board", "shower", "radiator", "glass", "clock", "flag",
)
# fmt: on
assert len(ADE20K_CLASSES) == 150 and len(set(ADE20K_CLASSES)) == 150

IGNORE_INDEX = 255


@dataclass(frozen=True)
class ClassMap:
    """Merged classes: ``names`` (the last is ``other``) and a 256-entry label lookup table."""

    names: tuple[str, ...]
    lut: np.ndarray
    ignore_index: int = IGNORE_INDEX

    @classmethod
    def from_mapping(
        cls, mapping: Mapping[str, Sequence[str]], other: str = "other", ignore_index: int = IGNORE_INDEX
    ) -> ClassMap:
        """Build from ``{design class: [ADE20K class names]}``, checked against the official list."""
        official = {name: i + 1 for i, name in enumerate(ADE20K_CLASSES)}
        names = (*mapping, other)
        if len(set(names)) != len(names):
            raise ValueError(f"class names must be unique, got {list(names)}")
        if not 0 <= ignore_index <= 255 or ignore_index < len(names):
            raise ValueError(f"ignore_index must be in [{len(names)}, 255], got {ignore_index}")
        lut = np.full(256, ignore_index, np.uint8)
        lut[1 : len(ADE20K_CLASSES) + 1] = len(names) - 1  # everything not merged is "other"
        seen: dict[str, str] = {}
        for target, members in mapping.items():
            if isinstance(members, str) or not members:
                raise ValueError(f"class {target!r}: expected a non-empty list of ADE20K class names")
            for member in members:
                if member not in official:
                    raise ValueError(f"class {target!r}: {member!r} is not one of the 150 ADE20K classes")
                if member in seen:
                    raise ValueError(f"ADE20K class {member!r} is merged into both {seen[member]!r} and {target!r}")
                seen[member] = target
                lut[official[member]] = names.index(target)
        lut.setflags(write=False)
        return cls(names, lut, ignore_index)

    @property
    def num_classes(self) -> int:
        return len(self.names)

    def __call__(self, annotation: np.ndarray) -> np.ndarray:
        """Map an ADE20K annotation (uint8/uint16 labels) to merged class indices (uint8)."""
        labels = np.asarray(annotation)
        if labels.dtype != np.uint8:
            labels = np.where(labels > 255, 0, labels).astype(np.uint8)
        return self.lut[labels]
