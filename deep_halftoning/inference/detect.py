"""What kind of halftone is this? Spectral analysis of a scan.

AM screens show sharp, isolated peaks in the power spectrum at the screen
frequency: a square lattice of dots gives four fundamentals 90 degrees apart
(``+-u`` and ``+-u'``, ``u'`` the quarter-turn of ``u``), then harmonics
``m u + k u'`` and, between screens, moire terms. Error diffusion and dither
put broad energy at high frequencies; continuous-tone images concentrate their
energy at low frequencies.

Each colour channel is searched on its own (an ink shows mostly in one: cyan in
red, magenta in green, yellow in blue only, black in all), on the power spectrum
averaged over Hann-windowed tiles spread over the page:

1. peaks: local maxima far above the typical power of their frequency ring,
   strongest first, each located to a fraction of a bin (a parabola through the
   log power);
2. lattices: a peak whose quarter-turn partner is a peak too (a dot screen, not
   a streak of edges or a texture);
3. gates: the strongest lattice must stand far above its ring and carry a real
   share of its channel's power (a tiled blue-noise matrix spreads its power
   over hundreds of peaks); a lattice on the pixel grid whose harmonic outshines
   it, or power peaking beyond any resolvable screen, is an ordered dither
   (Bayer): ``dispersed``;
4. the ruling: the frequency at which the lattices of all channels cluster that
   accounts for the most power, its own lattices plus those it explains;
5. what is left of the lattices off that ruling, and of the clearly weaker ones
   on it, is explained away as harmonics, moire terms and aliases of the others
   (see :class:`_Terms`); the survivors of all channels are merged, each screen
   estimated from the channel where it stands out most.

The analysis of one 1024 x 1024 image (four 512 x 512 tiles) takes some 60 ms on one core.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import cv2
import numpy as np

#: A peak is considered when it stands this far above the median power of its frequency ring.
PEAK_CONTRAST = 30.0
#: ... and is a screen when its quarter-turn partner stands this far above its own ring and has
#: at least this share of its power (round dots: about the same; elliptical ones: less),
PARTNER_CONTRAST, PARTNER_SHARE = 8.0, 0.1
#: ... and it has at least this share of the power of the strongest screen in its channel.
MIN_SHARE = 0.01
#: The strongest screen's peak carries at least this share of its channel's power (frequencies
#: above ``MIN_FREQUENCY``); a tiled threshold matrix (blue noise) spreads it over hundreds of peaks.
SCREEN_SHARE = 0.002
#: The strongest screen's contrast at a 512 x 512 analysis above which the image is AM (scaled
#: with the analysed area: a sinusoid's contrast over a broadband background grows as its square).
AM_CONTRAST = 500.0
#: Screens are looked for between these frequencies (cycles per pixel): a period of 50 px down to
#: 2.2 px. Finer patterns are dispersed dither, coarser ones content.
MIN_FREQUENCY, MAX_FREQUENCY = 0.02, 0.45
#: A peak at an integer combination of a known screen's lattice is its harmonic when its power is
#: below this share of the screen's.
HARMONIC_SHARE = 0.5
#: ... and for a moire term of two screens (their modulations' product: far weaker than either).
MOIRE_SHARE = 0.15
#: ... or when its frequency is below this share of its parents' (moire terms: a scan's blur dims the
#: screens far more than their low-frequency moire, which may then outshine them; 0.765 is the beat of
#: two screens 45 degrees apart, e.g. K45 and Y0 at 65 lpi for an 85 lpi print).
MOIRE_FREQUENCY = 0.8
#: A lattice within this share of a stronger one's frequency (about 5 degrees, or 8 % of its ruling) is
#: a sideband of it: the screen modulated by the picture, not a second screen (real ones are 15 degrees
#: or more apart).
SIDEBAND = 0.08
#: Harmonics and moire terms explained whatever their power still come from parents of at least
#: this share of their power.
FREE_PARENT_SHARE = 0.05
#: High-frequency share (power beyond 0.25 cycles per pixel) above which a non-AM image is dispersed.
DISPERSED_SHARE = 0.2
#: A dispersed-dot ordered dither (Bayer): a lattice whose harmonic is at least this many times stronger
#: than the lattice's fundamental (clustered AM dots keep most power in the fundamental).
DITHER_HARMONIC = 2.0
#: ... when the lattice itself has at least this share of its harmonic's power (weaker: JPEG's 8 x 8
#: blocks), and lies on the pixel grid of a threshold matrix of this size.
MIN_DITHER_SHARE, DITHER_GRID = 0.05, 16
#: Lattices weaker than this share of their channel's strongest do not explain others when the
#: screens' ruling is chosen.
LEAD_PARENT = 0.1
#: Screens within this relative difference of the strongest screen's frequency are listed first.
RULING_SPREAD = 0.15
#: At most this many lattices are looked for in one channel (a print has four screens, then
#: harmonics, moire terms and aliases).
MAX_CHANNEL_SCREENS = 24
#: Harmonics ``m u + k u'`` are considered up to ``m**2 + k**2 <= MAX_ORDER``; up to ``MAX_FREE_ORDER``
#: they explain a peak whatever its power, and may alias (fold back across the pixel grid's Nyquist).
MAX_ORDER, MAX_FREE_ORDER = 25, 8
#: A page larger than the analysed square is analysed in up to this many tiles per side, their spectra
#: averaged (a screen whose ink is missing, or hidden under black, at the centre still shows).
MAX_TILES_SIDE = 3
#: ln(median / geometric mean) of exponentially distributed power (ln ln 2 + Euler's gamma).
_MEDIAN_OVER_GEOMETRIC = math.log(math.log(2.0)) + 0.5772156649015329


#: Screen rulings (lpi) printers use, and the resolutions (dpi) scans are made at: a ruling that is none
#: of the first at the file's resolution but one of them at another is a hint that the dpi tag is wrong.
PRINT_RULINGS = (65, 85, 100, 110, 120, 133, 150, 175, 200, 300)
SCAN_RESOLUTIONS = (150, 200, 300, 400, 600, 800, 1200, 2400)
#: ... a ruling within this share of one of ``PRINT_RULINGS`` is that one.
RULING_MATCH = 0.03


def dpi_hint(lpi: float, dpi: float) -> str | None:
    """A one-line hint when ``lpi``, found at ``dpi``, is no usual print ruling but would be one at another
    usual scan resolution (a 150 lpi print scanned at 600 dpi in a file tagged 300 dpi reads 75 lpi)."""

    def usual(ruling: float) -> bool:
        return any(abs(ruling / r - 1.0) <= RULING_MATCH for r in PRINT_RULINGS)

    if dpi < SCAN_RESOLUTIONS[0]:
        return f"{dpi:g} dpi is a display default, not a scan resolution: rerun with --dpi (the scanner's setting)"
    if usual(lpi):
        return None
    # a tag off by a factor of 2 or 4 first (saved at 300 dpi, scanned at 600), then the nearest
    doubled = [dpi * 2, dpi / 2, dpi * 4, dpi / 4]
    others = [d for d in doubled if d in SCAN_RESOLUTIONS]
    others += sorted((d for d in SCAN_RESOLUTIONS if d not in others), key=lambda d: abs(math.log(d / dpi)))
    for other in others:
        if other != dpi and usual(lpi * other / dpi):
            return (
                f"{lpi:.0f} lpi is not a usual print ruling; at {other:g} dpi it is {lpi * other / dpi:.0f} lpi: "
                f"if the scan was not made at {dpi:g} dpi, rerun with --dpi {other:g}"
            )
    if not PRINT_RULINGS[0] * 0.75 <= lpi <= PRINT_RULINGS[-1]:
        return f"{lpi:.0f} lpi is outside print rulings at {dpi:g} dpi: check the scan's resolution (--dpi)"
    return None


@dataclass(frozen=True)
class Screen:
    """One AM screen: frequency (cycles per pixel), period, angle in [0, 90), spectral peak power relative
    to the strongest screen in the colour channel where it shows best, and the ruling in lines per inch
    when the scan's ``dpi`` is known."""

    frequency: float
    period: float
    angle: float
    strength: float
    lpi: float | None = None


