"""The networks: plain ``nn.Module`` s, composed by the training stages."""

from .coarse import CoarseNet
from .details import DetailsNet, PatchDiscriminator
from .edge import EdgeNet
from .features import build_features
from .object import ObjectNet

#: Networks by the name used in configs and checkpoints.
NETWORKS = {
    "coarse": CoarseNet,
    "edge": EdgeNet,
    "object": ObjectNet,
    "details": DetailsNet,
    "discriminator": PatchDiscriminator,
}

__all__ = ["NETWORKS", "CoarseNet", "DetailsNet", "EdgeNet", "ObjectNet", "PatchDiscriminator", "build_features"]
