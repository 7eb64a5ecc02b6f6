"""The catalogue of halftoning methods and the one entry point, :func:`halftone`."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from . import error_diffusion as ed
from . import ordered
from . import print_model as pm
from ._parallel import parallel_map
from .color import cmyk_planes, cmyk_planes_to_rgb, rgb_to_cmyk, to_gray
from .screen import DEFAULT_ANGLES, DOT_SHAPES, MAX_SUPERSAMPLE, am_screen

MODES = ("gray", "rgb", "cmyk")


@dataclass(frozen=True)
class Param:
    """One tunable parameter of a method; its default fixes its type.

    An ``optional`` parameter's default is neutral (it turns a feature off, e.g. threshold
    noise or the print model): :meth:`Method.resolve` leaves it out at that value, so the
    result, and any back-end that predates the parameter (the torch twin), is unchanged.
    """

    name: str
    default: object
    help: str
    choices: tuple | None = None
    low: float | None = None
    high: float | None = None
    optional: bool = False

    def coerce(self, value: object) -> object:
        """``value`` converted to this parameter's type and checked, or ``ValueError``."""
        kind = type(self.default)
        try:
            if kind is bool:
                value = _to_bool(value)
            elif kind is tuple:
                items = value.split(",") if isinstance(value, str) else list(value)
                value = tuple(float(v) for v in items)
                if len(value) != len(self.default):
                    raise ValueError(f"expected {len(self.default)} comma-separated numbers")
            else:
                value = kind(value)
                if kind is int and isinstance(value, float) and not value.is_integer():
                    raise ValueError("expected an integer")
        except (TypeError, ValueError) as err:
            raise ValueError(f"parameter {self.name!r}: cannot use {value!r} ({err})") from None
        if self.choices is not None and value not in self.choices:
            raise ValueError(f"parameter {self.name!r} must be one of {list(self.choices)}, got {value!r}")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ValueError(f"parameter {self.name!r} must be in [{self.low}, {self.high}], got {value!r}")
        return value


def _to_bool(value: object) -> bool:
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise ValueError("expected true or false")
    return bool(value)


@dataclass(frozen=True)
class Method:
    """A halftoning method: what it is, its parameters and how it runs.

    ``planar`` methods halftone each channel alone (``run(plane, **params)``);
    the others see all inks at once (``run(inks, **params) -> (image, inks)``).
    """

    name: str
    family: str
    description: str
    run: Callable = field(repr=False)
    params: tuple[Param, ...] = ()
    binary: bool = True
    planar: bool = True
    colour_mode: str = "rgb"

    def resolve(self, overrides: dict[str, object]) -> dict[str, object]:
        """Defaults updated with ``overrides``; unknown names raise ``ValueError``.

        Optional parameters (see :class:`Param`) at their neutral default are left out.
        """
        known = {p.name: p for p in self.params}
        unknown = sorted(set(overrides) - set(known))
        if unknown:
            valid = ", ".join(known) or "none"
            raise ValueError(f"method {self.name!r} has no parameter {unknown[0]!r} (valid: {valid})")
        resolved = {}
        for name, p in known.items():
            value = p.coerce(overrides[name]) if name in overrides else p.default
            if not (p.optional and value == p.default):
                resolved[name] = value
        return resolved

    def to_dict(self) -> dict:
        """Name, family, description, ``binary`` and each parameter's default and help, as plain data."""
        return {
            "name": self.name,
            "family": self.family,
            "description": self.description,
            "binary": self.binary,
            "params": {p.name: {"default": p.default, "help": p.help} for p in self.params},
        }

    def line(self) -> str:
        """One line: name, family, description and the parameters' defaults."""
        params = ", ".join(f"{p.name}={_shown(p.default)}" for p in self.params)
        return f"{self.name:22} {self.family:16} {self.description}" + (f"  [{params}]" if params else "")


def _shown(value: object) -> str:
    """A default as the listing writes it: a tuple as comma-separated numbers."""
    return ",".join(f"{v:g}" for v in value) if isinstance(value, tuple) else str(value)


