"""One image in, one out: halftone or rescreen every page of a file, keeping its resolution, ICC profile,
EXIF and bit depth; the output is written atomically and never replaces the input."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..halftone import get_method, halftone
from ..halftone.presets import get_preset
from ..inference.options import ModelOptions
from ..io import TIFF_SUFFIXES, ImageInfo, ImageWriteError, read_info, read_pages, same_file, write_pages

DEFAULT_METHOD = "floyd-steinberg"
#: Output formats that hold 16 bits per sample.
SIXTEEN_BIT_SUFFIXES = (".png", *TIFF_SUFFIXES)
Transform = Callable[[np.ndarray], np.ndarray]


def _silent(text: str) -> None:
    """The default ``note``: say nothing."""


@dataclass(frozen=True)
class HalftoneSettings:
    """A halftoning method with its mode, under-colour removal and parameters."""

    method: str = DEFAULT_METHOD
    mode: str | None = None
    ucr: float = 1.0
    params: dict[str, object] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        preset: str | os.PathLike | None = None,
        method: str | None = None,
        mode: str | None = None,
        ucr: float | None = None,
        params: Mapping[str, object] | None = None,
    ) -> HalftoneSettings:
        """The settings given, on top of an optional preset (a name or a YAML path); checked, so that an
        unknown method or parameter is one line before any image is read."""
        chosen = get_preset(preset) if preset else None
        method = method or (chosen.method if chosen else DEFAULT_METHOD)
        settings = cls(
            method,
            mode or (chosen.mode if chosen else None),
            ucr if ucr is not None else (chosen.ucr if chosen else 1.0),
            {**(chosen.params if chosen and method == chosen.method else {}), **(params or {})},
        )
        get_method(method).resolve(settings.params)
        return settings

    @property
    def dpi(self) -> float | None:
        """The resolution an AM screen is rendered at (its output says so, for its ruling to read right)."""
        dpi = get_method(self.method).resolve(self.params).get("dpi")
        return float(dpi) if dpi is not None else None

    def __call__(self, image: np.ndarray) -> np.ndarray:
        return halftone(image, self.method, mode=self.mode, ucr=self.ucr, **self.params).image


def output_bits(info: ImageInfo, output: Path, bit_depth: int | None, note: Callable[[str], None] = _silent) -> int:
    """``bit_depth``, or the input's own depth where the output format holds it (``note`` hears when not)."""
    if bit_depth:
        return bit_depth
    if info.bit_depth == 16 and output.suffix.lower() not in SIXTEEN_BIT_SUFFIXES:
        note(f"note: {output}: 8 bits per sample ({output.suffix} holds no more); the input has 16")
        return 8
    return info.bit_depth


def convert_file(
    source: str | os.PathLike,
    output: str | os.PathLike,
    make_transform: Callable[[], Transform],
    *,
    bit_depth: int | None = None,
    dpi: float | None = None,
    note: Callable[[str], None] = _silent,
) -> Path:
    """Transform every page of ``source`` into ``output``, keeping its metadata and depth (its resolution
    becomes ``dpi`` when given). ``make_transform()`` (which may load a model) runs once the input and
    output have been checked."""
    source, output = Path(source), Path(output)
    if same_file(output, source):
        raise ImageWriteError(f"{output}: refusing to overwrite an input file")
    info = read_info(source)
    if dpi is not None:
        info = replace(info, dpi=(dpi, dpi))
    if info.pages > 1 and output.suffix.lower() not in TIFF_SUFFIXES:
        raise ImageWriteError(
            f"{source}: {info.pages} {info.page_noun}; write a TIFF (.tif) to keep them all, not {output.suffix}"
        )
    bits = output_bits(info, output, bit_depth, note)
    transform = make_transform()
    pages = [transform(page) for page in read_pages(source)]
    return write_pages(output, pages, bit_depth=bits, protect=[source], info=info)


def halftone_file(
    source: str | os.PathLike,
    output: str | os.PathLike,
    settings: HalftoneSettings,
    *,
    bit_depth: int | None = None,
    note: Callable[[str], None] = _silent,
) -> Path:
    """Halftone every page of ``source`` into ``output`` (a multi-page TIFF for several pages)."""
    return convert_file(source, output, lambda: settings, bit_depth=bit_depth, dpi=settings.dpi, note=note)


def rescreen_file(
    source: str | os.PathLike,
    output: str | os.PathLike,
    settings: HalftoneSettings,
    *,
    method: str = "model",
    model: ModelOptions | None = None,
    bit_depth: int | None = None,
    tile_progress: bool = False,
    note: Callable[[str], None] = _silent,
) -> Path:
    """Descreen every page of ``source`` (with the model, as ``model`` says, or a classical ``method``), then
    halftone it with ``settings`` into ``output``."""
    from .engine import load_method

    model = model or ModelOptions()
    model.check(method, "--descreen")

    def rescreen() -> Transform:
        clean, _ = load_method(method, model, tile_progress, lambda text: note(f"note: {text}"))
        return lambda page: settings(clean(page, None)[0])

    return convert_file(source, output, rescreen, bit_depth=bit_depth, dpi=settings.dpi, note=note)
