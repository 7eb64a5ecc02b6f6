"""Hydra overrides that shrink any recipe to seconds on a CPU (shared by the training tests)."""

TINY_DATA = [
    "data.crop_size=32",
    "data.batch_size=4",
    "data.samples_per_epoch=8",
    "data.val_samples=4",
    "data.loader.num_workers=0",
    "data.loader.persistent_workers=false",
]
TINY_NETWORKS = [
    "networks.coarse.width=8",
    "networks.coarse.depth=3",
    "networks.edge.width=8",
    "networks.edge.layers=2",
    "networks.details.width=8",
    "networks.details.blocks=1",
    "networks.discriminator.width=8",
    "networks.discriminator.layers=2",
    "networks.object.backbone=resnet18",
    "networks.object.head_width=16",
]
