"""The halftoning engine: classic algorithms as fast, pure functions.

>>> from deep_halftoning.halftone import halftone, METHODS
>>> result = halftone(image, "floyd-steinberg", serpentine=True)
>>> result.image, result.mode
"""

from .catalogue import (
    CATALOGUE,
    METHODS,
    MODES,
    Halftone,
    Method,
    Param,
    get_method,
    halftone,
    halftone_batch,
)

__all__ = [
    "CATALOGUE",
    "METHODS",
    "MODES",
    "Halftone",
    "Method",
    "Param",
    "get_method",
    "halftone",
    "halftone_batch",
]
