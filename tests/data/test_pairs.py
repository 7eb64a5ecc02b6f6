import warnings

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from deep_halftoning.config import CONF_DIR
from deep_halftoning.data.ade20k import ClassMap
from deep_halftoning.data.mix import HalftoneMix
from deep_halftoning.data.pairs import PairDataset, PairSettings, ScreenNormalisation
from deep_halftoning.data.sources import ade20k_records, folder_records
from deep_halftoning.data.targets import canny_edges
from deep_halftoning.halftone.scan import rotate
from deep_halftoning.inference.detect import analyse

MIX = HalftoneMix.from_config(
    {
        "floyd-steinberg": {"mode": ["rgb", "cmyk"]},
        "bayer-8": {},
        "am-cmyk": {"params": {"lpi": {"low": 60.0, "high": 150.0}, "supersample": [2, 4]}},
    },
    {
        "probability": 0.5,
        "blur_sigma": {"low": 0.3, "high": 1.0},
        "rotation": {"low": -2.0, "high": 2.0},
        "jpeg_quality": [None, 85],
    },
)
CLASSES = CONF_DIR / "data" / "ade20k_classes.yaml"
SETTINGS = PairSettings(crop_size=32, scale_range=(0.7, 1.0))


def _dataset(records, **kwargs) -> PairDataset:
    return PairDataset(records, MIX, SETTINGS, kwargs.pop("length", 12), **kwargs)


def test_sample_keys_shapes_and_ranges(photo_folder):
    ds = _dataset(folder_records(photo_folder), deterministic=True)
    for i in range(len(ds)):
        sample = ds[i]
        assert set(sample) == {"halftone", "clean", "edges", "method"}
        for key, channels in (("halftone", 3), ("clean", 3), ("edges", 1)):
            t = sample[key]
            assert t.shape == (channels, 32, 32) and t.dtype == torch.float32
            assert t.min() >= 0.0 and t.max() <= 1.0
        assert set(torch.unique(sample["edges"]).tolist()) <= {0.0, 1.0}
        assert sample["method"] in MIX.methods


@pytest.mark.parametrize("compact", [False, True])
def test_samples_are_contiguous_planes(photo_folder, compact):
    """Collation copies contiguous samples as they are; permuted views would cost it a strided copy."""
    sample = _dataset(folder_records(photo_folder), deterministic=True, compact=compact)[0]
    plain = _dataset(folder_records(photo_folder), deterministic=True)[0]
    for key in ("halftone", "clean", "edges"):
        assert sample[key].is_contiguous()
        expected = plain[key] * 255 if compact and key != "edges" else plain[key]
        assert torch.equal(sample[key].float(), expected.round() if compact else expected)


def test_edges_are_those_of_the_clean_crop(photo_folder):
    ds = _dataset(folder_records(photo_folder), deterministic=True)
    for i in range(6):
        sample = ds[i]
        clean = sample["clean"].permute(1, 2, 0).numpy()
        np.testing.assert_array_equal(sample["edges"][0].numpy(), canny_edges(clean))


def test_binary_methods_without_scan_stay_binary(photo_folder):
    mix = HalftoneMix.from_config({"floyd-steinberg": {}})
    ds = PairDataset(folder_records(photo_folder), mix, SETTINGS, 4, deterministic=True)
    assert set(torch.unique(ds[0]["halftone"]).tolist()) <= {0.0, 1.0}


def test_validation_is_deterministic(photo_folder):
    records = folder_records(photo_folder)
    a, b = _dataset(records, deterministic=True, seed=5), _dataset(records, deterministic=True, seed=5)
    for i in (0, 3, 7):
        for key in ("halftone", "clean", "edges"):
            torch.testing.assert_close(a[i][key], b[i][key], rtol=0, atol=0)
    assert not torch.equal(a[0]["halftone"], _dataset(records, deterministic=True, seed=6)[0]["halftone"])


def test_training_draws_are_fresh(photo_folder):
    ds = _dataset(folder_records(photo_folder))
    torch.manual_seed(0)
    first = [ds[i]["clean"] for i in range(6)]
    second = [ds[i]["clean"] for i in range(6)]
    assert not any(torch.equal(x, y) for x, y in zip(first, second, strict=True))
    ds.rank = 1
    torch.manual_seed(0)
    other_rank = [ds[i]["clean"] for i in range(6)]
    assert not any(torch.equal(x, y) for x, y in zip(first, other_rank, strict=True))


def test_tiny_and_grey_images(tmp_path):
    from PIL import Image

    Image.fromarray(np.full((3, 2), 128, np.uint8)).save(tmp_path / "tiny.png")
    Image.fromarray(np.full((1, 1, 3), 200, np.uint8)).save(tmp_path / "dot.png")
    ds = _dataset(folder_records(tmp_path), deterministic=True, length=4)
    for i in range(4):
        assert ds[i]["clean"].shape == (3, 32, 32)


