"""The one checkpoint format and the descreening pipeline, as serving and training see them."""

import subprocess
import sys

import numpy as np
import pytest
import torch
from helpers import TINY_NETS
from PIL import Image

from deep_halftoning.models import CoarseNet, DetailsNet, EdgeNet, ObjectNet
from deep_halftoning.models.checkpoint import (
    CHECKPOINT_KEY,
    ArchitectureMismatch,
    CheckpointError,
    load_network,
    load_networks,
    network_spec,
    read_checkpoint,
    save_networks,
)
from deep_halftoning.models.pipeline import DescreeningPipeline

SMALL = {name: TINY_NETS[name] for name in ("coarse", "edge", "details")}


def test_serving_imports_neither_lightning_nor_the_data_package():
    code = (
        "import sys, deep_halftoning.inference.descreener, deep_halftoning.inference.shipped\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('lightning', 'pytorch_lightning', 'torchmetrics')"
        " or m.startswith(('deep_halftoning.data', 'deep_halftoning.stages', 'deep_halftoning.training'))]\n"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


@pytest.mark.parametrize("kind", ["png", "text", "foreign-dict", "list", "empty"])
def test_anything_but_a_checkpoint_is_one_clear_error(tmp_path, kind):
    path = tmp_path / f"input.{kind}"
    if kind == "png":
        Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(path, format="PNG")
    elif kind == "text":
        path.write_text("hello")
    elif kind == "foreign-dict":
        torch.save({"a": 1}, path)
    elif kind == "list":
        torch.save([1, 2, 3], path)
    else:
        path.write_bytes(b"")
    with pytest.raises(CheckpointError) as caught:
        read_checkpoint(path)
    message = str(caught.value)
    assert message.startswith(str(path)) and "\n" not in message and "weights_only" not in message


def test_old_names_and_prefixes_still_load(tmp_path):
    # a checkpoint as ObjectStage wrote it before the names were unified: "object_net", prefix "object_net."
    net = ObjectNet(num_classes=5, backbone="resnet18", head_width=16)
    spec = {"class": "ObjectNet", "config": dict(net.config)}
    state = {f"object_net.{k}": v for k, v in net.state_dict().items()}
    torch.save({CHECKPOINT_KEY: {"networks": {"object_net": spec}}, "state_dict": state}, tmp_path / "old.ckpt")
    fresh = ObjectNet(num_classes=5, backbone="resnet18", head_width=16)
    load_network(tmp_path / "old.ckpt", "object", fresh)
    for key, value in net.state_dict().items():
        assert torch.equal(fresh.state_dict()[key], value), key


def test_options_added_later_load_at_their_defaults_and_real_differences_are_refused(tmp_path):
    net = DetailsNet(width=8, blocks=1)
    spec = network_spec(net, "details.")
    del spec["config"]["fold"]  # written before the fold option existed
    state = {f"details.{k}": v for k, v in net.state_dict().items()}
    torch.save({CHECKPOINT_KEY: {"networks": {"details": spec}}, "state_dict": state}, tmp_path / "d.ckpt")
    load_network(tmp_path / "d.ckpt", "details", DetailsNet(width=8, blocks=1))
    with pytest.raises(ArchitectureMismatch, match="fold"):
        load_network(tmp_path / "d.ckpt", "details", DetailsNet(width=8, blocks=1, fold=2))
    with pytest.raises(ArchitectureMismatch, match="no 'edge' network"):
        load_network(tmp_path / "d.ckpt", "edge", EdgeNet(width=8, layers=2))


def test_saved_networks_round_trip_in_half_precision(tmp_path):
    torch.manual_seed(0)
    pipeline = DescreeningPipeline.build(**SMALL)
    save_networks(tmp_path / "p.ckpt", pipeline.networks, half=True, global_step=7)
    assert read_checkpoint(tmp_path / "p.ckpt")["global_step"] == 7
    loaded = load_networks(tmp_path / "p.ckpt")
    assert list(loaded) == ["coarse", "edge", "details"]
    for name, net in pipeline.networks.items():
        for key, value in net.state_dict().items():
            expected = value.half().to(value.dtype) if value.is_floating_point() else value
            assert torch.equal(loaded[name].state_dict()[key], expected), (name, key)


def test_pipeline_returns_every_intermediate_and_runs_details_on_them():
    torch.manual_seed(0)
    pipeline = DescreeningPipeline.build(**SMALL).eval()
    halftone = torch.rand(2, 3, 24, 24)
    parts = pipeline(halftone)
    assert set(parts) == {"coarse", "edges", "output"}
    assert torch.equal(parts["coarse"], pipeline.coarse(halftone))
    assert torch.equal(parts["edges"], torch.sigmoid(pipeline.edge(halftone)))
    expected = pipeline.details(halftone, parts["coarse"], None, parts["edges"])
    assert torch.equal(parts["output"], expected)
    coarse_only = DescreeningPipeline(CoarseNet(width=8, depth=3)).eval()
    assert set(coarse_only(halftone)) == {"coarse", "output"}


def test_pipeline_takes_page_level_object_maps_instead_of_computing_them():
    torch.manual_seed(0)
    pipeline = DescreeningPipeline.build(
        **SMALL, object={"num_classes": 4, "backbone": "resnet18", "head_width": 8}, use_objects=True
    ).eval()
    halftone = torch.rand(1, 3, 32, 32)
    computed = pipeline(halftone)
    assert computed["objects"].shape == (1, 4, 32, 32)
    assert torch.allclose(computed["objects"].sum(1), torch.ones(1, 32, 32), atol=1e-5)
    given = torch.zeros(1, 4, 32, 32)
    given[:, 0] = 1
    assert torch.equal(pipeline(halftone, given)["objects"], given)
    with pytest.raises(ValueError, match="ObjectNet"):
        DescreeningPipeline(CoarseNet(width=8, depth=3), EdgeNet(), None, DetailsNet(object_channels=4))


def test_a_checkpoint_written_without_crc32s_still_loads(tmp_path):
    """Only archives with CRC-32s (torch's default) are checked against them."""
    was = torch.serialization.get_crc32_options()
    torch.serialization.set_crc32_options(False)
    try:
        save_networks(tmp_path / "p.ckpt", {"coarse": CoarseNet(width=8, depth=3)})
    finally:
        torch.serialization.set_crc32_options(was)
    assert list(load_networks(tmp_path / "p.ckpt")) == ["coarse"]
