"""Opt-in ImageNet weights from torchvision, with one clear error when they are not available.

Weights are read from torch's hub cache (``$TORCH_HOME/hub/checkpoints``, by
default ``~/.cache/torch/hub/checkpoints``); on a machine without network they
must be copied there by hand.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torchvision.models import WeightsEnum


class PretrainedWeightsUnavailable(RuntimeError):
    """ImageNet weights were asked for but are neither cached nor downloadable."""


def load_imagenet_state(weights: WeightsEnum) -> dict[str, torch.Tensor]:
    """State dict of ``weights`` from the local cache, downloading it if the network allows."""
    url = weights.url
    cache = Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(url)
    try:
        if cache.is_file():
            return torch.load(cache, map_location="cpu", weights_only=True)
        return weights.get_state_dict(progress=False, check_hash=True)
    except Exception as err:  # noqa: BLE001 - no network, bad file, ...: one clear message either way
        raise PretrainedWeightsUnavailable(
            f"ImageNet weights {weights} are not available ({type(err).__name__}: {err}). "
            f"Download {url} on a machine with network access and copy it to {cache}, "
            "or choose pretrained weights 'none' / the 'random' feature network in the config."
        ) from None
