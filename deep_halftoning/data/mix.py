"""Random halftoning recipes: which algorithm, with which parameters, and how it is scanned.

Parameter specs in config are a fixed value, a list to choose from uniformly,
or ``{low: a, high: b}`` for a uniform draw (integers when both bounds are
integers). A list's items may themselves be ranges: ``[0.0, {low: 0.02, high: 0.1}]``
is off half the time, else a uniform draw. A list-valued parameter such as
``angles`` is given as a list of choices: ``angles: [[15, 75, 0, 45], [0, 15, 45, 75]]``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from ..halftone import MODES, get_method
from ..halftone.scan import ScanSettings


def sample_value(spec: object, rng: np.random.Generator) -> object:
    """One draw from a parameter spec (see the module docstring)."""
    if isinstance(spec, Mapping):
        if set(spec) != {"low", "high"}:
            raise ValueError(f"a range is written {{low: a, high: b}}, got {dict(spec)}")
        low, high = spec["low"], spec["high"]
        if low > high:
            raise ValueError(f"range low {low} exceeds high {high}")
        if isinstance(low, int) and isinstance(high, int) and not isinstance(low, bool):
            return int(rng.integers(low, high + 1))
        return float(rng.uniform(low, high))
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        if len(spec) == 0:
            raise ValueError("a list of choices must not be empty")
        choice = spec[int(rng.integers(0, len(spec)))]
        if isinstance(choice, Mapping):
            return sample_value(choice, rng)
        return tuple(choice) if isinstance(choice, Sequence) and not isinstance(choice, str) else choice
    return spec


def spec_extremes(spec: object) -> list[object]:
    """Every value a spec can reach at its edges: a range's bounds, each choice (a range choice's
    bounds), or the value itself. Checking these at start-up catches a bad range's far end too."""
    if isinstance(spec, Mapping):
        return [spec.get("low"), spec.get("high")]
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        values: list[object] = []
        for choice in spec:
            values += spec_extremes(choice) if isinstance(choice, Mapping) else [choice]
        return values
    return [spec]


def _plain(spec: object) -> object:
    """Config containers (e.g. OmegaConf's) as plain dicts, lists and values: drawing from them
    happens for every training pair, and plain containers are several times cheaper to read."""
    if isinstance(spec, Mapping):
        return {key: _plain(value) for key, value in spec.items()}
    if isinstance(spec, Sequence) and not isinstance(spec, str):
        return [_plain(value) for value in spec]
    return spec


@dataclass(frozen=True)
class Recipe:
    """One concrete way to halftone an image."""

    method: str
    mode: str | None
    params: dict[str, object]
    scan: ScanSettings | None = None
    scan_seed: int = 0

    @property
    def screen_period(self) -> float | None:
        """Pixels per screen cell of an AM print (``dpi / lpi``); ``None`` for other halftones."""
        lpi, dpi = self.params.get("lpi"), self.params.get("dpi")
        return float(dpi) / float(lpi) if lpi and dpi else None


@dataclass(frozen=True)
class MixEntry:
    method: str
    weight: float = 1.0
    mode: object = None  # a mode, a list of modes to choose from, or None for the method's default
    params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class ScanRanges:
    """How often pairs are passed through scan simulation, and the ranges of its settings."""

    probability: float = 0.0
    blur_sigma: object = 0.0
    paper_strength: object = 0.0
    noise_sigma: object = 0.0
    rotation: object = 0.0
    jpeg_quality: object = None
    resample_scale: object = 1.0  # scanner resampling: down to this scale and back (1: none)

    def check(self) -> None:
        """Build settings from every range's edges (``ValueError`` when one is out of range)."""
        if self.probability <= 0:
            return
        base = ScanSettings()
        for name in ("blur_sigma", "paper_strength", "noise_sigma", "rotation", "jpeg_quality", "resample_scale"):
            for value in spec_extremes(getattr(self, name)):
                try:
                    replace(base, **{name: value})
                except (TypeError, ValueError) as err:
                    raise ValueError(f"scan {name}: {err}") from None

    def sample(self, rng: np.random.Generator) -> ScanSettings | None:
        if not rng.random() < self.probability:
            return None
        quality = sample_value(self.jpeg_quality, rng)
        return ScanSettings(
            blur_sigma=float(sample_value(self.blur_sigma, rng)),
            paper_strength=float(sample_value(self.paper_strength, rng)),
            noise_sigma=float(sample_value(self.noise_sigma, rng)),
            rotation=float(sample_value(self.rotation, rng)),
            jpeg_quality=None if quality is None else int(quality),
            resample_scale=float(sample_value(self.resample_scale, rng)),  # drawn last: older configs draw as before
        )


