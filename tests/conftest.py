"""Shared fixtures: small deterministic images; one export cache for the session."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


@pytest.fixture(scope="session", autouse=True)
def export_cache(tmp_path_factory: pytest.TempPathFactory):
    """Exports of descreening pipelines go to a folder of this session, never the user's cache."""
    folder = tmp_path_factory.mktemp("export-cache")
    previous = os.environ.get("DEEP_HALFTONING_CACHE")
    os.environ["DEEP_HALFTONING_CACHE"] = str(folder)
    yield folder
    if previous is None:
        del os.environ["DEEP_HALFTONING_CACHE"]
    else:
        os.environ["DEEP_HALFTONING_CACHE"] = previous


@pytest.fixture(autouse=True)
def default_sigchld_handler():
    """Each test leaves SIGCHLD as it found it. A DataLoader with workers installs a Python SIGCHLD handler
    for good; once OpenVINO's CPU plugin has run in the same process, a child's exit delivered to that
    handler kills the test session with SIGSEGV (kernel-sent, in the parent's read of the child's pipe)."""
    before = signal.getsignal(signal.SIGCHLD)
    yield
    if signal.getsignal(signal.SIGCHLD) is not before:
        signal.signal(signal.SIGCHLD, before)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def smooth_rgb(rng: np.random.Generator) -> np.ndarray:
    """A 96 x 128 smooth colour image in [0, 1], like a photo's low frequencies."""
    import cv2

    small = rng.random((6, 8, 3), dtype=np.float32)
    return np.clip(cv2.resize(small, (128, 96), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)


@pytest.fixture
def ramp() -> np.ndarray:
    """A horizontal grey ramp 0 -> 1, 64 x 256."""
    return np.tile(np.linspace(0.0, 1.0, 256, dtype=np.float32), (64, 1))


def save_photo(path: Path, rng: np.random.Generator, size: tuple[int, int] = (48, 64)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    import cv2

    small = rng.random((4, 5, 3), dtype=np.float32)
    photo = cv2.resize(small, (size[1], size[0]), interpolation=cv2.INTER_CUBIC).clip(0, 1)
    Image.fromarray((photo * 255).astype(np.uint8)).save(path)
    return path


def damage_checkpoint(source: Path, how: str, destination: Path) -> Path:
    """A copy of a checkpoint ``truncated`` to two thirds, or ``bit-flipped`` in the middle of its largest
    tensor (the corruption ``torch.load`` reads past without a word)."""
    import zipfile

    data = bytearray(source.read_bytes())
    if how == "truncated":
        del data[len(data) * 2 // 3 :]
    else:
        with zipfile.ZipFile(source) as archive:
            member = max(archive.infolist(), key=lambda m: m.file_size)
        local = member.header_offset  # local header: 30 bytes, then the name and extra field, then the data
        start = local + 30 + int.from_bytes(data[local + 26 : local + 28], "little")
        start += int.from_bytes(data[local + 28 : local + 30], "little")
        data[start + member.file_size // 2] ^= 0x10
    destination.write_bytes(bytes(data))
    return destination


@pytest.fixture
def photo_folder(tmp_path: Path, rng: np.random.Generator) -> Path:
    root = tmp_path / "photos"
    save_photo(root / "a.png", rng)
    save_photo(root / "nested" / "b.jpg", rng, (70, 90))
    save_photo(root / "nested" / "deeper" / "c.webp", rng, (40, 40))
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture
def ade_tree(tmp_path: Path, rng: np.random.Generator) -> Path:
    """A tiny ADEChallengeData2016 tree: 3 training and 2 validation images with annotations."""
    root = tmp_path / "ADEChallengeData2016"
    for split, count in (("training", 3), ("validation", 2)):
        for i in range(count):
            name = f"ADE_{split[:5]}_{i:08d}"
            save_photo(root / "images" / split / f"{name}.jpg", rng, (60, 80))
            labels = np.zeros((60, 80), np.uint8)  # 0 = unlabelled
            labels[:20] = 1  # wall
            labels[20:40, :40] = 26  # house -> building
            labels[20:40, 40:] = 9  # windowpane -> other
            labels[40:, :] = 3  # sky
            (root / "annotations" / split).mkdir(parents=True, exist_ok=True)
            Image.fromarray(labels).save(root / "annotations" / split / f"{name}.png")
    return root


@pytest.fixture
def interrupt_second_file(monkeypatch):
    """``descreen`` stops with Ctrl-C on its second file (the Gaussian filter for the others)."""
    from deep_halftoning.batch import engine
    from deep_halftoning.inference import descreen_baseline

    calls = []

    def interrupted_on_the_second(*args, **kwargs):
        def descreen(image, analysis=None):
            calls.append(1)
            if len(calls) == 2:
                raise KeyboardInterrupt
            return descreen_baseline(image, "gaussian", analysis), None

        return descreen, {"method": "gaussian"}

    monkeypatch.setattr(engine, "load_method", interrupted_on_the_second)
    return calls


def save_animation(path: Path, frames: list[np.ndarray]) -> Path:
    """An animated GIF, PNG (APNG) or WebP (by suffix) of float RGB or grey ``frames`` in [0, 1]."""
    images = [Image.fromarray(np.clip(np.asarray(f) * 255 + 0.5, 0, 255).astype(np.uint8)) for f in frames]
    fmt = {".gif": "GIF", ".png": "PNG", ".apng": "PNG", ".webp": "WEBP"}[path.suffix.lower()]
    extra = {"lossless": True} if fmt == "WEBP" else {}
    images[0].save(path, format=fmt, save_all=True, append_images=images[1:], duration=80, loop=0, **extra)
    return path