def test_segmentation_from_ade20k(ade_tree):
    class_map = ClassMap.from_mapping(OmegaConf.to_container(OmegaConf.load(CLASSES)))
    ds = _dataset(ade20k_records(ade_tree, "training"), deterministic=True, class_map=class_map)
    for i in range(len(ds)):
        seg = ds[i]["segmentation"]
        assert seg.shape == (32, 32) and seg.dtype == torch.int64
        assert set(torch.unique(seg).tolist()) <= {0, 1, 2, 25, 255}  # wall, building, sky, other, ignore


def test_files_that_break_later_are_skipped(photo_folder):
    records = folder_records(photo_folder)
    ds = _dataset(records, deterministic=True)
    records[0].image.write_bytes(b"")  # breaks after set-up
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sample = ds[0]
    assert sample["clean"].shape == (3, 32, 32)
    assert any("skipping unreadable image" in str(w.message) for w in caught)


def test_dataset_argument_checks(photo_folder):
    with pytest.raises(ValueError, match="at least one"):
        PairDataset([], MIX, SETTINGS, 4)
    with pytest.raises(ValueError, match="length"):
        PairDataset(folder_records(photo_folder), MIX, SETTINGS, 0)


def test_a_skewed_scan_turns_the_printed_halftone_and_the_target_together(photo_folder):
    records = folder_records(photo_folder)

    def pair(rotation: float) -> dict:
        scan = {"probability": 1.0, "blur_sigma": 0.0, "paper_strength": 0.0, "noise_sigma": 0.0, "rotation": rotation}
        mix = HalftoneMix.from_config({"floyd-steinberg": {"mode": "rgb"}}, scan)
        return PairDataset(records, mix, SETTINGS, 4, deterministic=True)[1]

    def turn(image: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(rotate(image.permute(1, 2, 0).numpy(), 3.0)).permute(2, 0, 1)

    straight, skewed = pair(0.0), pair(3.0)
    assert set(torch.unique(straight["halftone"]).tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(skewed["halftone"], turn(straight["halftone"]), rtol=0, atol=0)  # dots turned
    torch.testing.assert_close(skewed["clean"], turn(straight["clean"]), rtol=0, atol=0)
    np.testing.assert_array_equal(skewed["edges"][0].numpy(), canny_edges(skewed["clean"].permute(1, 2, 0).numpy()))


SCREEN_MIX = HalftoneMix.from_config(
    {"am-cmyk": {"weight": 3, "params": {"lpi": 75.0, "dpi": 600.0}}, "floyd-steinberg": {}}, None
)


def _screen_settings(mode: str) -> PairSettings:
    screen = ScreenNormalisation.from_config(
        {"mode": mode, "canonical_period": 4.0, "min_factor": 0.25, "max_factor": 1.0, "detection_error": 0.02}
    )
    return PairSettings(crop_size=96, small_images="upscale", screen_scale=screen)


def test_canonical_pairs_are_am_prints_brought_to_the_canonical_period(photo_folder):
    dataset = PairDataset(
        folder_records(photo_folder), SCREEN_MIX, _screen_settings("canonical"), 12, deterministic=True
    )
    samples = [dataset[i] for i in range(12)]
    am = [s for s in samples if s["method"] == "am-cmyk"]
    assert am and len(am) < len(samples)
    for sample in samples:
        assert sample["halftone"].shape == sample["clean"].shape == (3, 96, 96)
        factor = float(sample["scale"])
        if sample["method"] == "am-cmyk":  # 8 px measured within +-2 %: about half the size
            assert 0.5 / 1.021 < factor < 0.5 / 0.979
            period = analyse(sample["halftone"].numpy().transpose(1, 2, 0)).screens[0].period
            assert period == pytest.approx(4.0 * factor / 0.5, rel=0.02)
        else:
            assert factor == 1.0


def test_full_resolution_pairs_carry_the_factor_serving_would_use(photo_folder):
    dataset = PairDataset(folder_records(photo_folder), SCREEN_MIX, _screen_settings("full"), 12, deterministic=True)
    for sample in (dataset[i] for i in range(12)):
        assert sample["halftone"].shape == (3, 96, 96)
        expected = 0.5 if sample["method"] == "am-cmyk" else 1.0
        assert float(sample["scale"]) == pytest.approx(expected, rel=0.021)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"mode": "half"}, "mode must be one of"),
        ({"mode": "full", "detection_error": 0.7}, "detection_error"),
        ({"mode": "full", "canonical": 4}, "unknown data.screen_scale settings"),
    ],
)
def test_screen_scale_settings_are_checked(config, message):
    with pytest.raises(ValueError, match=message):
        ScreenNormalisation.from_config(config)