class HalftoneMix:
    """A weighted mix of halftoning methods with randomised parameters, plus scan simulation."""

    def __init__(self, entries: Sequence[MixEntry], scan: ScanRanges | None = None) -> None:
        if not entries:
            raise ValueError("the halftone mix needs at least one method")
        weights = np.array([e.weight for e in entries], np.float64)
        if (weights < 0).any() or weights.sum() <= 0:
            raise ValueError(f"mix weights must be >= 0 with a positive sum, got {weights.tolist()}")
        self.entries = tuple(entries)
        self.probabilities = weights / weights.sum()
        self._cumulative = np.cumsum(self.probabilities)
        self.scan = scan or ScanRanges()
        check = np.random.default_rng(0)
        for entry in self.entries:  # fail at start-up, naming the entry, not in a worker
            modes = entry.mode if isinstance(entry.mode, Sequence) and not isinstance(entry.mode, str) else [entry.mode]
            if any(m is not None and m not in MODES for m in modes) or not modes:
                raise ValueError(f"mix entry {entry.method!r}: modes must be among {MODES}, got {entry.mode!r}")
            try:
                method = get_method(entry.method)
                drawn = {k: sample_value(v, check) for k, v in entry.params.items()}
                method.resolve(drawn)
                for name, spec in entry.params.items():
                    for value in spec_extremes(spec):
                        method.resolve({**drawn, name: tuple(value) if isinstance(value, list) else value})
            except ValueError as err:
                raise ValueError(f"mix entry {entry.method!r}: {err}") from None
        self.scan.check()

    @classmethod
    def from_config(cls, methods: Mapping[str, Mapping | None], scan: Mapping | None = None) -> HalftoneMix:
        """Build from config: ``methods`` maps a method name to ``{weight, mode, params}`` (any may be
        left out; ``weight: 0`` drops the method), ``scan`` the scan ranges. An entry may name its
        ``method`` itself, so one method can appear twice under two keys (e.g. two AM recipes)."""
        if not isinstance(methods, Mapping):
            raise ValueError(f"the halftone mix maps method names to settings, got {type(methods).__name__}")
        entries = []
        for key, item in _plain(dict(methods)).items():
            item = dict(item or {})
            unknown = set(item) - {"method", "weight", "mode", "params"}
            if unknown:
                raise ValueError(
                    f"mix entry {key!r}: unknown keys {sorted(unknown)}; allowed: method, weight, mode, params"
                )
            weight = float(item.get("weight", 1.0))
            if weight != 0:
                entries.append(
                    MixEntry(item.get("method", key), weight, item.get("mode"), dict(item.get("params") or {}))
                )
        try:
            ranges = ScanRanges(**_plain(dict(scan or {})))
        except TypeError as err:
            raise ValueError(f"bad scan settings {dict(scan or {})}: {err}") from None
        return cls(entries, ranges)

    @property
    def methods(self) -> tuple[str, ...]:
        return tuple(e.method for e in self.entries)

    def sample(self, rng: np.random.Generator) -> Recipe:
        """Draw a method, its parameters and (maybe) scan settings."""
        pick = int(np.searchsorted(self._cumulative, rng.random() * self._cumulative[-1], side="right"))
        entry = self.entries[min(pick, len(self.entries) - 1)]
        mode = sample_value(entry.mode, rng)
        params = {name: sample_value(spec, rng) for name, spec in entry.params.items()}
        return Recipe(entry.method, mode, params, self.scan.sample(rng), int(rng.integers(0, 2**31)))
