from collections import Counter

import numpy as np
import pytest
from omegaconf import OmegaConf

from deep_halftoning.config import CONF_DIR
from deep_halftoning.data.mix import HalftoneMix, sample_value
from deep_halftoning.data.pairs import make_halftone
from deep_halftoning.halftone import halftone


def test_sample_value_forms():
    rng = np.random.default_rng(0)
    assert sample_value(3.5, rng) == 3.5
    assert sample_value([7], rng) == 7
    assert sample_value([[1, 2, 3, 4]], rng) == (1, 2, 3, 4)
    ints = {sample_value({"low": 2, "high": 4}, rng) for _ in range(100)}
    assert ints == {2, 3, 4}
    floats = [sample_value({"low": 0.5, "high": 1.5}, rng) for _ in range(100)]
    assert all(0.5 <= f <= 1.5 for f in floats) and len(set(floats)) == 100
    with pytest.raises(ValueError, match="low"):
        sample_value({"low": 2, "high": 1}, rng)
    with pytest.raises(ValueError, match="range"):
        sample_value({"min": 1}, rng)


def test_weights_and_parameters():
    mix = HalftoneMix.from_config(
        {
            "floyd-steinberg": {"weight": 3, "params": {"serpentine": [False, True]}},
            "am-cmyk": {"weight": 1, "params": {"lpi": {"low": 60.0, "high": 120.0}}},
            "bayer-8": {"weight": 0},  # dropped
        },
        {"probability": 0.5, "blur_sigma": {"low": 0.2, "high": 1.0}, "jpeg_quality": [None, 80]},
    )
    rng = np.random.default_rng(0)
    recipes = [mix.sample(rng) for _ in range(2000)]
    counts = Counter(r.method for r in recipes)
    assert 0.7 < counts["floyd-steinberg"] / 2000 < 0.8
    assert {r.params["serpentine"] for r in recipes if r.method == "floyd-steinberg"} == {False, True}
    assert all(60 <= r.params["lpi"] <= 120 for r in recipes if r.method == "am-cmyk")
    scanned = [r.scan for r in recipes if r.scan is not None]
    assert 0.45 < len(scanned) / 2000 < 0.55 and {s.jpeg_quality for s in scanned} == {None, 80}
    image = np.random.default_rng(1).random((16, 16, 3), dtype=np.float32)
    for recipe in recipes[:20]:
        halftone(image, recipe.method, mode=recipe.mode, **recipe.params)


def test_omegaconf_config_draws_like_plain_containers():
    methods = {
        "am-cmyk": {"mode": ["cmyk"], "params": {"angles": [[15, 75, 0, 45]], "lpi": {"low": 60.0, "high": 90.0}}}
    }
    scan = {"probability": 0.5, "jpeg_quality": [None, 80]}
    plain = HalftoneMix.from_config(methods, scan)
    from_omegaconf = HalftoneMix.from_config(OmegaConf.create(methods), OmegaConf.create(scan))
    assert type(from_omegaconf.entries[0].params["angles"]) is list  # no OmegaConf lookups per pair
    draws = [mix.sample(np.random.default_rng(3)) for mix in (plain, from_omegaconf)]
    assert draws[0] == draws[1] and draws[0].params["angles"] == (15, 75, 0, 45)


def test_one_method_under_two_keys_and_hydra_overrides_of_one_entry():
    mix = HalftoneMix.from_config({"coarse-am": {"method": "am-cmyk", "params": {"lpi": 65.0}}, "am-cmyk": {}})
    assert mix.methods == ("am-cmyk", "am-cmyk")
    from deep_halftoning.config import compose_config

    cfg = compose_config(["data=photos", "data.halftone.methods.bayer-8.weight=0"])
    methods = HalftoneMix.from_config(cfg.data.halftone.methods).methods
    assert "bayer-8" not in methods and "floyd-steinberg" in methods
    # photos.yaml states only what differs from default.yaml: the rest is inherited
    assert cfg.data.halftone.methods["floyd-steinberg"].params.serpentine == [False, True]


def test_config_errors_name_the_entry():
    with pytest.raises(ValueError, match="unknown method"):
        HalftoneMix.from_config({"nope": {}})
    with pytest.raises(ValueError, match="'bayer-8'.*no parameter 'lpi'"):
        HalftoneMix.from_config({"bayer-8": {"params": {"lpi": 3}}})
    with pytest.raises(ValueError, match="modes must be among"):
        HalftoneMix.from_config({"bayer-8": {"mode": ["rgb", "lab"]}})
    with pytest.raises(ValueError, match="'bayer-8': unknown keys"):
        HalftoneMix.from_config({"bayer-8": {"wieght": 2}})
    with pytest.raises(ValueError, match="weights"):
        HalftoneMix.from_config({"bayer-8": {"weight": -1}})
    with pytest.raises(ValueError, match="at least one"):
        HalftoneMix.from_config({"bayer-8": {"weight": 0}})
    with pytest.raises(ValueError, match="maps method names"):
        HalftoneMix.from_config([{"method": "bayer-8"}])
    with pytest.raises(ValueError, match="bad scan settings"):
        HalftoneMix.from_config({"bayer-8": None}, {"blurr": 1})


