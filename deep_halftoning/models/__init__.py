"""The networks: plain ``nn.Module`` s, composed by the training stages."""

from .checkpoint import NETWORKS
from .coarse import CoarseNet
from .details import DetailsNet, PatchDiscriminator
from .edge import EdgeNet
from .features import build_features
from .object import ObjectNet
from .reference import ReferenceUNet

__all__ = [
    "NETWORKS",
    "CoarseNet",
    "DetailsNet",
    "EdgeNet",
    "ObjectNet",
    "PatchDiscriminator",
    "ReferenceUNet",
    "build_features",
]
