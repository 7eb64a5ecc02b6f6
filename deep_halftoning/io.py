"""Reading and writing images safely.

:func:`read_image` turns whatever a user has (grey, RGB, RGBA, palette, 16-bit
PNG/TIFF, CMYK JPEG, rotated phone photos) into float32 in [0, 1]: ``H x W`` for
grey sources, ``H x W x 3`` RGB otherwise. Transparency is composited onto
white paper. Unreadable input raises :class:`ImageReadError` with a one-line
reason. :func:`write_image` writes atomically and refuses to replace an input.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: Largest image accepted by default, in pixels (Pillow's decompression-bomb limit).
DEFAULT_MAX_PIXELS = 2 * 89_478_485
WRITE_FORMATS = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp", ".bmp")


class ImageReadError(ValueError):
    """An input image that cannot be used, with the reason."""


class ImageWriteError(ValueError):
    """An output that must not or cannot be written."""


def read_image(
    path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int | None = None
) -> np.ndarray:
    """Decode ``path`` to float32 in [0, 1] (``H x W`` grey or ``H x W x 3`` RGB).

    With ``max_side``, larger images are shrunk (keeping the aspect ratio) so
    their longer side is at most ``max_side``; JPEGs are then decoded at reduced
    scale, which saves time and memory on huge photos.
    """
    path = Path(path)
    if not path.exists():
        raise ImageReadError(f"{path}: no such file")
    if path.is_dir():
        raise ImageReadError(f"{path}: is a directory, not an image")
    if path.stat().st_size == 0:
        raise ImageReadError(f"{path}: file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as pil:
                width, height = pil.size
                if width * height > max_pixels:
                    raise ImageReadError(
                        f"{path}: {width}x{height} pixels exceeds the limit of {max_pixels} "
                        "(a decompression bomb, or raise max_pixels)"
                    )
                if _is_deep_colour(pil, path):
                    return _shrink(_read_deep_colour(path, _orientation(pil)), max_side)
                if max_side is not None and pil.format == "JPEG":
                    pil.draft(pil.mode, (max_side, max_side))
                pil.load()
                return _shrink(_to_float(ImageOps.exif_transpose(pil)), max_side)
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image file (or an unsupported format)") from None
    except Image.DecompressionBombError as err:
        raise ImageReadError(f"{path}: {err}") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"{path}: cannot decode ({err}); the file is corrupt or truncated") from None


def _shrink(pixels: np.ndarray, max_side: int | None) -> np.ndarray:
    if max_side is None or max(pixels.shape[:2]) <= max_side:
        return pixels
    scale = max_side / max(pixels.shape[:2])
    size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def _is_deep_colour(pil: Image.Image, path: Path) -> bool:
    """Colour PNG/TIFF with 16 bits per sample, which Pillow would cut to 8 bits."""
    if pil.format == "PNG":
        with open(path, "rb") as f:
            header = f.read(26)
        return len(header) == 26 and header[24] == 16 and header[25] in (2, 6)
    if pil.format == "TIFF":
        bits = pil.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return pil.mode not in ("I;16", "I;16B", "I;16L", "I", "F") and max(bits) > 8
    return False


def _orientation(pil: Image.Image) -> int:
    return int(pil.getexif().get(0x0112, 1))


def _read_deep_colour(path: Path, orientation: int) -> np.ndarray:
    data = cv2.imdecode(np.fromfile(path, np.uint8), cv2.IMREAD_UNCHANGED)
    if data is None:
        raise ImageReadError(f"{path}: cannot decode; the file is corrupt or truncated")
    scale = np.float32(np.iinfo(data.dtype).max) if data.dtype.kind == "u" else np.float32(1.0)
    pixels = data.astype(np.float32) / scale
    if pixels.ndim == 3:
        pixels = pixels[..., [2, 1, 0, 3][: pixels.shape[2]]]  # BGR(A) -> RGB(A)
        pixels = _over_white(pixels[..., :3], pixels[..., 3]) if pixels.shape[2] == 4 else pixels
    return np.ascontiguousarray(_orient(pixels, orientation), dtype=np.float32)


def _orient(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation tag (1-8) to an array, as a viewer would."""
    if orientation in (5, 6, 7, 8):
        pixels = np.rot90(pixels, k={5: 1, 6: 3, 7: 3, 8: 1}[orientation])
        return pixels[::-1] if orientation in (5, 7) else pixels
    return {2: pixels[:, ::-1], 3: pixels[::-1, ::-1], 4: pixels[::-1]}.get(orientation, pixels)


