"""Training stages: one LightningModule per stage of the paper's recipe."""

from .coarse import CoarseStage
from .common import ArchitectureMismatch, Stage, load_network
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
    "ArchitectureMismatch",
    "CoarseStage",
    "DetailsStage",
    "EdgeStage",
    "JointStage",
    "ObjectStage",
    "Stage",
    "load_network",
]