@dataclass(frozen=True)
class Halftone:
    """A halftoned image and what made it.

    ``image`` is float32 in [0, 1]: ``H x W`` for grey, ``H x W x 3`` RGB otherwise
    (CMYK is rendered subtractively). ``inks`` holds the per-ink coverage in CMYK
    and AM modes (``H x W x K``), else ``None``. ``contone`` is what a print made with
    print-model parameters (dot gain, inks, paper) looks like without its screen: the
    continuous inks through the same tone curve, inks and paper, shaped like ``image``;
    ``None`` for the ideal print, whose contone is the input image itself. It is what a
    descreener should recover: the pattern gone, the print's own tone and colour kept.
    """

    image: np.ndarray
    mode: str
    method: str
    params: dict[str, object]
    binary: bool
    inks: np.ndarray | None = None
    contone: np.ndarray | None = None


_SERPENTINE = Param("serpentine", False, "alternate the scan direction on every row")
_SERPENTINE_ON = Param("serpentine", True, "alternate the scan direction on every row")
_SEED = Param("seed", 0, "random seed", low=0)
_THRESHOLD_NOISE = Param(
    "threshold_noise",
    0.0,
    f"amplitude a in [0, {ed.MAX_THRESHOLD_NOISE:g}] of uniform threshold noise: each pixel's threshold "
    "in 0.5 +- a (0: none)",
    low=0.0,
    high=ed.MAX_THRESHOLD_NOISE,
    optional=True,
)
_NOISE_SEED = Param("seed", 0, "seed of the threshold noise (each channel adds its index)", low=0, optional=True)


def _fixed_kernel(
    plane: np.ndarray, *, kernel: str, serpentine: bool, threshold_noise: float = 0.0, seed: int = 0
) -> np.ndarray:
    return ed.error_diffusion(plane, kernel, serpentine, threshold_noise, seed)


def _ordered(plane: np.ndarray, *, matrix: Callable[..., np.ndarray], **params: object) -> np.ndarray:
    return ordered.ordered_dither(plane, matrix(**params), threads=1)


#: The print-model parameters of the AM methods (see print_model.py); the torch twin makes ideal prints only.
PRINT_PARAMS = ("dot_gain", "dot_gain_jitter", "misregistration", "ink_jitter", "ink_density", "paper", "seed")


def _am(inks: np.ndarray, *, angles: Sequence[float], **params: object) -> tuple[np.ndarray, np.ndarray]:
    """Screen the inks at their angles; the print model's parameters, when given, shape the print
    around the screen (:mod:`.print_model`): tone curve before, misregistered plates, then inks and paper."""
    angles = tuple(angles)
    ink_angles = {1: angles[3:], 3: angles[:3], 4: angles}[inks.shape[2]]
    printing = {name: params.pop(name) for name in PRINT_PARAMS if name in params}
    if not printing:  # the ideal print: the screen alone
        return am_screen(inks, ink_angles, **params)
    model = pm.PrintModel.draw(inks.shape[2], **printing)
    offsets = None if model.registered else model.offsets
    gammas = None if model.linear_tone else model.gammas
    image, coverage = am_screen(inks, ink_angles, offsets=offsets, gammas=gammas, **params)
    return (image if model.ideal else model.render(coverage)), coverage


def _contone(inks: np.ndarray, params: dict) -> np.ndarray | None:
    """The print of ``inks`` without its screen, for the print-model parameters in ``params`` (or ``None``)."""
    printing = {name: params[name] for name in PRINT_PARAMS if name in params}
    if not printing:
        return None
    model = pm.PrintModel.draw(inks.shape[2], **printing)
    return model.render(np.power(inks, model.gammas.astype(np.float32)))


_KERNEL_NAMES = {
    "floyd-steinberg": "Floyd-Steinberg (1975), 4 taps /16",
    "jarvis-judice-ninke": "Jarvis, Judice & Ninke (1976), 12 taps /48",
    "stucki": "Stucki (1981), 12 taps /42",
    "burkes": "Burkes (1988), 7 taps /32",
    "sierra-3": "Sierra three-row (1989), 10 taps /32",
    "sierra-2": "Sierra two-row, 7 taps /16",
    "sierra-lite": "Sierra Lite, 3 taps /4",
    "atkinson": "Atkinson (Apple), 6 taps spreading 6/8 of the error",
    "shiau-fan": "Shiau & Fan (1996), 4 taps /8, fewer worms",
    "shiau-fan-2": "Shiau & Fan (1996), 5 taps /16",
    "stevenson-arce": "Stevenson & Arce (1985), 12 taps /200 on a hexagonal layout",
}

