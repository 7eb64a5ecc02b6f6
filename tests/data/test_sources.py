import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deep_halftoning.data import sources


def test_embedded_photos_are_installed_and_split():
    train, val = sources.embedded_records("train"), sources.embedded_records("val")
    assert len(train) >= 10 and len(val) >= 3
    assert not {r.image for r in train} & {r.image for r in val}
    assert all(r.image.is_file() for r in train + val)
    assert all(p.licence for photos in sources.EMBEDDED_PHOTOS.values() for p in photos)
    with pytest.raises(ValueError, match="split"):
        sources.embedded_records("test")


def test_folder_is_recursive_and_filters_suffixes(photo_folder):
    names = [r.image.name for r in sources.folder_records(photo_folder)]
    assert names == ["a.png", "b.jpg", "c.webp"]


def test_missing_or_empty_folder_fails_naming_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere"):
        sources.folder_records(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="empty"):
        sources.folder_records(tmp_path / "empty")


def test_list_file(tmp_path, photo_folder):
    listing = tmp_path / "list.txt"
    listing.write_text(f"photos/a.png\n\n{photo_folder / 'nested' / 'b.jpg'}\n")
    assert [r.image.name for r in sources.list_records(listing)] == ["a.png", "b.jpg"]
    with pytest.raises(FileNotFoundError):
        sources.list_records(tmp_path / "missing.txt")


def test_ade20k_layout(ade_tree, tmp_path):
    train = sources.ade20k_records(ade_tree, "training")
    assert len(train) == 3 and all(r.label is not None and r.label.suffix == ".png" for r in train)
    assert len(sources.ade20k_records(ade_tree, "validation")) == 2
    with pytest.raises(FileNotFoundError, match="ADEChallengeData2016"):
        sources.ade20k_records(tmp_path, "training")
    next((ade_tree / "annotations" / "validation").glob("*.png")).unlink()
    with pytest.raises(FileNotFoundError, match="no annotation"):
        sources.ade20k_records(ade_tree, "validation")


def test_build_records_dispatch(photo_folder):
    assert len(sources.build_records({"kind": "folder", "path": str(photo_folder)})) == 3
    with pytest.raises(ValueError, match="source kind"):
        sources.build_records({"kind": "ftp"})
    with pytest.raises(ValueError, match="bad folder source"):
        sources.build_records({"kind": "folder", "root": "x"})


def test_unreadable_files_are_skipped_with_one_warning(photo_folder, rng):
    (photo_folder / "zero.png").write_bytes(b"")
    (photo_folder / "fake.jpg").write_text("hello")
    Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(photo_folder / "cut.jpg")
    data = (photo_folder / "cut.jpg").read_bytes()
    (photo_folder / "cut.jpg").write_bytes(data[: len(data) // 2])
    records = sources.folder_records(photo_folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        good = sources.drop_unreadable(records)
    assert [r.image.name for r in good] == ["a.png", "b.jpg", "c.webp"]
    messages = [str(w.message) for w in caught]
    assert len(messages) == 1 and "skipping 3 unreadable" in messages[0]
    assert all(name in messages[0] for name in ("zero.png", "fake.jpg", "cut.jpg"))


def test_all_unreadable_fails(tmp_path):
    (tmp_path / "x.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="none of the 1"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sources.drop_unreadable([sources.Record(Path(tmp_path / "x.png"))])


def test_decompression_bombs_are_refused(photo_folder):
    assert "exceeds" in sources.probe_image(photo_folder / "a.png", max_pixels=100)


def test_a_list_of_sources_concatenates_them(photo_folder):
    one = {"kind": "folder", "path": str(photo_folder)}
    union = {"kind": "union", "sources": [one, {"kind": "list", "path": str(_listing(photo_folder))}]}
    assert len(sources.build_records(union)) == 4
    with pytest.raises(ValueError, match="at least one"):
        sources.build_records({"kind": "union", "sources": []})
    with pytest.raises(FileNotFoundError, match="missing"):
        missing = {"kind": "folder", "path": str(photo_folder / "missing")}
        sources.build_records({"kind": "union", "sources": [one, missing]})


def _listing(folder):
    listing = folder.parent / "one.txt"
    listing.write_text(str(next(folder.glob("*.png"))) + "\n")
    return listing


def test_holdout_photos_are_colour_photographs_never_in_a_training_source():
    if not sources.HOLDOUT_FOLDER.is_dir():
        pytest.skip("Debian's mate-backgrounds is not installed")
    holdout = sources.holdout_records()
    assert len(holdout) >= 16
    # the training photos of conf/data/photos.yaml: the embedded ones and ukui-wallpapers (not mate/), which
    # lie at the top of the backgrounds folder when installed (mate-backgrounds may be there alone)
    wallpapers = sources.HOLDOUT_FOLDER.parents[1]
    installed = any(p.suffix.lower() in sources.IMAGE_SUFFIXES for p in wallpapers.iterdir())
    training = sources.embedded_records("train") + (sources.folder_records(wallpapers, False) if installed else [])
    assert not {r.image.resolve() for r in holdout} & {r.image.resolve() for r in training}
    for record in holdout:
        with Image.open(record.image) as image:
            assert image.mode == "RGB", record.image


def test_colour_only_drops_the_grey_photos():
    colour = sources.embedded_records("train", colour_only=True)
    every = sources.embedded_records("train")
    assert 0 < len(colour) < len(every)
    for record in colour:
        with Image.open(record.image) as image:
            assert image.mode in ("RGB", "RGBA"), record.image


def test_folder_can_skip_sub_folders(photo_folder):
    assert [r.image.name for r in sources.folder_records(photo_folder, recursive=False)] == ["a.png"]
    spec = {"kind": "folder", "path": str(photo_folder), "recursive": False}
    assert len(sources.build_records(spec)) == 1
