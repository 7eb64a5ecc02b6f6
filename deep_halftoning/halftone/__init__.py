"""The halftoning engine: classic algorithms as fast, pure functions.

>>> from deep_halftoning.halftone import halftone, METHODS
>>> result = halftone(image, "floyd-steinberg", serpentine=True)
>>> result.image, result.mode
"""

from __future__ import annotations

from ..lazy import lazy_names

#: Each public name and the module that defines it (loaded on first use: the engine's numba kernels
#: are not imported by code that only resamples, e.g. the descreening networks).
_HOMES = {
    name: "catalogue"
    for name in (
        "CATALOGUE",
        "METHODS",
        "MODES",
        "Halftone",
        "Method",
        "Param",
        "describe_methods",
        "get_method",
        "halftone",
        "halftone_batch",
    )
}

__all__ = sorted(_HOMES)

__getattr__ = lazy_names(__name__, _HOMES, globals())