@dataclass(frozen=True)
class ScreenAnalysis:
    """``kind`` is ``am``, ``dispersed`` (error diffusion or dither) or ``continuous``; ``peak_ratio``
    is the highest contrast of a lattice peak over the typical (median) power of its frequency ring."""

    kind: str
    high_frequency_share: float
    peak_ratio: float
    screens: list[Screen] = field(default_factory=list)
    dpi: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def am_period(self) -> float | None:
        """The lead screen's period in pixels when this is an AM screen, else ``None``."""
        return self.screens[0].period if self.kind == "am" and self.screens else None

    def resolution_hint(self) -> str | None:
        """:func:`dpi_hint` on the lead screen's ruling: a line when the resolution looks wrong, else ``None``."""
        lead = self.screens[0] if self.screens else None
        return dpi_hint(lead.lpi, self.dpi) if lead is not None and lead.lpi is not None and self.dpi else None


@dataclass(frozen=True)
class _Geometry:
    """Frequency grids of an ``n x n`` centred (fftshifted) spectrum and its rings."""

    n: int
    fy: np.ndarray
    fx: np.ndarray
    radius: np.ndarray
    ring: np.ndarray  # ring index of every bin
    ring_size: np.ndarray  # bins per ring
    window: np.ndarray


@lru_cache(maxsize=4)
def _geometry(n: int) -> _Geometry:
    f = np.fft.fftshift(np.fft.fftfreq(n))
    fy, fx = np.meshgrid(f, f, indexing="ij")
    radius = np.hypot(fy, fx)
    ring = np.minimum((radius * n + 0.5).astype(np.int64), n)
    window = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    return _Geometry(n, fy, fx, radius, ring, np.bincount(ring.ravel(), minlength=n + 1), window)


