"""Where training and validation images come from.

A source yields :class:`Record` s (an image path and, for labelled data, its
annotation path). Sources: the photographs embedded in well-known Python
packages (works offline with no set-up), any folder of images, a text file
listing paths, and ADE20K in its ``ADEChallengeData2016`` layout.
"""

from __future__ import annotations

import importlib.util
import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from ..halftone._parallel import parallel_map
from ..io import DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES


@dataclass(frozen=True)
class Record:
    """One training image, with its annotation when the source is labelled."""

    image: Path
    label: Path | None = None


@dataclass(frozen=True)
class EmbeddedPhoto:
    """A photograph shipped inside an installed package, with its licence."""

    name: str
    package: str
    path: str
    licence: str
    colour: bool = True


#: The embedded default photographs (pip packages only: a fresh machine has them). Validation photos
#: are kept apart from training ones; with :data:`HOLDOUT_FOLDER` they form the held-out evaluation set.
EMBEDDED_PHOTOS: dict[str, tuple[EmbeddedPhoto, ...]] = {
    "train": (
        EmbeddedPhoto("astronaut", "skimage", "data/astronaut.png", "public domain (NASA)"),
        EmbeddedPhoto(
            "motorcycle_left", "skimage", "data/motorcycle_left.png", "Middlebury 2014 stereo (Scharstein et al.)"
        ),
        EmbeddedPhoto(
            "motorcycle_right", "skimage", "data/motorcycle_right.png", "Middlebury 2014 stereo (Scharstein et al.)"
        ),
        EmbeddedPhoto("hubble_deep_field", "skimage", "data/hubble_deep_field.jpg", "public domain (NASA)"),
        EmbeddedPhoto("retina", "skimage", "data/retina.jpg", "CC0 (Mikael Häggström)"),
        EmbeddedPhoto("ihc", "skimage", "data/ihc.png", "no known copyright (CMMI)"),
        EmbeddedPhoto("china", "sklearn", "datasets/images/china.jpg", "CC-BY 2.0 (danielbuechele)"),
        EmbeddedPhoto("grace_hopper", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg", "public domain (US Navy)"),
        EmbeddedPhoto("camera", "skimage", "data/camera.png", "CC0 (Lav Varshney)", colour=False),
        EmbeddedPhoto("coins", "skimage", "data/coins.png", "no known copyright (Brooklyn Museum)", colour=False),
        EmbeddedPhoto("brick", "skimage", "data/brick.png", "CC0 (CC0Textures)", colour=False),
        EmbeddedPhoto("grass", "skimage", "data/grass.png", "CC0 (linolafett)", colour=False),
        EmbeddedPhoto("gravel", "skimage", "data/gravel.png", "CC0 (CC0Textures)", colour=False),
    ),
    "val": (
        EmbeddedPhoto("chelsea", "skimage", "data/chelsea.png", "CC0 (Stefan van der Walt)"),
        EmbeddedPhoto("coffee", "skimage", "data/coffee.png", "CC0 (Rachel Michetti)"),
        EmbeddedPhoto("flower", "sklearn", "datasets/images/flower.jpg", "CC-BY 2.0 (vultilion)"),
        EmbeddedPhoto("rocket", "skimage", "data/rocket.jpg", "public domain (SpaceX)"),
    ),
}

#: Debian's mate-backgrounds nature photographs (GPL-2+): never trained on, held out for evaluation.
HOLDOUT_FOLDER = Path("/usr/share/backgrounds/mate/nature")


def embedded_records(split: str = "train", colour_only: bool = False) -> list[Record]:
    """The embedded photographs of ``split`` (``train`` or ``val``) found in installed packages."""
    if split not in EMBEDDED_PHOTOS:
        raise ValueError(f"embedded split must be one of {sorted(EMBEDDED_PHOTOS)}, got {split!r}")
    records, missing = [], []
    for photo in EMBEDDED_PHOTOS[split]:
        if colour_only and not photo.colour:
            continue
        spec = importlib.util.find_spec(photo.package)
        path = Path(spec.origin).parent / photo.path if spec and spec.origin else None
        if path is not None and path.is_file():
            records.append(Record(path))
        else:
            missing.append(f"{photo.name} ({photo.package})")
    if missing:
        warnings.warn(f"embedded photos not found, install their packages: {', '.join(missing)}", stacklevel=2)
    if not records:
        raise FileNotFoundError(f"no embedded {split} photos found; install scikit-image")
    return records


def holdout_records() -> list[Record]:
    """The held-out evaluation photographs: the embedded validation photos and Debian's mate-backgrounds
    nature photographs (16 colour photos, none trained on by any shipped recipe)."""
    if not HOLDOUT_FOLDER.is_dir():
        raise FileNotFoundError(f"{HOLDOUT_FOLDER} is missing: apt-get install mate-backgrounds")
    return embedded_records("val") + folder_records(HOLDOUT_FOLDER)


def folder_records(root: str | os.PathLike, recursive: bool = True) -> list[Record]:
    """Every image under ``root`` (sorted, by suffix; in sub-folders too when ``recursive``)."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist or is not a folder")
    candidates = root.rglob("*") if recursive else root.glob("*")
    found = sorted(p for p in candidates if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not found:
        raise FileNotFoundError(f"image folder {root} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return [Record(p) for p in found]


def list_records(listing: str | os.PathLike) -> list[Record]:
    """Images named one per line in a text file (relative paths are relative to the file)."""
    listing = Path(listing)
    if not listing.is_file():
        raise FileNotFoundError(f"image list {listing} does not exist")
    lines = [line.strip() for line in listing.read_text().splitlines()]
    paths = [Path(line) if Path(line).is_absolute() else listing.parent / line for line in lines if line]
    paths = [p for p in paths if not p.name.startswith("#")]
    if not paths:
        raise FileNotFoundError(f"image list {listing} names no images")
    return [Record(p) for p in paths]


def ade20k_records(root: str | os.PathLike, split: str = "training") -> list[Record]:
    """Image/annotation pairs of ADE20K (``ADEChallengeData2016``) ``training`` or ``validation``."""
    root = Path(root)
    images, annotations = root / "images" / split, root / "annotations" / split
    if not images.is_dir() or not annotations.is_dir():
        raise FileNotFoundError(
            f"{root} is not an ADEChallengeData2016 folder: expected images/{split} and annotations/{split}"
        )
    records = []
    for image in sorted(images.glob("*.jpg")):
        label = annotations / f"{image.stem}.png"
        records.append(Record(image, label if label.is_file() else None))
    unlabelled = sum(r.label is None for r in records)
    if not records:
        raise FileNotFoundError(f"{images} holds no .jpg images")
    if unlabelled:
        raise FileNotFoundError(f"{unlabelled} ADE20K images in {images} have no annotation in {annotations}")
    return records


def build_records(spec: Mapping) -> list[Record]:
    """Records from a source spec: ``{kind: embedded|folder|list|ade20k|holdout, ...}``; ``null`` values are unset.

    ``{kind: union, sources: [spec, ...]}`` concatenates the records of several sources
    (e.g. the embedded photos plus a folder).
    """
    spec = {key: value for key, value in spec.items() if value is not None}
    kind = spec.pop("kind", None)
    builders = {
        "embedded": lambda split="train", colour_only=False: embedded_records(split, colour_only),
        "folder": lambda path, recursive=True: folder_records(path, recursive),
        "holdout": holdout_records,
        "list": lambda path: list_records(path),
        "ade20k": lambda root, split="training": ade20k_records(root, split),
        "union": _union_records,
    }
    if kind not in builders:
        raise ValueError(f"source kind must be one of {sorted(builders)}, got {kind!r}")
    try:
        return builders[kind](**spec)
    except TypeError as err:
        raise ValueError(f"bad {kind} source settings {spec}: {err}") from None


def _union_records(sources: Sequence[Mapping]) -> list[Record]:
    if not sources:
        raise ValueError("a union source must name at least one source")
    return [record for part in sources for record in build_records(part)]


def probe_image(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> str | None:
    """Why ``path`` cannot be used as an image, or ``None`` when it can (cheap: no full decode)."""
    try:
        if path.stat().st_size == 0:
            return "empty file"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as pil:
                if pil.size[0] * pil.size[1] > max_pixels:
                    return f"{pil.size[0]}x{pil.size[1]} exceeds {max_pixels} pixels"
                if pil.format == "JPEG":  # decoding at 1/8 scale still reads every byte
                    pil.draft(pil.mode, (max(1, pil.size[0] // 8), max(1, pil.size[1] // 8)))
                    pil.load()
                else:
                    pil.verify()
    except Exception as err:  # noqa: BLE001 - any failure means the file is unusable
        return f"{type(err).__name__}: {err}"
    return None


def drop_unreadable(records: Iterable[Record], max_pixels: int = DEFAULT_MAX_PIXELS) -> list[Record]:
    """``records`` without the unreadable ones; one warning counts and lists what was skipped."""
    records = list(records)

    def problem(record: Record) -> str | None:
        for path in (record.image, record.label):
            if path is not None and (reason := probe_image(path, max_pixels)):
                return f"{path} ({reason})"
        return None

    problems = parallel_map(problem, records)
    bad = [p for p in problems if p]
    if bad:
        shown = "; ".join(bad[:20]) + (f"; ... and {len(bad) - 20} more" if len(bad) > 20 else "")
        warnings.warn(f"skipping {len(bad)} unreadable image(s) of {len(records)}: {shown}", stacklevel=2)
    good = [r for r, p in zip(records, problems, strict=True) if not p]
    if not good:
        raise FileNotFoundError(f"none of the {len(records)} images can be read")
    return good
