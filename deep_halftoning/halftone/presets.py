"""Named halftoning settings stored as YAML.

The shipped presets live in ``conf/halftone/`` (package data: an installed tool has them too);
:func:`get_preset` takes one of their names or the path of any preset file.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from ..config import CONF_DIR
from .catalogue import MODES, Halftone, get_method, halftone

_KEYS = {"method", "mode", "ucr", "params"}
#: The one home of the shipped presets, ``<name>.yaml`` each.
PRESETS_DIR = CONF_DIR / "halftone"
#: The inks an AM method screens in each mode, as indices into its C, M, Y, K angles.
_MODE_INKS = {"gray": (3,), "rgb": (0, 1, 2), "cmyk": (0, 1, 2, 3), None: (0, 1, 2, 3)}


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

    @property
    def screen(self) -> tuple[float, float, tuple[float, ...]] | None:
        """``(lpi, dpi, angles)`` of an AM preset's screen (the method's defaults where the preset is
        silent; the angles of the inks its mode prints), ``None`` for methods without a ruling."""
        params = get_method(self.method).resolve(self.params)
        if not {"lpi", "dpi", "angles"} <= params.keys():
            return None
        angles = tuple(float(params["angles"][i]) for i in _MODE_INKS[self.mode])
        return float(params["lpi"]), float(params["dpi"]), angles


def preset_names() -> list[str]:
    """The names of the shipped presets, sorted."""
    return sorted(p.stem for p in PRESETS_DIR.glob("*.yaml"))


def get_preset(spec: str | os.PathLike) -> Preset:
    """A shipped preset by name (``newspaper``), or a preset file by path (anything with a folder or a
    ``.yaml``/``.yml`` suffix, or an existing file); an unknown name raises ``ValueError`` listing the names."""
    text = str(spec)
    path = Path(text)
    if path.suffix.lower() in (".yaml", ".yml") or len(path.parts) > 1 or path.is_file():
        return load_preset(path)
    names = preset_names()
    if text not in names:
        close = difflib.get_close_matches(text, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(f"unknown preset {text!r}{hint}; choose from: {', '.join(names)} or the path of a YAML file")
    return load_preset(PRESETS_DIR / f"{text}.yaml")


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
