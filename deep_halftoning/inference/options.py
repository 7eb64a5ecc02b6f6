"""How the model runs, by name and without heavy imports (the command line's parser reads them): the serving
backends and precisions, the tiling, and :class:`ModelOptions`, the Descreener's settings in one place."""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

BACKENDS = ("auto", "torch", "openvino")
#: ``auto``: bf16 where the hardware computes it natively (GPUs; CPUs with AVX512-BF16 or AMX, where
#: it is about twice as fast), fp16 on GPUs without bf16, float32 elsewhere.
PRECISIONS = ("auto", "int8", "bf16", "fp16", "fp32")
#: The tiling when nothing else is asked for: tile side and overlap in pixels, tiles per batch.
TILE, OVERLAP, BATCH = 512, 64, 4
#: The networks' tiles are whole multiples of this side.
TILE_MULTIPLE = 32
#: The smallest screen-scale factor a page may be given (a tenth of its size on each side).
MIN_SCALE = 0.1
#: The descreeners shipped with the package, by name.
SHIPPED = ("fidelity", "perceptual")


def parse_scale(scale: str | float) -> str | float:
    """``auto``, ``off`` or a factor in [:data:`MIN_SCALE`, 1] (a number or its text); else ``ValueError``."""
    if scale in ("auto", "off"):
        return scale
    try:
        factor = float(scale)
    except (TypeError, ValueError):
        factor = float("nan")
    if not MIN_SCALE <= factor <= 1.0:
        raise ValueError(f"scale must be auto, off or a factor in [{MIN_SCALE}, 1], got {scale!r}")
    return factor


def checkpoint_source(checkpoint: str | os.PathLike) -> str | Path:
    """A checkpoint file's path, or the name of a shipped descreener (one of :data:`SHIPPED`, where no file of
    that name exists); ``FileNotFoundError`` (one line) for neither. Nothing is loaded."""
    path = Path(checkpoint)
    if str(checkpoint) in SHIPPED and not path.exists():
        return str(checkpoint)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {checkpoint} does not exist")
    return path


def check_tiling(tile: int, overlap: int, multiple: int = 1) -> None:
    """Raise ``ValueError`` (one line) unless ``0 <= overlap < tile`` and ``tile`` is a multiple of ``multiple``."""
    if tile % multiple:
        raise ValueError(f"tile must be a multiple of {multiple}, got {tile}")
    if overlap < 0:
        raise ValueError(f"overlap must be at least 0, got {overlap}")
    if overlap >= tile:
        raise ValueError(f"overlap {overlap} must be smaller than the tile ({tile} px)")


def flag(default: object, help: str, **argparse: object) -> Any:
    """A dataclass field that is also the command-line flag of its name: ``help`` and argparse's keywords;
    ``number=(int or float, bounds)`` for a checked number (see ``deep_halftoning.cli.arguments.number``)."""
    return field(default=default, metadata={"help": help, **argparse})


@dataclass(frozen=True)
class ModelOptions:
    """Which descreener to load and how it runs. Every field but ``checkpoint`` and ``perceptual`` is a
    :class:`~deep_halftoning.inference.Descreener` argument of the same name (``None``: its default), and
    each is the command-line flag of its name, so a new Descreener setting is one field here."""

    checkpoint: str | os.PathLike | None = flag(
        None, "a details/joint (or coarse) stage checkpoint (default: the shipped descreener)"
    )
    perceptual: bool = flag(
        False, "use the shipped descreener fine-tuned with the adversarial and edge terms (PSNR within 0.2 dB)"
    )
    tile: int | None = flag(
        None,
        f"model tile size in pixels, a multiple of {TILE_MULTIPLE} in [{TILE_MULTIPLE}, 8192] (default {TILE})",
        number=(int, {"low": TILE_MULTIPLE, "high": 8192, "multiple": TILE_MULTIPLE}),
    )
    overlap: int | None = flag(
        None, f"model tile overlap in pixels, below the tile size (default {OVERLAP})", number=(int, {"low": 0})
    )
    batch: int | None = flag(None, f"model tiles per batch (default {BATCH})", number=(int, {"low": 1}))
    device: str | None = flag(None, "cuda, cuda:N, mps or cpu for the model (default: the best available)")
    backend: str = flag(
        "auto",
        "where the model runs: openvino (CPU, about 3x as fast) or torch; auto (default): openvino on the "
        "CPU when installed, else torch",
        choices=BACKENDS,
    )
    precision: str = flag(
        "auto",
        "model arithmetic; auto (default): the shipped int8 graph on CPUs with int8 instructions (OpenVINO), "
        "else bf16 where the hardware computes it natively, else fp32",
        choices=PRECISIONS,
    )
    scale: str = flag(
        "auto",
        "the screen scale CoarseNet runs at; auto (default): an AM scan is brought to the screen period the "
        "model was trained at, when it was (coarse screens run faster); off: full resolution; or a factor "
        f"in [{MIN_SCALE}, 1]",
    )

    def given(self) -> list[str]:
        """The names of the fields set to something other than their default."""
        return [f.name for f in fields(self) if getattr(self, f.name) != f.default]

    def descreener_kwargs(self) -> dict[str, object]:
        """The Descreener's arguments: the fields it takes, where given."""
        return {
            name: getattr(self, name)
            for name in self.given()
            if name not in ("checkpoint", "perceptual") and getattr(self, name) is not None
        }

    def check(self, method: str = "model", method_flag: str = "--method") -> None:
        """Raise ``ValueError`` (one line, naming the option) for settings that cannot work, before any loading;
        any model setting given is refused with a classical filter as ``method`` (the option ``method_flag``)."""
        given = self.given()
        if method != "model" and given:
            raise ValueError(
                f"--{given[0]} is for the model; it cannot be combined with {method_flag} {method} (a classical filter)"
            )
        if self.checkpoint and self.perceptual:
            raise ValueError("--perceptual picks a shipped descreener; it cannot be combined with --checkpoint")
        if self.checkpoint and not Path(self.checkpoint).is_file():
            raise ValueError(f"--checkpoint {self.checkpoint}: the checkpoint does not exist")
        try:
            parse_scale(self.scale)
        except ValueError as err:
            raise ValueError(f"--{err}") from None
        try:
            check_tiling(self.tile or TILE, OVERLAP if self.overlap is None else self.overlap, TILE_MULTIPLE)
        except ValueError as err:
            raise ValueError(f"--{err}") from None
