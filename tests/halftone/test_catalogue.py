import json

import numpy as np
import pytest

from deep_halftoning.halftone import CATALOGUE, METHODS, describe_methods, get_method, halftone, halftone_batch

REQUIRED = {
    "floyd-steinberg",
    "jarvis-judice-ninke",
    "stucki",
    "burkes",
    "sierra-3",
    "sierra-2",
    "sierra-lite",
    "atkinson",
    "shiau-fan",
    "stevenson-arce",
    "ostromoukhov",
    "zhou-fang",
    "bayer-2",
    "bayer-4",
    "bayer-8",
    "bayer-16",
    "clustered-dot",
    "diagonal-dot",
    "blue-noise",
    "am-cmyk",
    "am-cmyk-binary",
}


def test_catalogue_lists_every_method():
    assert set(METHODS) >= REQUIRED
    assert all(name == name.lower() and " " not in name for name in METHODS)
    assert {m.family for m in CATALOGUE.values()} == {"error-diffusion", "ordered", "am-screen"}


def test_describe_methods_lists_each_method_with_its_defaults():
    lines = describe_methods().splitlines()
    assert [line.split()[0] for line in lines] == list(METHODS)
    am = lines[METHODS.index("am-cmyk")]
    assert am.startswith("am-cmyk                am-screen        AM colour screen") and "angles=15,75,0,45," in am
    assert "[" not in lines[METHODS.index("bayer-4")]  # no parameters, no brackets
    rows = json.loads(describe_methods(as_json=True))
    assert rows == [json.loads(json.dumps(m.to_dict())) for m in CATALOGUE.values()]
    assert rows[0]["params"]["serpentine"] == {"default": False, "help": CATALOGUE[METHODS[0]].params[0].help}


@pytest.mark.parametrize("method", METHODS)
def test_every_method_in_every_mode(method, smooth_rgb):
    gray = halftone(smooth_rgb[..., 0], method)
    assert gray.mode == "gray" and gray.image.shape == smooth_rgb.shape[:2]
    for mode in ("rgb", "cmyk"):
        result = halftone(smooth_rgb, method, mode=mode)
        assert result.mode == mode and result.image.shape == smooth_rgb.shape
        assert result.image.dtype == np.float32
        assert result.image.min() >= 0.0 and result.image.max() <= 1.0
    cmyk = halftone(smooth_rgb, method, mode="cmyk")
    assert cmyk.inks is not None and cmyk.inks.shape[2] == 4
    if cmyk.binary:
        assert set(np.unique(cmyk.inks)) <= {0.0, 1.0}
    # deterministic
    np.testing.assert_array_equal(halftone(smooth_rgb, method).image, halftone(smooth_rgb, method).image)


def test_default_modes(smooth_rgb):
    assert halftone(smooth_rgb, "floyd-steinberg").mode == "rgb"
    assert halftone(smooth_rgb, "am-cmyk").mode == "cmyk"
    assert halftone(smooth_rgb[..., 0], "am-cmyk").mode == "gray"


def test_unknown_method_and_parameter_errors(smooth_rgb):
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        halftone(smooth_rgb, "nope")
    with pytest.raises(ValueError, match="has no parameter 'lpi'"):
        halftone(smooth_rgb, "floyd-steinberg", lpi=100)
    with pytest.raises(ValueError, match="must be one of"):
        halftone(smooth_rgb, "am-cmyk", dot="star")
    with pytest.raises(ValueError, match="unknown mode"):
        halftone(smooth_rgb, "bayer-8", mode="lab")


def test_parameter_coercion():
    spec = get_method("am-cmyk")
    params = spec.resolve({"lpi": "85", "angles": "0,15,30,45", "supersample": "2"})
    assert params["lpi"] == 85.0 and params["angles"] == (0.0, 15.0, 30.0, 45.0) and params["supersample"] == 2
    assert get_method("floyd-steinberg").resolve({"serpentine": "yes"})["serpentine"] is True
    with pytest.raises(ValueError, match="4 comma-separated"):
        spec.resolve({"angles": "1,2"})
    with pytest.raises(ValueError, match="true or false"):
        get_method("floyd-steinberg").resolve({"serpentine": "maybe"})
    with pytest.raises(ValueError, match=r"in \[1"):
        spec.resolve({"supersample": 0})


def test_input_validation(smooth_rgb):
    u8 = (smooth_rgb * 255).astype(np.uint8)
    np.testing.assert_array_equal(halftone(u8, "bayer-4").image, halftone(u8.astype(np.float32) / 255, "bayer-4").image)
    assert halftone(smooth_rgb[..., :1], "bayer-4").mode == "gray"
    bad = smooth_rgb.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        halftone(bad)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        halftone(smooth_rgb * 3)
    with pytest.raises(ValueError, match="shape"):
        halftone(np.zeros((4, 4, 2), np.float32))
    with pytest.raises(ValueError, match="empty"):
        halftone(np.zeros((0, 4), np.float32))
    with pytest.raises(TypeError):
        halftone(np.zeros((4, 4), np.int32))


def test_tiny_images():
    for shape in [(1, 1), (1, 7), (7, 1), (2, 2, 3)]:
        for method in METHODS:
            assert halftone(np.full(shape, 0.5, np.float32), method).image.shape == shape


def test_batch_equals_single_calls(smooth_rgb):
    images = [smooth_rgb, smooth_rgb[::-1].copy(), smooth_rgb[..., 0]]
    for method in ("floyd-steinberg", "zhou-fang", "am-cmyk"):
        batch = halftone_batch(images, method, threads=2)
        for img, result in zip(images, batch, strict=True):
            np.testing.assert_array_equal(result.image, halftone(img, method).image)


def test_threads_do_not_change_results(smooth_rgb):
    for method in ("jarvis-judice-ninke", "bayer-8", "am-cmyk"):
        one = halftone(smooth_rgb, method, threads=1).image
        np.testing.assert_array_equal(one, halftone(smooth_rgb, method, threads=2).image)
