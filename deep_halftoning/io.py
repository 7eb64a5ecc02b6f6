"""Reading and writing images safely.

:func:`read_image` turns whatever a user has (grey, RGB, RGBA, palette, 16-bit
PNG/TIFF, CMYK JPEG, rotated phone photos) into float32 in [0, 1]: ``H x W`` for
grey sources, ``H x W x 3`` RGB otherwise. Transparency is composited onto
white paper. Unreadable input raises :class:`ImageReadError` with a one-line
reason. :func:`write_image` writes atomically and refuses to replace an input.

What a derived image should keep from its source (resolution, ICC profile,
EXIF, bit depth, page count) comes from :func:`read_info` as an
:class:`ImageInfo`; :func:`read_pages` decodes a multi-page file page by page
(the pages of a TIFF, the frames of an animated GIF, PNG or WebP), and
:func:`write_pages` writes pages (and that metadata) back as one file.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import tempfile
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

#: Largest image accepted by default, in pixels (Pillow's decompression-bomb limit).
DEFAULT_MAX_PIXELS = 2 * 89_478_485
WRITE_FORMATS = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".webp", ".bmp")
TIFF_SUFFIXES = (".tif", ".tiff")
#: Formats read page by page: TIFF pages, and the frames of animated GIF, PNG (APNG) and WebP, each frame
#: as a viewer composes it. Others have one image (a camera's MPO JPEG holds previews, not pages).
PAGED_FORMATS = ("TIFF", "GIF", "PNG", "WEBP")
#: The files taken as images when a folder is read (training photos, `descreen -r`).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", *TIFF_SUFFIXES, ".bmp", ".gif")
#: EXIF tags of the first directory that describe a picture (not its layout, size or orientation),
#: carried to images derived from it: description, make, model, software, date, artist, host, copyright.
EXIF_KEPT = (0x010E, 0x010F, 0x0110, 0x0131, 0x0132, 0x013B, 0x013C, 0x8298)
EXIF_SUB_IFDS = (0x8769, 0x8825)  # the Exif and GPS directories
_INTEROP_POINTER = 0xA005


class ImageReadError(ValueError):
    """An input image that cannot be used, with the reason."""


class ImageWriteError(ValueError):
    """An output that must not or cannot be written."""


@dataclass(frozen=True)
class ImageInfo:
    """What a file says about itself beyond its pixels, to keep in images derived from it.

    ``dpi`` is the (x, y) resolution when the file states one; ``icc_profile`` the
    embedded colour profile; ``exif`` the descriptive EXIF (camera or scanner, dates,
    artist, copyright, the Exif and GPS directories) without the orientation, which
    :func:`read_image` has already applied to the pixels; ``bit_depth`` 16 when any
    sample has more than 8 bits; ``pages`` the number of pages (TIFF) or frames (animations).
    """

    format: str | None = None
    pages: int = 1
    bit_depth: int = 8
    dpi: tuple[float, float] | None = None
    icc_profile: bytes | None = None
    exif: bytes | None = None

    @property
    def page_noun(self) -> str:
        """What the file's pages are called: a TIFF's ``pages``, an animation's ``frames``."""
        return "pages" if self.format in (None, "TIFF") else "frames"

    @property
    def icc_space(self) -> str | None:
        """The colour space the ICC profile describes (``RGB``, ``GRAY``, ``CMYK``...), from its header."""
        if not self.icc_profile or len(self.icc_profile) < 20:
            return None
        return self.icc_profile[16:20].decode("ascii", "replace").strip()

    def fit(self, image: np.ndarray) -> ImageInfo:
        """This metadata as it applies to ``image``: a profile of another colour space is left out
        (a CMYK profile does not describe the RGB pixels read from CMYK, nor an RGB one grey pixels)."""
        grey = image.ndim == 2 or image.shape[2] == 1
        if self.icc_profile and self.icc_space != ("GRAY" if grey else "RGB"):
            return replace(self, icc_profile=None)
        return self

    def to_dict(self) -> dict:
        """JSON-friendly: the profile's colour space and size, whether there is EXIF."""
        profile = {"space": self.icc_space, "bytes": len(self.icc_profile)} if self.icc_profile else None
        dpi = list(self.dpi) if self.dpi else None
        return {
            "format": self.format,
            "pages": self.pages,
            "bit_depth": self.bit_depth,
            "dpi": dpi,
            "icc_profile": profile,
            "exif": self.exif is not None,
        }


