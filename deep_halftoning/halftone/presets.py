"""Named halftoning settings stored as YAML (see ``conf/halftone/``)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from .catalogue import MODES, Halftone, get_method, halftone

_KEYS = {"method", "mode", "ucr", "params"}


@dataclass(frozen=True)
class Preset:
    """A method with its mode and parameters, checked against the catalogue."""

    name: str
    method: str
    mode: str | None = None
    ucr: float = 1.0
    params: dict[str, object] = field(default_factory=dict)

    def apply(self, image, **overrides: object) -> Halftone:
        """Halftone ``image`` with this preset; ``overrides`` replace its parameters."""
        return halftone(image, self.method, mode=self.mode, ucr=self.ucr, **{**self.params, **overrides})


def load_preset(path: str | os.PathLike) -> Preset:
    """Read a preset YAML file: ``method`` plus optional ``mode``, ``ucr`` and ``params``."""
    path = Path(path)
    try:
        raw = OmegaConf.to_container(OmegaConf.load(path), resolve=True)
    except (OSError, OmegaConfBaseException) as err:
        raise ValueError(f"{path}: cannot read preset ({err})") from None
    if not isinstance(raw, dict) or "method" not in raw:
        raise ValueError(f"{path}: a preset is a mapping with at least a 'method' key")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise ValueError(f"{path}: unknown preset key {unknown[0]!r} (valid: {', '.join(sorted(_KEYS))})")
    if raw.get("mode") is not None and raw["mode"] not in MODES:
        raise ValueError(f"{path}: mode must be one of {MODES}, got {raw['mode']!r}")
    params = dict(raw.get("params") or {})
    get_method(raw["method"]).resolve(params)  # fail now, naming the file, not at first use
    return Preset(path.stem, raw["method"], raw.get("mode"), float(raw.get("ucr", 1.0)), params)
