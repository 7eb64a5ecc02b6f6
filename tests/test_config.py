"""The YAML under conf/ is the one home of the training settings: code defaults, where a class used directly
keeps them, are the YAML's; settings the configs state reach the code that uses them."""

from __future__ import annotations

import dataclasses

import pytest
from helpers import TINY_NETS, configured_stage
from omegaconf import OmegaConf

from deep_halftoning.config import compose_config
from deep_halftoning.data.ade20k import IGNORE_INDEX
from deep_halftoning.data.datamodule import LoaderSettings
from deep_halftoning.data.pairs import PairSettings


def _plain(value):
    return list(value) if isinstance(value, tuple) else value


@pytest.mark.parametrize(("settings", "key"), [(PairSettings, None), (LoaderSettings, "loader")])
def test_code_defaults_are_those_of_the_data_config(settings, key):
    data = OmegaConf.to_container(compose_config(["+data=default"], config_name=None).data)
    yaml = data[key] if key else data
    for field in dataclasses.fields(settings):
        if field.default is not dataclasses.MISSING:
            default = field.default
        elif field.default_factory is not dataclasses.MISSING:
            default = field.default_factory()
        else:
            continue
        assert field.name in yaml, f"{settings.__name__}.{field.name} has a default but no key in the YAML"
        assert _plain(default) == yaml[field.name], f"{settings.__name__}.{field.name}: {default} in code"


def test_the_ignore_index_of_the_object_loss_comes_from_the_stage_config():
    for model in ("object", "details", "joint"):  # the label maps' unlabelled value
        assert compose_config([f"model={model}"]).model.module.ignore_index == IGNORE_INDEX, model
    with pytest.warns(UserWarning, match="random weights"):
        assert configured_stage("details", **TINY_NETS, ignore_index=7).ignore_index == 7