_AM_PARAMS = (
    Param("lpi", 150.0, "screen ruling in lines per inch", low=1e-3),
    Param("dpi", 600.0, "output resolution in dots (pixels) per inch", low=1e-3),
    Param("angles", DEFAULT_ANGLES, "screen angles in degrees for C,M,Y,K (grey uses K's)"),
    Param("dot", "round", "dot shape", choices=DOT_SHAPES),
)
# The print model (see print_model.py); every default is the ideal print.
_PLATE_PARAMS = (
    Param(
        "dot_gain",
        1.0,
        f"tone-curve exponent in [{pm.DOT_GAIN_RANGE[0]:g}, {pm.DOT_GAIN_RANGE[1]:g}]: each ink's coverage "
        "** dot_gain before screening (< 1 darker: dot gain; > 1 lighter)",
        low=pm.DOT_GAIN_RANGE[0],
        high=pm.DOT_GAIN_RANGE[1],
        optional=True,
    ),
    Param(
        "dot_gain_jitter",
        0.0,
        f"relative spread in [0, {pm.MAX_DOT_GAIN_JITTER:g}] of each ink's exponent: dot_gain * (1 +- jitter), uniform",
        low=0.0,
        high=pm.MAX_DOT_GAIN_JITTER,
        optional=True,
    ),
    Param(
        "misregistration",
        0.0,
        f"largest plate offset in pixels per axis, in [0, {pm.MAX_MISREGISTRATION:g}], uniform "
        "(K stays put; C, M, Y alone keep a zero mean)",
        low=0.0,
        high=pm.MAX_MISREGISTRATION,
        optional=True,
    ),
    Param("seed", 0, "seed of the print's draws (ink exponents, plate offsets, inks, paper)", low=0, optional=True),
)
_INK_PARAMS = (
    Param(
        "ink_jitter",
        0.0,
        "ink colours in [0, 1]: from ideal filters (0) to a draw of real process-ink transmittances (1); "
        "a non-ideal print is rendered as the Demichel product over the area-averaged coverage",
        low=0.0,
        high=1.0,
        optional=True,
    ),
    Param(
        "ink_density",
        1.0,
        f"scale in [{pm.DENSITY_RANGE[0]:g}, {pm.DENSITY_RANGE[1]:g}] of every ink's absorption "
        "1 - transmittance (clipped)",
        low=pm.DENSITY_RANGE[0],
        high=pm.DENSITY_RANGE[1],
        optional=True,
    ),
    Param(
        "paper",
        0.0,
        f"paper tint in [0, {pm.MAX_PAPER:g}]: each channel of the paper white darkened by up to this, warm or cool",
        low=0.0,
        high=pm.MAX_PAPER,
        optional=True,
    ),
)


def _diffusion_entries() -> list[Method]:
    """The error-diffusion methods: fixed kernels, then the variable-coefficient ones."""
    methods = [
        Method(
            name,
            "error-diffusion",
            text,
            partial(_fixed_kernel, kernel=name),
            (_SERPENTINE, _THRESHOLD_NOISE, _NOISE_SEED),
        )
        for name, text in _KERNEL_NAMES.items()
    ]
    methods += [
        Method(
            "ostromoukhov",
            "error-diffusion",
            "Ostromoukhov (2001), three taps whose weights vary with the grey level",
            ed.ostromoukhov,
            (_SERPENTINE_ON, _THRESHOLD_NOISE, _NOISE_SEED),
        ),
        Method(
            "zhou-fang",
            "error-diffusion",
            "Zhou & Fang (2003), variable weights plus threshold modulation for clean mid-tones",
            ed.zhou_fang,
            (_SERPENTINE_ON, _SEED, _THRESHOLD_NOISE),
        ),
    ]
    return methods


