"""The networks: plain ``nn.Module`` s, composed by the training stages."""

from .coarse import CoarseNet
from .details import DetailsNet, PatchDiscriminator
from .edge import EdgeNet
from .features import build_features
from .object import ObjectNet
from .reference import ReferenceUNet

#: Network classes by the class name stored with their weights in stage checkpoints.
NETWORKS = {cls.__name__: cls for cls in (CoarseNet, EdgeNet, ObjectNet, DetailsNet, PatchDiscriminator, ReferenceUNet)}

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
