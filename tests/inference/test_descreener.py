import numpy as np
import pytest
import torch
from conftest import damage_checkpoint
from helpers import TINY_NETS, configured_stage, save_stage

from deep_halftoning.inference import Descreener, load_pipeline
from deep_halftoning.inference.tiling import blend_window, tile_starts, tiled_apply
from deep_halftoning.models import CoarseNet
from deep_halftoning.models.checkpoint import CheckpointError, read_checkpoint, save_networks


@pytest.fixture
def details_checkpoint(tmp_path):
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="random weights"):
        stage = configured_stage(
            "details",
            **TINY_NETS,
            use_objects=True,
            object={"num_classes": 5, "backbone": "resnet18", "head_width": 16},
        )
    torch.nn.init.normal_(stage.pipeline.details.body[-2].weight, std=0.1)  # a trained-like residual, not the identity
    return save_stage(stage, tmp_path / "details.ckpt")


def test_tiles_cover_and_blend():
    assert tile_starts(1000, 256, 64) == [0, 192, 384, 576, 744]
    assert blend_window(8, 3, True, True).min() == 1
    assert blend_window(8, 3, False, False)[0] < 0.2
    image = torch.rand(3, 301, 517)
    out = tiled_apply(image, lambda t, boxes: t * 0.5, tile=128, overlap=32, batch=3)
    torch.testing.assert_close(out, image * 0.5)
    assert out.permute(1, 2, 0).is_contiguous()  # H x W x C memory: NumPy's layout without a copy


def test_tiled_inference_matches_whole_image(details_checkpoint):
    rng = np.random.default_rng(0)
    image = (rng.random((200, 260, 3)) > 0.5).astype(np.float32)
    with torch.inference_mode():  # the networks themselves, called on the whole image
        direct = load_pipeline(details_checkpoint)(torch.from_numpy(image.transpose(2, 0, 1))[None])["output"]
    direct = direct[0].clamp(0, 1).numpy().transpose(1, 2, 0)
    whole = Descreener.from_checkpoint(details_checkpoint, device="cpu", tile=288, overlap=64, precision="fp32")(image)
    np.testing.assert_allclose(whole, direct, atol=1e-5)  # one tile: exactly what the pipeline computes
    tiled = Descreener.from_checkpoint(details_checkpoint, device="cpu", tile=128, overlap=64, batch=2)(image)
    assert whole.shape == image.shape and whole.dtype == np.float32 and whole.flags.c_contiguous
    before = image.copy()
    np.testing.assert_array_equal(
        whole,
        Descreener.from_checkpoint(  # any float layout, the input untouched
            details_checkpoint, device="cpu", tile=288, overlap=64, precision="fp32"
        )(image.astype(np.float64)[:, ::-1][:, ::-1]),
    )
    np.testing.assert_array_equal(image, before)
    assert np.abs(whole - tiled).mean() < 2e-3
    assert np.abs(whole - tiled).max() < 0.1  # random weights amplify border effects; trained nets agree closer
    # no seams: the tiled result is no rougher along tile boundaries than elsewhere
    column_steps = np.abs(np.diff(tiled, axis=1)).mean(axis=(0, 2))
    assert column_steps.max() < 3 * np.median(column_steps)


def test_grey_input_and_coarse_only_checkpoints(tmp_path):
    torch.manual_seed(0)
    path = save_stage(configured_stage("coarse", net=TINY_NETS["coarse"]), tmp_path / "coarse.ckpt")
    descreener = Descreener.from_checkpoint(path, device="cpu", tile=64, overlap=16)
    assert descreener.pipeline.details is None
    out = descreener(np.random.default_rng(0).random((70, 90), dtype=np.float32))
    assert out.shape == (70, 90) and out.min() >= 0 and out.max() <= 1


def test_bad_checkpoints_fail_clearly(tmp_path, details_checkpoint):
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        load_pipeline(tmp_path / "missing.ckpt")
    (tmp_path / "junk.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_pipeline(tmp_path / "junk.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "plain.ckpt")
    with pytest.raises(ValueError, match="not a Deep Halftoning checkpoint"):
        load_pipeline(tmp_path / "plain.ckpt")
    checkpoint = torch.load(details_checkpoint, weights_only=True)
    checkpoint["deep_halftoning"]["networks"]["coarse"]["config"]["width"] = 16
    torch.save(checkpoint, tmp_path / "mismatch.ckpt")
    with pytest.raises(ValueError, match="do not fit their architecture"):
        load_pipeline(tmp_path / "mismatch.ckpt")
    with pytest.raises(ValueError, match="multiple of 32"):
        Descreener.from_checkpoint(details_checkpoint, tile=100)
    with pytest.raises(ValueError, match="overlap"):
        Descreener.from_checkpoint(details_checkpoint, tile=64, overlap=64)


@pytest.mark.parametrize("damage", ["truncated", "bit-flipped"])
def test_a_truncated_or_bit_flipped_checkpoint_is_one_line_naming_it(tmp_path, damage):
    torch.manual_seed(0)
    save_networks(tmp_path / "whole.ckpt", {"coarse": CoarseNet(width=8, depth=3)})
    path = damage_checkpoint(tmp_path / "whole.ckpt", damage, tmp_path / f"{damage}.ckpt")
    for load in (read_checkpoint, load_pipeline, Descreener.from_checkpoint):
        with pytest.raises(CheckpointError) as caught:
            load(path)
        message = str(caught.value)
        assert message.startswith(f"{path}: not a readable checkpoint (truncated or corrupt: "), message
        assert "\n" not in message and len(message) < 250, message


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_bf16_matches_float32_and_bad_precision_is_refused(details_checkpoint, backend):
    image = np.random.default_rng(1).random((80, 96, 3), dtype=np.float32)
    tiling = {"device": "cpu", "tile": 64, "overlap": 16, "backend": backend}
    exact = Descreener.from_checkpoint(details_checkpoint, precision="fp32", **tiling)
    fast = Descreener.from_checkpoint(details_checkpoint, precision="bf16", **tiling)
    assert (exact.backend, exact.precision, fast.precision) == (backend, "fp32", "bf16")
    difference = np.abs(exact(image) - fast(image))
    assert 0 < difference.mean() < 2 / 255  # bf16 really ran, and keeps 8-bit accuracy on average
    with pytest.raises(ValueError, match="precision"):
        Descreener.from_checkpoint(details_checkpoint, precision="int4")
