"""Geometric sampling of training crops: pure functions of an image, its label and an RNG."""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

SMALL_IMAGE_POLICIES = ("reflect", "upscale")


def ensure_min_size(
    image: np.ndarray, label: np.ndarray | None, size: int, policy: str = "reflect"
) -> tuple[np.ndarray, np.ndarray | None]:
    """Make both sides at least ``size``: reflect-pad, or upscale keeping the aspect ratio."""
    h, w = image.shape[:2]
    if h >= size and w >= size:
        return image, label
    if policy == "reflect":  # mirror as often as needed, even for 1-pixel images
        pad_h, pad_w = max(0, size - h), max(0, size - w)
        pads = ((pad_h // 2, pad_h - pad_h // 2), (pad_w // 2, pad_w - pad_w // 2))

        def pad(a: np.ndarray) -> np.ndarray:
            return np.pad(a, pads + ((0, 0),) * (a.ndim - 2), mode="symmetric")

        return pad(image), None if label is None else pad(label)
    if policy == "upscale":
        scale = size / min(h, w)
        new = (max(size, round(w * scale)), max(size, round(h * scale)))
        image = cv2.resize(image, new, interpolation=cv2.INTER_CUBIC).clip(0.0, 1.0)
        label = None if label is None else cv2.resize(label, new, interpolation=cv2.INTER_NEAREST)
        return image, label
    raise ValueError(f"small-image policy must be one of {SMALL_IMAGE_POLICIES}, got {policy!r}")


def random_crop(
    image: np.ndarray,
    label: np.ndarray | None,
    size: int,
    rng: np.random.Generator,
    scale_range: Sequence[float] = (1.0, 1.0),
    small: str = "reflect",
) -> tuple[np.ndarray, np.ndarray | None]:
    """A ``size x size`` crop at a random position and scale (``scale < 1`` zooms out).

    Only the region that becomes the crop is resized, so cost does not grow
    with the size of the photo.
    """
    low, high = scale_range
    scale = float(rng.uniform(low, high)) if high > low else float(low)
    if scale <= 0:
        raise ValueError(f"scales must be positive, got {scale_range}")
    window = max(1, round(size / scale))
    image, label = ensure_min_size(image, label, window, small)
    h, w = image.shape[:2]
    y = int(rng.integers(0, h - window + 1))
    x = int(rng.integers(0, w - window + 1))
    image = image[y : y + window, x : x + window]
    label = None if label is None else label[y : y + window, x : x + window]
    if window == size:
        return np.ascontiguousarray(image), None if label is None else np.ascontiguousarray(label)
    if window > 2 * size:  # area averaging only where bilinear would alias; it is 8x slower
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    elif window > size:
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_LINEAR)
    else:  # cubic overshoots a little
        image = np.clip(cv2.resize(image, (size, size), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
    label = None if label is None else cv2.resize(label, (size, size), interpolation=cv2.INTER_NEAREST)
    return image, label


_ROTATIONS = (None, cv2.ROTATE_90_COUNTERCLOCKWISE, cv2.ROTATE_180, cv2.ROTATE_90_CLOCKWISE)


def random_flip_rotate(
    image: np.ndarray, label: np.ndarray | None, rng: np.random.Generator, flips: bool = True, rot90: bool = True
) -> tuple[np.ndarray, np.ndarray | None]:
    """Random horizontal flip and rotation by a multiple of 90 degrees, applied to both."""
    turns = int(rng.integers(0, 4)) if rot90 else 0
    flip = bool(rng.integers(0, 2)) if flips else False

    def apply(a: np.ndarray) -> np.ndarray:
        if turns:
            a = cv2.rotate(a, _ROTATIONS[turns])
        return cv2.flip(a, 1) if flip else a

    return apply(image), None if label is None else apply(label)