def _tile_starts(length: int, n: int) -> list[int]:
    """Where the tiles of one side start: evenly spread, ``MAX_TILES_SIDE`` at most, one when it fits once."""
    count = min(MAX_TILES_SIDE, -(-length // n))
    return (
        sorted({round(i * (length - n) / max(count - 1, 1)) for i in range(count)})
        if count > 1
        else [(length - n) // 2]
    )


def _power(plane: np.ndarray, geometry: _Geometry) -> np.ndarray:
    """The centred power spectrum (float32) of Hann-windowed ``n x n`` tiles spread over the plane, averaged."""
    n = geometry.n
    h, w = plane.shape
    total = np.zeros((n, n), np.float32)
    tiles = [(y, x) for y in _tile_starts(h, n) for x in _tile_starts(w, n)]
    for y, x in tiles:
        patch = np.asarray(plane[y : y + n, x : x + n], np.float32)
        patch = (patch - patch.mean()) * geometry.window
        re, im = cv2.split(cv2.dft(patch, flags=cv2.DFT_COMPLEX_OUTPUT))
        total += cv2.add(cv2.multiply(re, re), cv2.multiply(im, im))
    return np.fft.fftshift(total / len(tiles))


def _background(log_power: np.ndarray, geometry: _Geometry) -> np.ndarray:
    """Per bin, the typical power of its frequency ring: the geometric mean over the ring, a second
    time without the bins far above the first (peaks), scaled to the median of exponential noise."""
    ring, count = geometry.ring.ravel(), geometry.ring_size
    values = log_power.ravel()
    mean = np.bincount(ring, weights=values, minlength=count.size) / np.maximum(count, 1)
    keep = values < mean[ring] + math.log(PEAK_CONTRAST)
    kept = np.bincount(ring, weights=keep, minlength=count.size)
    mean = np.bincount(ring, weights=values * keep, minlength=count.size) / np.maximum(kept, 1)
    return np.exp(mean + _MEDIAN_OVER_GEOMETRIC)[geometry.ring]


def _refine(log_power: np.ndarray, y: int, x: int, n: int) -> np.ndarray:
    """The peak at bin ``(y, x)`` located to a fraction of a bin, as ``(fy, fx)`` in cycles per pixel."""
    offsets = []
    for dy, dx in ((1, 0), (0, 1)):
        lo, mid, hi = log_power[y - dy, x - dx], log_power[y, x], log_power[(y + dy) % n, (x + dx) % n]
        curvature = lo - 2 * mid + hi
        offsets.append(float(np.clip(0.5 * (lo - hi) / curvature, -0.5, 0.5)) if curvature < 0 else 0.0)
    return np.array([(y + offsets[0] - n // 2) / n, (x + offsets[1] - n // 2) / n])


def _quarter_turn(vector: np.ndarray) -> np.ndarray:
    """``(fy, fx)`` turned by 90 degrees."""
    return np.array([vector[1], -vector[0]])


_ALIASES = np.array([(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)], float)


@dataclass(frozen=True)
class _Terms:
    """Harmonics, moire terms and aliases of known screens, to tell which peaks they explain.

    *Free* terms explain a peak whatever its power (as long as the parents are not negligible
    beside it): a screen's low harmonics ``m u + k u'`` (``m**2 + k**2 <= 8``: small dots make them
    about as strong as the fundamental), the moire term ``u_1 - u_2`` of two screens of about one
    ruling when well below it (a scan's blur spares it while dimming the screens), and the alias
    ``(1/2, 0) - u`` (and so on) of a screen in JPEG's half-resolution chroma. *Weak* terms explain
    a peak clearly weaker than their parents: harmonics up to ``MAX_ORDER``, sums of two fundamentals
    of different screens (moire: their modulations' product, far weaker than either) and their JPEG
    aliases. Frequencies are taken modulo 1 (aliasing on the pixel grid).
    """

    vectors: np.ndarray  # fundamentals u, one per screen
    powers: np.ndarray
    points: np.ndarray  # signed fundamentals (their aliases), sums of two of different screens
    period: np.ndarray  # 1 (the pixel grid) or 1/2 (JPEG's chroma)
    limit: np.ndarray  # explains peaks weaker than this
    free_below: np.ndarray  # explains peaks of any power below this frequency (0: never)
    parent: np.ndarray  # the weakest parent's power

    @classmethod
    def of(cls, screens: list[tuple[np.ndarray, float]]) -> _Terms:
        vectors = np.array([u for u, _ in screens]).reshape(-1, 2)
        powers = np.array([p for _, p in screens], float)
        signed = [(v, p, i) for i, (u, p) in enumerate(screens) for v in (u, -u, _quarter_turn(u), -_quarter_turn(u))]
        if not signed:
            empty = np.empty(0)
            return cls(vectors, powers, np.empty((0, 2)), empty, empty, empty, empty)
        s1 = np.array([v for v, _, _ in signed])
        p1 = np.array([p for _, p, _ in signed])
        i1 = np.array([i for _, _, i in signed])
        f1 = np.hypot(s1[:, 0], s1[:, 1])
        a, b = np.triu_indices(len(s1), 1)
        mixed = i1[a] != i1[b]
        a, b = a[mixed], b[mixed]
        s2, p2 = s1[a] + s1[b], np.minimum(p1[a], p1[b])
        similar = np.abs(f1[a] - f1[b]) < RULING_SPREAD * np.maximum(f1[a], f1[b])
        free2 = np.where(similar, MOIRE_FREQUENCY * np.minimum(f1[a], f1[b]), 0.0)
        # beats of a screen's (1, 1) harmonic u + u' with another's fundamental (K45's against Y0: 35 lpi
        # in an 85 lpi print): free terms only, well below the ruling (harmonics' powers are not known)
        diagonals = np.array(
            [(d, -d, e, -e) for d, e in ((u + _quarter_turn(u), u - _quarter_turn(u)) for u, _ in screens)]
        ).reshape(-1, 2)  # four per screen, like ``signed``
        h, g = np.nonzero(i1[:, None] != i1[None, :])  # a harmonic of screen i1[h], a fundamental of another
        s3, p3 = diagonals[h] + s1[g], np.minimum(p1[h], p1[g])
        free3 = np.where(np.abs(f1[h] - f1[g]) < RULING_SPREAD * f1[g], MOIRE_FREQUENCY * f1[g], 0.0)
        ones = np.ones
        return cls(
            vectors,
            powers,
            np.concatenate([s1, s2, s2, s3]),
            np.concatenate([0.5 * ones(len(s1)), ones(len(s2)), 0.5 * ones(len(s2)), ones(len(s3))]),
            np.concatenate([HARMONIC_SHARE * p1, MOIRE_SHARE * p2, MOIRE_SHARE * p2, np.zeros(len(s3))]),
            np.concatenate([np.full(len(s1), np.inf), free2, np.zeros(len(s2)), free3]),
            np.concatenate([p1, p2, p2, p3]),
        )

    def explain(
        self,
        vector: np.ndarray,
        power: float,
        tolerance: float,
        free: bool = True,
        weak: bool = True,
        parent_share: float = FREE_PARENT_SHARE,
        alias_share: float = FREE_PARENT_SHARE,
    ) -> bool:
        """Whether the peak at ``vector`` of ``power`` is one of these terms (free ones, from parents of at
        least ``parent_share`` of its power, ``alias_share`` for aliases, and weak ones)."""
        if not len(self.powers):
            return False
        frequency = float(np.hypot(*vector))
        d = self.points - vector
        d -= self.period[:, None] * np.round(d / self.period[:, None])
        near = _short(d, tolerance)
        share = np.where(self.period < 1.0, alias_share, parent_share)
        strong_parents = power * share <= self.parent
        explained = (weak & (power < self.limit)) | (free & strong_parents & (frequency < self.free_below))
        if np.any(near & explained):
            return True
        # harmonics: vector = m u + k u' (+ an alias of the pixel grid) on some screen's lattice
        for u, p in zip(self.vectors, self.powers, strict=True):
            order = _harmonic_orders(vector - _ALIASES, u, tolerance)
            # aliased (shifted by the pixel grid) only for low orders: higher ones are too faint to fold back
            low = order <= MAX_FREE_ORDER
            hit = (order > 1) & (low | (_ALIASES == 0).all(axis=1) & (order <= MAX_ORDER))
            if not hit.any():
                continue
            if weak and power < HARMONIC_SHARE * p or free and power * parent_share <= p and (hit & low).any():
                return True
        return False


def _short(d: np.ndarray, tolerance: float) -> np.ndarray:
    """Which of the vectors ``d`` are shorter than ``tolerance``."""
    return np.hypot(d[:, 0], d[:, 1]) < tolerance


def _same_lattice(a: np.ndarray, b: np.ndarray, tolerance: float) -> bool:
    """Whether fundamentals ``a`` and ``b`` belong to one square lattice (equal up to quarter turns)."""
    turns = np.array([b, _quarter_turn(b), -b, -_quarter_turn(b)])
    return bool(_short(turns - a, tolerance).any())


def _harmonic_orders(highs: np.ndarray, low: np.ndarray, tolerance: float) -> np.ndarray:
    """Per row ``high`` of ``highs``, ``m**2 + k**2`` when ``high = m u + k u'`` (within ``tolerance``) on
    the lattice of ``low`` (``u``), else 0."""
    basis = np.array([low, _quarter_turn(low)]).T
    mk = np.round(np.linalg.solve(basis, highs.T)).T
    return np.where(_short(mk @ basis.T - highs, tolerance), (mk**2).sum(axis=1), 0.0)


def _harmonic_order(high: np.ndarray, low: np.ndarray, tolerance: float) -> int:
    """:func:`_harmonic_orders` of the one vector ``high``."""
    return int(_harmonic_orders(high[None], low, tolerance)[0])


def _on_pixel_grid(vector: np.ndarray, tolerance: float) -> bool:
    """Whether ``(fy, fx)`` is a multiple of ``1 / DITHER_GRID`` cycles per pixel in both directions."""
    d = vector * DITHER_GRID
    return bool(np.hypot(*(d - np.round(d))) < tolerance * DITHER_GRID)


def _canonical(vector: np.ndarray) -> tuple[float, float]:
    """Frequency and angle in [0, 90) of a lattice fundamental ``(fy, fx)``."""
    return float(np.hypot(*vector)), float(math.degrees(math.atan2(vector[0], vector[1])) % 90.0)


def _on_ruling(vector: np.ndarray, lead: float) -> bool:
    return abs(float(np.hypot(*vector)) / lead - 1.0) <= RULING_SPREAD


@dataclass
class _Channel:
    """One colour channel's spectrum, ready for peak picking."""

    power: np.ndarray
    log_power: np.ndarray
    contrast: np.ndarray
    coords: np.ndarray  # candidate peaks (row, column), strongest first

    @classmethod
    def of(cls, power: np.ndarray, geometry: _Geometry, max_peaks: int = 64) -> _Channel:
        log_power = np.log(power + np.float32(1e-30))
        contrast = power / _background(log_power, geometry)
        local_max = power >= cv2.dilate(power, np.ones((5, 5), np.uint8))
        band = (geometry.radius >= MIN_FREQUENCY) & (geometry.radius <= MAX_FREQUENCY) & (geometry.fy >= 0)
        coords = np.argwhere(local_max & band & (contrast > PEAK_CONTRAST))
        coords = coords[np.argsort(power[coords[:, 0], coords[:, 1]])[::-1][:max_peaks]]
        return cls(power, log_power, contrast, coords)

    def lattice(self, y: int, x: int) -> np.ndarray | None:
        """The lattice fundamental at peak ``(y, x)``, when its quarter-turn partner is a peak too (a
        lattice, not a streak of edges or texture): the two estimates averaged."""
        n = self.power.shape[0]
        vector, p = _refine(self.log_power, y, x, n), float(self.power[y, x])
        py, px = (int(round(c * n)) + n // 2 for c in _quarter_turn(vector))
        if not (1 <= py < n - 1 and 1 <= px < n - 1):
            return None
        window = self.power[py - 1 : py + 2, px - 1 : px + 2]
        dy, dx = np.unravel_index(int(np.argmax(window)), window.shape)
        py, px = py + dy - 1, px + dx - 1
        if self.contrast[py, px] < PARTNER_CONTRAST or self.power[py, px] < PARTNER_SHARE * p:
            return None
        return 0.5 * (vector - _quarter_turn(_refine(self.log_power, py, px, n)))

    def screens(self, tolerance: float) -> tuple[list[tuple[np.ndarray, float, float]], bool]:
        """``(vector, power, contrast)`` of each lattice, strongest first; and whether they look like a
        dispersed-dot ordered dither (a lattice on the pixel grid whose harmonic outshines it)."""
        found: list[tuple[np.ndarray, float, float]] = []
        for y, x in self.coords:
            p = float(self.power[y, x])
            if found and p < MIN_SHARE * found[0][1] or len(found) == MAX_CHANNEL_SCREENS:
                break  # strongest first: the rest are weaker still
            vector = _refine(self.log_power, y, x, self.power.shape[0])
            if any(_same_lattice(vector, u, tolerance) for u, _, _ in found):
                continue
            vector = self.lattice(y, x)
            if vector is not None:
                found.append((vector, p, float(self.contrast[y, x])))

        def harmonic(high: np.ndarray, low: np.ndarray) -> bool:
            return np.hypot(*high) > 1.2 * np.hypot(*low) and _harmonic_order(high, low, 2 * tolerance) > 1

        # fundamentals: lattices that are not harmonics of a coarser, stronger one
        fundamentals = [(u, p) for u, p, _ in found if not any(harmonic(u, v) and q > p for v, q, _ in found)]
        dither = any(
            DITHER_HARMONIC * pl <= ph <= pl / MIN_DITHER_SHARE and harmonic(high, low)
            for high, ph, _ in found
            for low, pl in fundamentals
            if _on_pixel_grid(low, tolerance)
        )
        return found, dither


def _resolve(found: list, lead: float, tolerance: float, weak: bool = True) -> list:
    """Drop the harmonics, moire terms and aliases among ``(vector, power, ...)`` lattices: first those
    off the ``lead`` ruling, weakest first, explained by any of the others; then, ``weak``, those on it
    that are clearly weaker terms of the other screens on it (powers must be comparable for that)."""
    kept = sorted(found, key=lambda f: f[1])
    for entry in [f for f in kept if not _on_ruling(f[0], lead)]:
        others = [(f[0], f[1]) for f in kept if f is not entry]
        if _Terms.of(others).explain(entry[0], entry[1], tolerance, weak=weak):
            kept = [f for f in kept if f is not entry]
    for entry in [f for f in kept if weak and _on_ruling(f[0], lead)]:
        others = [(f[0], f[1]) for f in kept if f is not entry and _on_ruling(f[0], lead)]
        if _Terms.of(others).explain(entry[0], entry[1], tolerance, free=False):
            kept = [f for f in kept if f is not entry]
    return sorted(kept, key=lambda f: -f[1])


def _lead_ruling(lattices: list[tuple[np.ndarray, float]], tolerance: float) -> float:
    """The screens' ruling. Lattices that are low harmonics of a coarser one are set aside; of the
    frequencies the others cluster at, the lead is the one that accounts for the most power: its own
    lattices that no others explain, plus the others it explains as moire terms or aliases (here only
    lattices of at least ``LEAD_PARENT`` of their channel's strongest count as parents, faint junk must
    not explain the screens away; and a screen and its JPEG alias explain each other, so here an alias
    explains only a weaker lattice)."""

    def harmonic(u: np.ndarray, p: float) -> bool:
        return any(
            np.hypot(*v) < np.hypot(*u) and q >= FREE_PARENT_SHARE * p and 1 < _harmonic_order(u, v, tolerance) <= 8
            for v, q in lattices
        )

    base = [(u, p) for u, p in lattices if not harmonic(u, p)] or lattices

    def score(seed: float) -> float:
        inside = [abs(np.hypot(*u) / seed - 1.0) <= RULING_SPREAD for u, _ in base]
        cluster = [f for f, i in zip(base, inside, strict=True) if i]
        others = [f for f, i in zip(base, inside, strict=True) if not i]
        ours = _Terms.of([f for f in cluster if f[1] >= LEAD_PARENT])
        theirs = _Terms.of([f for f in others if f[1] >= LEAD_PARENT])
        explains = sum(p for u, p in others if ours.explain(u, p, tolerance, weak=False, alias_share=1.0))
        unexplained = sum(p for u, p in cluster if not theirs.explain(u, p, tolerance, weak=False, alias_share=1.0))
        return explains + unexplained

    seeds: list[float] = []
    for u, _ in sorted(base, key=lambda f: -f[1]):
        if all(abs(np.hypot(*u) / seed - 1.0) > RULING_SPREAD / 2 for seed in seeds):
            seeds.append(float(np.hypot(*u)))
    return max(seeds, key=score)


def analyse(image: np.ndarray, dpi: float | None = None, size: int = 512, max_screens: int = 4) -> ScreenAnalysis:
    """Classify a scan and, for AM, estimate each dominant screen's frequency and angle.

    ``image`` is ``H x W`` or ``H x W x C``, values in [0, 1]; it is analysed in ``size x size`` tiles
    (the largest even square that fits, when smaller), up to ``MAX_TILES_SIDE`` per side, their spectra
    averaged. ``dpi``, when given, turns each screen's frequency
    into a ruling in lines per inch. Screens are listed at the dominant ruling first, strongest first.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be H x W or H x W x C, got shape {image.shape}")
    if min(image.shape[:2]) < 32:
        raise ValueError(f"image too small to analyse ({image.shape[1]}x{image.shape[0]}); need 32 pixels or more")
    if dpi is not None:
        valid = isinstance(dpi, (int, float, np.integer, np.floating)) and not isinstance(dpi, bool)
        if not valid or not math.isfinite(dpi) or dpi <= 0:
            raise ValueError(f"dpi must be a positive, finite number of dots per inch, got {dpi!r}")
    if max_screens < 1:
        raise ValueError(f"max_screens must be at least 1, got {max_screens}")
    n = min(size, *image.shape[:2])
    n -= n % 2
    geometry = _geometry(n)
    planes = [image] if image.ndim == 2 else [image[..., c] for c in range(image.shape[2])]
    powers = [_power(plane, geometry) for plane in planes]
    total_power = sum(powers)
    usable = geometry.radius > MIN_FREQUENCY
    high_share = float(total_power[geometry.radius > 0.25].sum() / (total_power[usable].sum() + 1e-12))

    tolerance = 1.5 / n
    channels = [_Channel.of(power, geometry) for power in powers]
    found = [channel.screens(tolerance) for channel in channels]
    lattices = [f for f, _ in found]
    # the gates, on the strongest lattice: a peak far above its ring, carrying a real share of its
    # channel's power (a tiled threshold matrix, blue noise, spreads its power over hundreds of
    # peaks), and not an ordered dither's (nor dither energy peaking beyond any resolvable screen:
    # Bayer's checkerboard at 0.5 cycles per pixel)
    peak_ratio = max((c for f in lattices for _, _, c in f), default=0.0)
    screen_share = max(
        (f[0][1] / (float(ch.power[usable].sum()) + 1e-30) for f, ch in zip(lattices, channels, strict=True) if f),
        default=0.0,
    )
    band = usable & (geometry.radius <= MAX_FREQUENCY)
    dither = any(lattices) and (
        any(d for _, d in found) or bool(total_power[~band & usable].max() > total_power[band].max())
    )
    am_contrast = max(AM_CONTRAST * (n / 512) ** 2, 4 * PEAK_CONTRAST)
    if not (peak_ratio > am_contrast and screen_share > SCREEN_SHARE) or dither:
        kind = "dispersed" if high_share > DISPERSED_SHARE or dither else "continuous"
        return ScreenAnalysis(kind, high_share, peak_ratio, [], dpi)

    screens = _am_screens(lattices, tolerance, dpi, max_screens)
    return ScreenAnalysis("am", high_share, peak_ratio, screens, dpi)


def _am_screens(lattices: list, tolerance: float, dpi: float | None, max_screens: int) -> list[Screen]:
    """The screens of an AM scan from each channel's lattices: every lattice once (from the channel where it
    shows best), beats and sidebands explained away, at the dominant ruling first, strongest first."""
    union: list[tuple[np.ndarray, float]] = []  # every lattice once, its power relative to its channel's strongest
    for channel_lattices in lattices:
        for vector, p, _ in channel_lattices:
            if not any(_same_lattice(vector, u, 2 * tolerance) for u, _ in union):
                union.append((vector, p / channel_lattices[0][1]))
    lead = _lead_ruling(union, 2 * tolerance)
    merged: list[dict] = []  # one entry per lattice, the estimate from the channel where it shows best
    for channel_lattices in lattices:
        kept = _resolve(channel_lattices, lead, tolerance)
        for vector, p, c in kept:
            strength = p / kept[0][1]
            entry = next((e for e in merged if _same_lattice(vector, e["vector"], 2 * tolerance)), None)
            if entry is None:
                merged.append({"vector": vector, "contrast": c, "strength": strength})
            else:
                if c > entry["contrast"]:
                    entry.update(vector=vector, contrast=c)
                entry["strength"] = max(entry["strength"], strength)
    # terms between screens that show in different channels (strengths of different channels: free terms only)
    merged = [e for _, _, e in _resolve([(e["vector"], e["strength"], e) for e in merged], lead, 2 * tolerance, False)]
    carriers: list[dict] = []  # strongest first: a lattice close beside a stronger screen is its sideband
    for entry in merged:
        if not any(_same_lattice(entry["vector"], c["vector"], SIDEBAND * np.hypot(*c["vector"])) for c in carriers):
            carriers.append(entry)
    merged = carriers
    merged.sort(key=lambda e: (not _on_ruling(e["vector"], lead), -e["strength"]))
    screens = []
    for entry in merged[:max_screens]:
        frequency, angle = _canonical(entry["vector"])
        lpi = None if dpi is None else frequency * float(dpi)
        screens.append(Screen(frequency, 1.0 / frequency, angle, float(entry["strength"]), lpi))
    return screens