def read_image(
    path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS, max_side: int | None = None
) -> np.ndarray:
    """Decode ``path`` to float32 in [0, 1] (``H x W`` grey or ``H x W x 3`` RGB); the first page or frame.

    With ``max_side``, larger images are shrunk (keeping the aspect ratio) so
    their longer side is at most ``max_side``; JPEGs are then decoded at reduced
    scale, which saves time and memory on huge photos.
    """
    path = Path(path)
    with _opened(path, max_pixels) as pil:
        return _decode(pil, path, max_side)


def read_info(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> ImageInfo:
    """The metadata of ``path`` worth keeping (resolution, ICC profile, EXIF, bit depth, pages), from its header."""
    path = Path(path)
    with _opened(path, max_pixels) as pil:
        dpi = pil.info.get("dpi")
        dpi = (round(float(dpi[0]), 2), round(float(dpi[1]), 2)) if dpi and min(map(float, dpi)) > 1 else None
        return ImageInfo(
            format=pil.format,
            pages=_page_count(pil),
            bit_depth=16 if _sample_bits(pil, path) > 8 else 8,
            dpi=dpi,
            icc_profile=pil.info.get("icc_profile") or None,
            exif=_descriptive_exif(pil),
        )


def read_pages(path: str | os.PathLike, max_pixels: int = DEFAULT_MAX_PIXELS) -> Iterator[np.ndarray]:
    """Each page of a multi-page TIFF (or frame of an animation, see :data:`PAGED_FORMATS`) in turn, decoded
    as :func:`read_image` does (other files: their one image).

    The file is not held open between pages, so a slow consumer keeps no handle or state.
    """
    path = Path(path)
    with _opened(path, max_pixels) as pil:
        count = _page_count(pil)
    for page in range(count):
        with _opened(path, max_pixels) as pil:
            if page:
                pil.seek(page)
                _check_size(pil, path, max_pixels)
            image = _decode(pil, path, None, page)
        yield image


@contextmanager
def _opened(path: Path, max_pixels: int) -> Iterator[Image.Image]:
    """``path`` opened with Pillow; whatever goes wrong while it is used becomes an :class:`ImageReadError`."""
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
                _check_size(pil, path, max_pixels)
                yield pil
    except ImageReadError:
        raise
    except UnidentifiedImageError:
        raise ImageReadError(f"{path}: not an image file (or an unsupported format)") from None
    except Image.DecompressionBombError as err:
        raise ImageReadError(f"{path}: {err}") from None
    except (OSError, SyntaxError, ValueError) as err:
        raise ImageReadError(f"{path}: cannot decode ({err}); the file is corrupt or truncated") from None


def _check_size(pil: Image.Image, path: Path, max_pixels: int) -> None:
    width, height = pil.size
    if width * height > max_pixels:
        raise ImageReadError(
            f"{path}: {width}x{height} pixels exceeds the limit of {max_pixels} "
            "(a decompression bomb, or raise max_pixels)"
        )


def _decode(pil: Image.Image, path: Path, max_side: int | None, page: int = 0) -> np.ndarray:
    if _is_deep_colour(pil, path):
        return _shrink(_read_deep_colour(path, _orientation(pil), page), max_side)
    if max_side is not None and pil.format == "JPEG":
        pil.draft(pil.mode, (max_side, max_side))
    pil.load()
    return _shrink(_to_float(ImageOps.exif_transpose(pil)), max_side)


def _page_count(pil: Image.Image) -> int:
    return int(getattr(pil, "n_frames", 1)) if pil.format in PAGED_FORMATS else 1


def _sample_bits(pil: Image.Image, path: Path) -> int:
    """The most bits per sample of the (current page of the) image."""
    if pil.mode.startswith("I") or pil.mode == "F":
        return 16
    if pil.format == "PNG":
        header = _png_header(path)
        return header[24] if len(header) == 26 else 8
    if pil.format == "TIFF":
        bits = pil.tag_v2.get(258, (8,))
        return int(max(bits if isinstance(bits, tuple) else (bits,)))
    return 8


def _png_header(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(26)


def _descriptive_exif(pil: Image.Image) -> bytes | None:
    """The EXIF tags of :data:`EXIF_KEPT` and the Exif/GPS directories, re-encoded; ``None`` when there are none.

    Layout tags (sizes, strips, resolution, orientation) stay behind: the pixels written
    later are upright and have their own layout. Unreadable EXIF counts as none.
    """
    try:
        source = pil.getexif()
        kept = Image.Exif()
        for tag in EXIF_KEPT:
            if tag in source:
                kept[tag] = source[tag]
        directories = 0
        for tag in EXIF_SUB_IFDS:
            entries = {k: v for k, v in source.get_ifd(tag).items() if k != _INTEROP_POINTER}
            if entries:
                kept.get_ifd(tag).update(entries)
                directories += 1
        return kept.tobytes() if len(kept) or directories else None
    except Exception:  # noqa: BLE001 - damaged EXIF is not worth failing a read over
        return None


def _shrink(pixels: np.ndarray, max_side: int | None) -> np.ndarray:
    if max_side is None or max(pixels.shape[:2]) <= max_side:
        return pixels
    scale = max_side / max(pixels.shape[:2])
    size = (max(1, round(pixels.shape[1] * scale)), max(1, round(pixels.shape[0] * scale)))
    import cv2  # here, not at the top: the command line reports bad input before loading OpenCV

    return cv2.resize(pixels, size, interpolation=cv2.INTER_AREA)


def _is_deep_colour(pil: Image.Image, path: Path) -> bool:
    """Colour PNG/TIFF with 16 bits per sample, which Pillow would cut to 8 bits."""
    if pil.format == "PNG":
        header = _png_header(path)
        return len(header) == 26 and header[24] == 16 and header[25] in (2, 6)
    if pil.format == "TIFF":
        bits = pil.tag_v2.get(258, (8,))
        bits = bits if isinstance(bits, tuple) else (bits,)
        return pil.mode not in ("I;16", "I;16B", "I;16L", "I", "F") and max(bits) > 8
    return False


def _orientation(pil: Image.Image) -> int:
    return int(pil.getexif().get(0x0112, 1))


def _read_deep_colour(path: Path, orientation: int, page: int = 0) -> np.ndarray:
    import cv2

    buffer = np.fromfile(path, np.uint8)
    if page:
        ok, pages = cv2.imdecodemulti(buffer, cv2.IMREAD_UNCHANGED, range=(page, page + 1))
        data = pages[0] if ok and pages else None
    else:
        data = cv2.imdecode(buffer, cv2.IMREAD_UNCHANGED)
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
    info: ImageInfo | None = None,
) -> Path:
    """Write float ``image`` in [0, 1] atomically (temporary file, then rename).

    The format follows the suffix (PNG, TIFF, JPEG, WebP, BMP); ``bit_depth=16``
    is for PNG and TIFF. ``path`` must not be any of the ``protect`` files. With
    ``info`` (from :func:`read_info` of the source), its resolution, ICC profile
    (when it fits the pixels, see :meth:`ImageInfo.fit`) and EXIF are written too.
    """
    return write_pages(path, [image], bit_depth=bit_depth, protect=protect, info=info)


def write_pages(
    path: str | os.PathLike,
    pages: Sequence[np.ndarray],
    *,
    bit_depth: int = 8,
    protect: Iterable[str | os.PathLike] = (),
    info: ImageInfo | None = None,
) -> Path:
    """:func:`write_image` for several pages: more than one makes a multi-page TIFF.

    16-bit colour TIFFs carry the resolution, the profile and the EXIF tags of the
    first directory, not the Exif/GPS directories (the writer for them has no EXIF).
    Errors name ``path``, never the temporary file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_FORMATS:
        raise ImageWriteError(f"{path}: unsupported output format {suffix or '(none)'}; use {WRITE_FORMATS}")
    if bit_depth not in (8, 16) or bit_depth == 16 and suffix not in (".png", ".tif", ".tiff"):
        raise ImageWriteError(f"{path}: bit depth {bit_depth} is not available for {suffix}")
    if not pages:
        raise ImageWriteError(f"{path}: no pages to write")
    if len(pages) > 1 and suffix not in TIFF_SUFFIXES:
        raise ImageWriteError(f"{path}: {len(pages)} pages need a TIFF output (.tif); {suffix} holds one")
    for other in protect:
        if same_file(path, Path(other)):
            raise ImageWriteError(f"{path}: refusing to overwrite an input file")
    if path.is_dir():
        raise ImageWriteError(f"{path}: is a directory")
    data = _encode(path, pages, bit_depth, info)
    try:
        with atomic_output(path) as tmp:
            tmp.write_bytes(data)
    except OSError as err:
        raise ImageWriteError(f"{path}: cannot write ({_why(err, path)})") from None
    return path


def _why(err: OSError, path: Path) -> str:
    """An operating-system error while writing ``path``, in terms of ``path`` rather than its temporary file."""
    if isinstance(err, (FileExistsError, NotADirectoryError)):
        for parent in path.parents:
            if parent.exists():
                if not parent.is_dir():
                    return f"{parent} is a file, not a folder"
                break
    if isinstance(err, PermissionError):
        return f"permission denied in {path.parent}"
    return (err.strerror or type(err).__name__).lower()


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


def same_file(a: str | os.PathLike, b: str | os.PathLike) -> bool:
    """Whether ``a`` and ``b`` name one file (the same path, a link to it, or a hard link)."""
    a, b = Path(a), Path(b)
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _encode(path: Path, pages: Sequence[np.ndarray], bit_depth: int, info: ImageInfo | None) -> bytes:
    pixels = [_quantise(path, page, bit_depth) for page in pages]
    meta = info.fit(pixels[0]) if info is not None else None
    meta = meta if meta is not None and (meta.dpi or meta.icc_profile or meta.exif) else None
    suffix = path.suffix.lower()
    if suffix in TIFF_SUFFIXES and (meta is not None or len(pixels) > 1):
        return _tiff(pixels, meta)
    if meta is not None and suffix != ".png":
        return _pillow(pixels[0], suffix, meta)
    first = pixels[0]
    if first.ndim == 3:
        first = np.ascontiguousarray(first[..., [2, 1, 0, 3][: first.shape[2]]])  # RGB(A) -> BGR(A)
    import cv2

    ok, buf = cv2.imencode(suffix, first)
    if not ok:  # pragma: no cover - OpenCV encodes every listed format
        raise ImageWriteError(f"{path}: encoding failed")
    return _png_metadata(buf.tobytes(), meta) if meta is not None else buf.tobytes()


#: Rows scaled to integer samples at a time when an image is written.
_QUANTISE_ROWS = 256


def _quantise(path: Path, image: np.ndarray, bit_depth: int) -> np.ndarray:
    """``uint8`` or ``uint16`` samples, ``H x W`` or ``H x W x 3|4`` in RGB(A) order."""
    image = np.asarray(image, np.float32)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or image.ndim == 3 and image.shape[2] not in (3, 4):
        raise ImageWriteError(f"{path}: cannot write an array of shape {image.shape} as an image")
    top = 65535 if bit_depth == 16 else 255
    samples = np.empty(image.shape, np.uint16 if bit_depth == 16 else np.uint8)
    for start in range(0, len(image), _QUANTISE_ROWS):  # a band at a time: no page-sized float temporaries
        band = image[start : start + _QUANTISE_ROWS] * np.float32(top)
        band += 0.5
        samples[start : start + _QUANTISE_ROWS] = np.clip(band, 0, top, out=band)
    return samples


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _png_metadata(data: bytes, meta: ImageInfo) -> bytes:
    """``data`` (a PNG as OpenCV writes it) with ``iCCP``, ``pHYs`` and ``eXIf`` chunks after the header."""
    chunks = b""
    if meta.icc_profile:
        chunks += _png_chunk(b"iCCP", b"ICC profile\0\0" + zlib.compress(meta.icc_profile))
    if meta.dpi:
        x, y = (max(1, round(d / 0.0254)) for d in meta.dpi)  # pixels per metre
        chunks += _png_chunk(b"pHYs", struct.pack(">IIB", x, y, 1))
    if meta.exif:
        chunks += _png_chunk(b"eXIf", meta.exif.removeprefix(b"Exif\0\0"))
    header_end = 8 + 4 + 4 + 13 + 4  # signature, then IHDR: length, type, 13 bytes, CRC
    return data[:header_end] + chunks + data[header_end:]


def _pillow_options(meta: ImageInfo | None) -> dict[str, object]:
    if meta is None:
        return {}
    options: dict[str, object] = {"dpi": meta.dpi} if meta.dpi else {}
    if meta.icc_profile:
        options["icc_profile"] = meta.icc_profile
    if meta.exif:
        options["exif"] = meta.exif
    return options


def _pillow(pixels: np.ndarray, suffix: str, meta: ImageInfo) -> bytes:
    """An 8-bit JPEG, WebP or BMP with the metadata each format holds (OpenCV's quality settings)."""
    quality = {".jpg": {"quality": 95}, ".jpeg": {"quality": 95}, ".webp": {"lossless": True}}.get(suffix, {})
    buffer = io.BytesIO()
    image = Image.fromarray(pixels)
    image.save(buffer, format=Image.registered_extensions()[suffix], **quality, **_pillow_options(meta))
    return buffer.getvalue()


def _tiff(pages: list[np.ndarray], meta: ImageInfo | None) -> bytes:
    """One (multi-page) TIFF, each page with the metadata; uncompressed (baseline TIFF, which every reader
    takes, and the one way Pillow writes the Exif directory)."""
    buffer = io.BytesIO()
    if any(page.dtype == np.uint16 and page.ndim == 3 for page in pages):  # Pillow has no 16-bit colour
        import tifffile

        exif = Image.Exif()
        if meta is not None and meta.exif:
            exif.load(meta.exif)
        tags = [(tag, "s", 0, exif[tag], True) for tag in EXIF_KEPT if isinstance(exif.get(tag), str)]
        with tifffile.TiffWriter(buffer) as tiff:
            for page in pages:
                tiff.write(
                    page,
                    photometric="rgb" if page.ndim == 3 else "minisblack",
                    resolution=meta.dpi if meta is not None and meta.dpi else None,
                    resolutionunit="INCH" if meta is not None and meta.dpi else None,
                    iccprofile=meta.icc_profile if meta is not None else None,
                    metadata=None,
                    software=False,
                    extratags=tags,
                )
        return buffer.getvalue()
    images = [Image.fromarray(page) for page in pages]
    images[0].save(
        buffer,
        format="TIFF",
        save_all=True,
        append_images=images[1:],
        **_pillow_options(meta),
    )
    return buffer.getvalue()


def file_sha256(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
