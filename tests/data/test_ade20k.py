import numpy as np
import pytest
from omegaconf import OmegaConf

from deep_halftoning.config import CONF_DIR
from deep_halftoning.data.ade20k import ADE20K_CLASSES, ClassMap

CONF = CONF_DIR / "data" / "ade20k_classes.yaml"


@pytest.fixture(scope="module")
def class_map() -> ClassMap:
    return ClassMap.from_mapping(OmegaConf.to_container(OmegaConf.load(CONF)))


def test_shipped_mapping_has_the_design_classes(class_map):
    assert class_map.num_classes == 26 and class_map.names[-1] == "other"
    assert class_map.names[:3] == ("wall", "building", "sky") and "computer" in class_map.names


def test_lookup(class_map):
    def index(name: str) -> int:
        return ADE20K_CLASSES.index(name) + 1

    labels = np.array([[0, index("wall"), index("house"), index("windowpane"), index("palm")]], np.uint8)
    names = class_map.names
    expected = [255, names.index("wall"), names.index("building"), names.index("other"), names.index("tree")]
    np.testing.assert_array_equal(class_map(labels), [expected])
    assert class_map(np.array([[300]], np.uint16))[0, 0] == 255


def test_mapping_is_checked_against_the_official_list():
    with pytest.raises(ValueError, match="not one of the 150"):
        ClassMap.from_mapping({"tree": ["tree", "baobab"]})
    with pytest.raises(ValueError, match="both"):
        ClassMap.from_mapping({"tree": ["tree"], "plant": ["tree"]})
    with pytest.raises(ValueError, match="non-empty list"):
        ClassMap.from_mapping({"tree": "tree"})
    with pytest.raises(ValueError, match="ignore_index"):
        ClassMap.from_mapping({"tree": ["tree"]}, ignore_index=1)