def _over_white(colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    a = alpha[..., None] if colour.ndim == 3 else alpha
    return colour * a + (1.0 - a)


def _to_float(pil: Image.Image) -> np.ndarray:
    mode = pil.mode
    if mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(pil, np.float32) / np.float32(65535)
    if mode == "I":
        data = np.asarray(pil, np.float64)
        top = 65535.0 if data.max() <= 65535 else float(2**32 - 1)
        return (np.clip(data, 0, None) / top).astype(np.float32)
    if mode == "F":
        return np.clip(np.asarray(pil, np.float32), 0.0, 1.0)
    if mode in ("1", "L"):
        return np.asarray(pil.convert("L"), np.float32) / np.float32(255)
    if mode in ("LA", "La"):
        data = np.asarray(pil.convert("LA"), np.float32) / np.float32(255)
        return _over_white(data[..., 0], data[..., 1]).astype(np.float32)
    has_alpha = "A" in mode or "a" in mode or "transparency" in pil.info
    data = np.asarray(pil.convert("RGBA" if has_alpha else "RGB"), np.float32) / np.float32(255)
    if has_alpha:
        data = _over_white(data[..., :3], data[..., 3])
    return np.ascontiguousarray(data, dtype=np.float32)


def write_image(
    path: str | os.PathLike,
    image: np.ndarray,
    *,
    bit_depth: int = 8,
    protect: Iterable[str | os.PathLike] = (),
) -> Path:
    """Write float ``image`` in [0, 1] atomically (temporary file, then rename).

    The format follows the suffix (PNG, TIFF, JPEG, WebP, BMP); ``bit_depth=16``
    is for PNG and TIFF. ``path`` must not be any of the ``protect`` files.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_FORMATS:
        raise ImageWriteError(f"{path}: unsupported output format {suffix or '(none)'}; use {WRITE_FORMATS}")
    if bit_depth not in (8, 16) or bit_depth == 16 and suffix not in (".png", ".tif", ".tiff"):
        raise ImageWriteError(f"{path}: bit depth {bit_depth} is not available for {suffix}")
    for other in protect:
        if _same_file(path, Path(other)):
            raise ImageWriteError(f"{path}: refusing to overwrite an input file")
    if path.is_dir():
        raise ImageWriteError(f"{path}: is a directory")
    data = _encode(path, image, bit_depth)
    with atomic_output(path) as tmp:
        tmp.write_bytes(data)
    return path


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


@contextmanager
def atomic_output(path: Path) -> Iterator[Path]:
    """A temporary file beside ``path`` to write; synced and renamed over ``path`` only if the block succeeds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it private; a finished output gets the usual mode
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write a text file (a report, a manifest) atomically, creating its folder."""
    path = Path(path)
    with atomic_output(path) as tmp:
        tmp.write_text(text)
    return path


def _same_file(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _encode(path: Path, image: np.ndarray, bit_depth: int) -> bytes:
    image = np.asarray(image, np.float32)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or image.ndim == 3 and image.shape[2] not in (3, 4):
        raise ImageWriteError(f"{path}: cannot write an array of shape {image.shape} as an image")
    top = 65535 if bit_depth == 16 else 255
    pixels = np.clip(image * top + 0.5, 0, top).astype(np.uint16 if bit_depth == 16 else np.uint8)
    if pixels.ndim == 3:
        pixels = np.ascontiguousarray(pixels[..., [2, 1, 0, 3][: pixels.shape[2]]])  # RGB(A) -> BGR(A)
    ok, buf = cv2.imencode(path.suffix.lower(), pixels)
    if not ok:  # pragma: no cover - OpenCV encodes every listed format
        raise ImageWriteError(f"{path}: encoding failed")
    return buf.tobytes()