def _ordered_entries() -> list[Method]:
    """The ordered dithers: dispersed Bayer matrices, clustered dots and blue noise."""
    methods = [
        Method(
            f"bayer-{n}",
            "ordered",
            f"Bayer {n}x{n} dispersed-dot ordered dither",
            partial(_ordered, matrix=partial(ordered.bayer_matrix, n)),
        )
        for n in (2, 4, 8, 16)
    ]
    methods += [
        Method(
            "clustered-dot",
            "ordered",
            "clustered round dot at 0 degrees (one dot per cell)",
            partial(_ordered, matrix=ordered.clustered_dot_matrix),
            (Param("size", 8, "cell size in pixels", low=2, high=64),),
        ),
        Method(
            "diagonal-dot",
            "ordered",
            "clustered dots on a 45-degree lattice (two per cell)",
            partial(_ordered, matrix=ordered.diagonal_dot_matrix),
            (Param("size", 8, "cell size in pixels (even)", low=2, high=64),),
        ),
        Method(
            "blue-noise",
            "ordered",
            "blue-noise threshold matrix by void-and-cluster (Ulichney 1993)",
            partial(_ordered, matrix=ordered.blue_noise_matrix),
            (Param("size", 64, "matrix size in pixels", low=4, high=256), _SEED),
        ),
    ]
    return methods


def _am_entries() -> list[Method]:
    """The AM colour screens: a scanned print and its binary plates."""
    return [
        Method(
            "am-cmyk",
            "am-screen",
            "AM colour screen per ink (angles, ruling, dot shape), supersampled and "
            "area-averaged like a scan of the print; optionally a non-ideal print "
            "(dot gain, misregistered plates, real inks, tinted paper)",
            _am,
            _AM_PARAMS
            + (Param("supersample", 4, "sub-samples per pixel side", low=1, high=MAX_SUPERSAMPLE),)
            + _PLATE_PARAMS
            + _INK_PARAMS,
            binary=False,
            planar=False,
            colour_mode="cmyk",
        ),
        Method(
            "am-cmyk-binary",
            "am-screen",
            "AM colour screen per ink, one sample per pixel: the binary plate itself "
            "(optionally with dot gain and misregistered plates)",
            partial(_am, supersample=1),
            _AM_PARAMS + _PLATE_PARAMS,
            planar=False,
            colour_mode="cmyk",
        ),
    ]


CATALOGUE: dict[str, Method] = {m.name: m for m in (*_diffusion_entries(), *_ordered_entries(), *_am_entries())}
#: Every method name, in catalogue order.
METHODS: tuple[str, ...] = tuple(CATALOGUE)


def describe_methods(as_json: bool = False) -> str:
    """The catalogue in words, one :meth:`Method.line` per method, or as JSON (a list of :meth:`Method.to_dict`)."""
    if as_json:
        return json.dumps([m.to_dict() for m in CATALOGUE.values()], indent=2)
    return "\n".join(m.line() for m in CATALOGUE.values())


