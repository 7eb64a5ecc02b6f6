"""The parser's pieces: one-line usage errors, checked number types, the options commands share and their
values read back (:func:`model_options`, :func:`halftone_settings`)."""

from __future__ import annotations

import argparse
import math
from dataclasses import fields
from typing import NoReturn

from ..batch.convert import DEFAULT_METHOD, HalftoneSettings
from ..halftone import MODES
from ..halftone.presets import preset_names
from ..inference.options import ModelOptions

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
HALFTONE_FLAGS = ("serpentine", "lpi", "dpi", "angles", "dot", "supersample", "seed", "size")


class UsageError(Exception):
    """Bad or contradictory options: one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (no usage block), raised for :func:`main` to report."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: error: {message} (see {self.prog} --help)")


def number(kind: type, low: float | None = None, high: float | None = None, multiple: int | None = None):
    """An argparse type: ``kind`` (int or float), finite, ``low < value`` (``low <= value`` for ints),
    ``value <= high``, a multiple of ``multiple``."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'a whole number' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
        if low is not None and (value < low if kind is int else value <= low):
            wanted = f"at least {low}" if kind is int else ("positive" if low == 0 else f"above {low:g}")
            raise argparse.ArgumentTypeError(f"must be {wanted}, got {text}")
        if high is not None and value > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:g}, got {text}")
        if multiple and value % multiple:
            raise argparse.ArgumentTypeError(f"must be a multiple of {multiple}, got {text}")
        return value

    parse.__name__ = kind.__name__  # argparse names the type in its messages
    return parse


def _unit_interval(text: str) -> float:
    value = number(float)(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {text}")
    return value


def _key_value(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key.strip(), value.strip()


def model_options(args: argparse.Namespace, flag: str) -> ModelOptions:
    """The model's settings from the flags of the same names, checked (none with a classical filter)."""
    options = ModelOptions(**{f.name: getattr(args, f.name) for f in fields(ModelOptions)})
    options.check(args.descreen, flag)
    return options


def add_halftone_options(parser: argparse.ArgumentParser) -> None:
    """The halftoning method, its settings and parameters (read back by :func:`halftone_settings`)."""
    add = parser.add_argument
    add("--method", metavar="NAME", help=f"halftoning method (default {DEFAULT_METHOD}; see `deep-halftoning methods`)")
    add("--preset", metavar="NAME", help=f"named settings ({', '.join(preset_names())}) or the path of a preset YAML")
    add("--mode", choices=MODES, help="grey, per-channel RGB, or CMYK inks (default: by input)")
    add("--ucr", type=_unit_interval, help="under-colour removal for CMYK, 0..1 (default 1)")
    add("--serpentine", action=argparse.BooleanOptionalAction, default=None, help="serpentine scan for error diffusion")
    add("--lpi", type=number(float, low=0), help="AM screen ruling, lines per inch")
    add("--dpi", type=number(float, low=0), help="AM output resolution, pixels per inch")
    add("--angles", help="AM screen angles in degrees, C,M,Y,K")
    add("--dot", help="AM dot shape: round, elliptical, square, line")
    add("--supersample", type=number(int, low=1), help="AM sub-samples per pixel side")
    add("--size", type=number(int, low=1), help="matrix size for clustered/diagonal/blue-noise")
    add("--seed", type=number(int, low=0), help="random seed (zhou-fang, blue-noise)")
    add(
        "--param", type=_key_value, action="append", metavar="KEY=VALUE", help="any other method parameter (repeatable)"
    )
    add_bit_depth(parser)


def halftone_settings(args: argparse.Namespace) -> HalftoneSettings:
    """The halftoning settings of the flags, on top of an optional preset; checked before any image is read."""
    params = dict(args.param or [])
    params.update({name: getattr(args, name) for name in HALFTONE_FLAGS if getattr(args, name) is not None})
    return HalftoneSettings.of(args.preset, args.method, args.mode, args.ucr, params)


def add_bit_depth(parser: argparse.ArgumentParser) -> None:
    """The output bit depth (halftone, descreen, rescreen)."""
    parser.add_argument(
        "--bit-depth",
        type=int,
        choices=(8, 16),
        help="output bits per sample (default: the input's, 8 or 16; 8 for JPEG, WebP and BMP outputs)",
    )


def add_flags(parser: argparse.ArgumentParser, options: type) -> None:
    """A flag for each field of dataclass ``options`` that has a help text (see :func:`.options.flag`)."""
    for f in fields(options):
        if "help" not in f.metadata:
            continue
        spec = dict(f.metadata)
        names = spec.pop("flags", (f"--{f.name.replace('_', '-')}",))
        if "number" in spec:
            kind, bounds = spec.pop("number")
            spec["type"] = number(kind, **bounds)
        if isinstance(f.default, bool):
            spec["action"] = "store_true" if not f.default else argparse.BooleanOptionalAction
        parser.add_argument(*names, default=f.default, **spec)


def add_descreen_options(parser: argparse.ArgumentParser, flag: str) -> None:
    """The method flag (``--method`` or ``--descreen``) and the model's."""
    parser.add_argument(
        flag,
        dest="descreen",
        choices=("model", "gaussian", "median", "fft"),
        default="model",
        help="the trained model (default) or a classical filter",
    )
    add_flags(parser, ModelOptions)
