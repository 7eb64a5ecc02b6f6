"""The configs under ``conf/`` (package data, so an installed tool has them too) and composing them.

Every reader of ``conf/`` finds it here: the training entry point, the stage graph, the halftone presets
and the tests. Hydra is imported on first compose, so reading a preset does not pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegaconf import DictConfig

#: The repository's ``conf/``, shipped inside the package.
CONF_DIR = Path(__file__).parent / "conf"
#: The root config of ``deep-halftoning train``: ``conf/train.yaml``.
CONFIG_NAME = "train"


def compose_config(
    overrides: Sequence[str] = (), *, config_name: str | None = CONFIG_NAME, hydra_config: bool = False
) -> DictConfig:
    """``conf/<config_name>.yaml`` composed with Hydra's ``overrides``, as ``deep-halftoning train`` composes
    it (``config_name=None``: only what the overrides add, e.g. ``+data=default``); ``hydra_config`` keeps the
    ``hydra`` node (sweeper, launcher, run folder)."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose(config_name, overrides=list(overrides), return_hydra_config=hydra_config)