def get_method(name: str) -> Method:
    """The catalogue entry for ``name``, or ``ValueError`` listing the valid names."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise ValueError(f"unknown method {name!r}; choose from: {', '.join(METHODS)}") from None


def as_float_image(image: np.ndarray) -> np.ndarray:
    """Validate an image and return it as float32 ``H x W`` or ``H x W x 3`` in [0, 1].

    Unsigned integer images are scaled by their type's maximum; ``H x W x 1`` is
    squeezed to grey.
    """
    image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3) or image.ndim == 3 and image.shape[2] != 3:
        raise ValueError(f"expected an H x W grey or H x W x 3 RGB image, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"image is empty (shape {image.shape})")
    if np.issubdtype(image.dtype, np.unsignedinteger):
        return (image / np.float32(np.iinfo(image.dtype).max)).astype(np.float32)
    if not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"expected a float image in [0, 1] (or unsigned integers), got {image.dtype}")
    image = image.astype(np.float32, copy=False)
    low, high = float(image.min()), float(image.max())
    if not (np.isfinite(low) and np.isfinite(high)):
        raise ValueError("image contains NaN or infinite values")
    if low < -1e-4 or high > 1 + 1e-4:
        raise ValueError(f"image values must lie in [0, 1], found [{low:.4g}, {high:.4g}]")
    return np.clip(image, 0.0, 1.0) if low < 0 or high > 1 else image


def _resolve_mode(image: np.ndarray, method: Method, mode: str | None) -> str:
    if mode is None:
        return "gray" if image.ndim == 2 else method.colour_mode
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {MODES}")
    return mode


def _planes(image: np.ndarray, mode: str, ucr: float, method: Method) -> list[np.ndarray]:
    """Contiguous ``H x W`` planes to halftone: values for planar grey/RGB, ink coverage otherwise."""
    if mode == "cmyk":
        rgb = image if image.ndim == 3 else np.repeat(image[..., None], 3, axis=2)
        return cmyk_planes(rgb, ucr)
    if mode == "gray":
        values = [image if image.ndim == 2 else to_gray(image)]
    else:
        values = [image] * 3 if image.ndim == 2 else [np.ascontiguousarray(image[..., i]) for i in range(3)]
    return values if method.planar else [np.float32(1.0) - v for v in values]


def _inks(image: np.ndarray, mode: str, ucr: float, method: Method) -> np.ndarray:
    """The ``H x W x K`` array a non-planar method screens (CMYK separated straight into that layout)."""
    if mode == "cmyk" and image.ndim == 3:
        return rgb_to_cmyk(image, ucr)
    return np.stack(_planes(image, mode, ucr, method), axis=-1)


def halftone(
    image: np.ndarray,
    method: str = "floyd-steinberg",
    *,
    mode: str | None = None,
    ucr: float = 1.0,
    threads: int | None = None,
    **params: object,
) -> Halftone:
    """Halftone ``image`` (float32 ``H x W`` grey or ``H x W x 3`` RGB in [0, 1]) with ``method``.

    ``mode`` is ``"gray"``, ``"rgb"`` (each channel on its own) or ``"cmyk"``
    (separated into inks, with under-colour removal ``ucr``); by default grey
    images stay grey and colour images use the method's colour mode (RGB, or
    CMYK for AM screens). ``params`` are the method's own, see :data:`CATALOGUE`.
    Channels are processed in parallel over ``threads`` (default: all cores).
    """
    spec = get_method(method)
    resolved = spec.resolve(params)
    image = as_float_image(image)
    mode = _resolve_mode(image, spec, mode)
    if not spec.planar:
        inks = _inks(image, mode, ucr, spec)
        out, coverage = spec.run(inks, threads=threads, **resolved)
        contone = _contone(inks, resolved)
        if mode == "gray":
            out, contone = out[..., 0], None if contone is None else contone[..., 0]
        return Halftone(out, mode, method, resolved, spec.binary, coverage, contone)
    channels = _planar_channels(spec, resolved, _planes(image, mode, ucr, spec), threads)
    if mode == "cmyk":
        inks = np.stack(channels, axis=-1)
        return Halftone(cmyk_planes_to_rgb(channels), mode, method, resolved, spec.binary, inks)
    out = channels[0] if mode == "gray" else np.stack(channels, axis=-1)
    return Halftone(out, mode, method, resolved, spec.binary)


def _planar_channels(spec: Method, params: dict, planes: list[np.ndarray], threads: int | None) -> list:
    seeded = spec.family == "error-diffusion" and any(p.name == "seed" for p in spec.params)

    def one(channel: int) -> np.ndarray:
        own = dict(params)
        if seeded and channel:  # decorrelate the channels' noise (an optional seed may be left out)
            own["seed"] = int(own.get("seed", 0)) + channel
        return spec.run(planes[channel], **own)

    return parallel_map(one, range(len(planes)), threads)


def halftone_batch(
    images: Sequence[np.ndarray],
    method: str = "floyd-steinberg",
    *,
    threads: int | None = None,
    **kwargs: object,
) -> list[Halftone]:
    """:func:`halftone` on many images at once, one image per thread."""
    return parallel_map(lambda img: halftone(img, method, threads=1, **kwargs), list(images), threads)
