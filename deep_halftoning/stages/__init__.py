"""Training stages: one LightningModule per stage of the paper's recipe."""

from .coarse import CoarseStage
from .common import Stage
from .details import DetailsStage, JointStage
from .edge import EdgeStage
from .object import ObjectStage

STAGES = {
    "coarse": CoarseStage,
    "edge": EdgeStage,
    "object": ObjectStage,
    "details": DetailsStage,
    "joint": JointStage,
}

__all__ = [
    "STAGES",
    "CoarseStage",
    "DetailsStage",
    "EdgeStage",
    "JointStage",
    "ObjectStage",
    "Stage",
]