def test_choices_may_be_ranges():
    rng = np.random.default_rng(0)
    draws = [sample_value([0.0, {"low": 0.5, "high": 1.0}], rng) for _ in range(400)]
    zeros = sum(d == 0.0 for d in draws)
    assert 150 < zeros < 250 and all(d == 0.0 or 0.5 <= d <= 1.0 for d in draws)
    assert len({d for d in draws if d}) > 150


PHOTOS = CONF_DIR / "data" / "photos.yaml"


def test_release_mix_draws_print_noise_and_scanner_parameters():
    halftone_cfg = OmegaConf.load(PHOTOS).halftone
    mix = HalftoneMix.from_config(halftone_cfg.methods, halftone_cfg.scan)
    rng = np.random.default_rng(0)
    recipes = [mix.sample(rng) for _ in range(3000)]
    am = [r.params for r in recipes if r.method == "am-cmyk"]
    assert all(0.7 <= p["dot_gain"] <= 1.3 and 0 <= p["misregistration"] <= 0.7 for p in am)
    assert all(0.85 <= p["ink_density"] <= 1.1 and 0 <= p["paper"] <= 0.12 for p in am)
    assert 0.4 < np.mean([p["ink_jitter"] == 0 for p in am]) < 0.6  # ideal inks half the time
    assert {p["dot"] for p in am} == {"round", "elliptical", "square", "line"}
    assert len({p["seed"] for p in am}) == len(am)  # every print its own draws
    fs = [r.params for r in recipes if r.method == "floyd-steinberg"]
    assert Counter(p["threshold_noise"] for p in fs).keys() == {0.0, 0.05, 0.1}
    scales = [r.scan.resample_scale for r in recipes if r.scan is not None]
    assert 0.4 < np.mean([s == 1.0 for s in scales]) < 0.6 and min(scales) >= 0.5
    image = np.random.default_rng(1).random((24, 24, 3), dtype=np.float32)
    for method in ("am-cmyk", "am-cmyk-binary", "floyd-steinberg", "ostromoukhov"):
        recipe = next(r for r in recipes if r.method == method)
        out, target = make_halftone(image, recipe)
        assert out.shape == target.shape == image.shape and out.min() >= 0 and out.max() <= 1


def test_a_print_with_real_inks_and_paper_is_paired_with_its_own_contone():
    from deep_halftoning.halftone import halftone
    from deep_halftoning.halftone.color import rgb_to_cmyk
    from deep_halftoning.halftone.print_model import PrintModel, render

    flat = np.full((96, 96, 3), (0.7, 0.5, 0.4), np.float32)
    params = {"lpi": 100.0, "dpi": 600.0, "supersample": 4, "dot_gain": 0.8, "ink_jitter": 1.0, "paper": 0.1}
    params["seed"] = 3
    printed = halftone(flat, "am-cmyk", **params)
    # the contone: the same inks through the same curve, inks and paper, with the formula written out
    model = PrintModel.draw(4, **{k: params[k] for k in ("dot_gain", "ink_jitter", "paper", "seed")})
    inks = rgb_to_cmyk(flat) ** model.gammas
    expected = model.paper * np.prod(1 - inks[..., :, None] * (1 - model.transmittance), axis=-2)
    assert np.allclose(printed.contone, expected, atol=1e-5)
    assert np.allclose(printed.contone, render(inks, model.transmittance, model.paper), atol=1e-6)
    # the print averaged over whole screen cells has the contone's colour, not the photo's
    mean = printed.image[12:84, 12:84].mean(axis=(0, 1))
    assert np.abs(mean - expected[0, 0]).max() < 0.02 < np.abs(mean - flat[0, 0]).max()
    recipe = HalftoneMix.from_config({"am-cmyk": {"params": params}}).sample(np.random.default_rng(0))
    assert np.array_equal(make_halftone(flat, recipe)[1], printed.contone)
    ideal = HalftoneMix.from_config({"am-cmyk": {}}).sample(np.random.default_rng(0))
    assert make_halftone(flat, ideal)[1] is flat  # the ideal print's target is the photo itself


def test_start_up_checks_both_ends_of_every_range():
    with pytest.raises(ValueError, match="'am-cmyk'.*'dot_gain' must be in"):
        HalftoneMix.from_config({"am-cmyk": {"params": {"dot_gain": {"low": 0.7, "high": 9.0}}}})
    with pytest.raises(ValueError, match="'floyd-steinberg'.*'threshold_noise' must be in"):
        HalftoneMix.from_config({"floyd-steinberg": {"params": {"threshold_noise": [0.0, 0.7]}}})
    with pytest.raises(ValueError, match="scan resample_scale"):
        HalftoneMix.from_config({"bayer-8": {}}, {"probability": 0.5, "resample_scale": {"low": 0.0, "high": 1.0}})
