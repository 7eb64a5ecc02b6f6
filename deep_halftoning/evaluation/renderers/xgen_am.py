"""A cross-generator AM print-and-scan renderer that no training pair uses.

The descreeners are trained on the project's own AM screens
(:mod:`deep_halftoning.halftone.screen`: round / elliptical / square / line dots
built from parabolic "wave" profiles, power-law dot-gain curves per ink, and a
multiplicative subtractive ink model ``paper * prod(1 - c_i (1 - ink_i))`` with
jittered ink colours, per-plate misregistration and paper tint). A model that
only learned that family scores well on it; to see whether it learned to
descreen *print*, this module renders an AM print with independent code and a
different model at every step it can, and evaluation reports it as its own row:

* **Spot function: diamond (L1) dot.** ``|u| + |v|`` in the rotated cell, the
  chain/diamond dot: square-ish highlights, a checkerboard at 50 %, inverted
  diamonds in the shadows. No training shape has this profile. The threshold
  for a coverage ``c`` is taken from the exact distribution of the spot
  function over the cell (:func:`diamond_level`), so the nominal tone is linear
  before dot gain.
* **Tone curve: optical (Yule-Nielsen) dot gain, not a power law.** The effective
  (Murray-Davies-equivalent) coverage of a dot printed at ``c`` is that of a
  Yule-Nielsen print with ``n = 1.8`` and a solid of reflectance 0.03
  (:func:`yule_nielsen_gain`): +15.5 % at 50 %, zero at 0 and 100 %, with the
  asymmetric shape of light scattering in paper; the dots are grown to it.
* **Ink model: 16-primary Neugebauer with Demichel weights.** Every sub-sample
  takes the measured-looking sRGB colour of the overprint present there (paper,
  the 4 inks, and their 11 overprints: the red, green and blue overprints and
  the slightly brown three-colour black are *not* products of the single inks'
  colours); sub-samples are area-averaged in linear light (a scanner integrates
  light, not sRGB codes), which over a flat patch is exactly the Demichel-weighted
  Neugebauer sum. Screens are in perfect register and the paper is not jittered.
* **Separation: colour-managed GCR of its own.** Black by grey-component
  replacement, ``K = k (0.7 + 0.3 k^3)`` with ``k = 1 - max(R, G, B)``; C, M and Y
  solved so that the print model above (including its dot gain) reproduces the
  photo relative to the paper white (:func:`separation_table`: a print shop's
  profile, inverted numerically on a 33^3 grid). A real scanned print is colour
  managed: without it the Neugebauer inks' hue errors and the +15 % gain would
  darken and tint the print by 0.1-0.2, and the row would measure colour
  correction, not descreening. What remains is the gamut (saturated sRGB colours
  print on the inks' gamut surface) and, with ``profile_n != yule_nielsen_n``, a
  press that drifted from its profile.
* **Screen: classic angles C 15, M 75, Y 0, K 45 at one ruling** (150 lpi at
  600 dpi: 4 print pixels per cell), each print pixel sampled on a jittered
  ``s x s`` sub-grid (``s = 4``; regular in the training family).
* **Scan:** the print is rendered at ``scan_scale`` (1.25) times the photo's size,
  blurred by the scanner optics (Gaussian, ``blur_sigma`` = 0.7 output pixels),
  area-resampled back to the photo's size (``cv2.INTER_AREA``: a non-integer
  sampling ratio, so the screen period in the output is 4 / 1.25 = 3.2 pixels),
  encoded to sRGB and given mild seeded sensor noise.

Everything is vectorised NumPy (rows of the print in chunks, no per-pixel
Python), pure, and seeded: the noise is the only random part. This module
deliberately imports nothing from ``deep_halftoning.halftone``.

    from deep_halftoning.evaluation.renderers.xgen_am import xgen_am
    scanned = xgen_am(photo, seed=0)   # float32 H x W x 3 in [0, 1], the photo's size
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import cv2
import numpy as np
from scipy.ndimage import map_coordinates

#: Ink order of coverage planes and of the bits of a Neugebauer primary's index (C = 1, M = 2, Y = 4, K = 8).
INKS = "CMYK"
#: Classic screen angles in degrees (counter-clockwise as seen, y up), in ink order C, M, Y, K.
CLASSIC_ANGLES = (15.0, 75.0, 0.0, 45.0)
#: Plate origins in screen cells (along the screen's own axes), per ink. Shifting K a quarter cell on both axes
#: makes the C-M-K rosette neither dot-centred (all three dots coincide: 0.01-0.02 darker than Demichel, linear)
#: nor clear-centred (as much lighter): its overlaps then follow the Demichel weights within 0.001.
PLATE_OFFSETS = ((0.0, 0.0), (0.0, 0.0), (0.0, 0.0), (0.25, 0.25))

#: Measured-looking sRGB (8-bit) colours of the 16 Neugebauer primaries of process inks on coated paper,
#: keyed by the inks present. Overprints are measured, not multiplied: trapping and gloss make the blue and
#: red overprints lighter and purer than a product of the single inks, and three-colour black is brownish.
NEUGEBAUER_SRGB8: dict[str, tuple[int, int, int]] = {
    "": (248, 247, 242),  # paper: a slightly warm white
    "C": (0, 158, 224),
    "M": (226, 0, 122),
    "Y": (255, 237, 0),
    "K": (35, 31, 32),
    "CM": (46, 49, 146),  # blue overprint
    "CY": (0, 150, 64),  # green overprint
    "MY": (225, 30, 36),  # red overprint
    "CMY": (58, 48, 40),  # three-colour black, brownish
    "CK": (20, 29, 38),
    "MK": (37, 20, 26),
    "YK": (35, 33, 20),
    "CMK": (22, 20, 33),
    "CYK": (17, 30, 26),
    "MYK": (38, 22, 18),
    "CMYK": (16, 14, 14),
}


def srgb_to_linear(values: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] to linear light (IEC 61966-2-1), float32."""
    v = np.clip(np.asarray(values, np.float32), 0.0, 1.0)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


def linear_to_srgb(values: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] to sRGB-encoded values (IEC 61966-2-1), float32."""
    v = np.clip(np.asarray(values, np.float32), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055).astype(np.float32)


def primary_key(index: int) -> str:
    """The inks of Neugebauer primary ``index`` (bit ``i`` set: ink ``INKS[i]`` present), e.g. 5 -> ``"CY"``."""
    return "".join(ink for bit, ink in enumerate(INKS) if index >> bit & 1)


def neugebauer_primaries(inks: str = "process") -> np.ndarray:
    """``16 x 3`` linear-light reflectances of the primaries, row ``i`` = :func:`primary_key` ``(i)``: the
    measured-looking process inks (:data:`INKSETS`), or ``ideal`` ones on white paper (each ink absorbs one
    primary wholly, black all, overprints multiply) whose print averages to the photo itself."""
    if inks not in INKSETS:
        raise ValueError(f"inks must be one of {', '.join(INKSETS)}, got {inks!r}")
    if inks == "ideal":
        ink = {"C": (0, 1, 1), "M": (1, 0, 1), "Y": (1, 1, 0), "K": (0, 0, 0)}
        return np.array(
            [np.prod([ink[i] for i in primary_key(k)] or [(1, 1, 1)], axis=0) for k in range(16)], np.float32
        )
    table = np.array([NEUGEBAUER_SRGB8[primary_key(i)] for i in range(16)], np.float32) / 255.0
    return srgb_to_linear(table)


#: The ink sets a print can use (see :func:`neugebauer_primaries`).
INKSETS = ("process", "ideal")


def demichel_weights(coverage: np.ndarray) -> np.ndarray:
    """Demichel weights ``... x 16`` of coverages ``... x 4`` (C, M, Y, K): the area fraction of each primary
    when the four screens overlap at random, ``prod_i (c_i if ink i present else 1 - c_i)``."""
    c = np.asarray(coverage, np.float64)
    weights = np.ones((*c.shape[:-1], 16))
    for index in range(16):
        for bit in range(4):
            weights[..., index] *= c[..., bit] if index >> bit & 1 else 1.0 - c[..., bit]
    return weights


def print_colour(
    coverage: np.ndarray, yule_nielsen_n: float = 1.8, solid: float = 0.03, inks: str = "process"
) -> np.ndarray:
    """Linear-light colour ``... x 3`` of a flat patch of nominal coverages ``... x 4``: the Demichel-weighted
    Neugebauer sum at the dot-gained coverages (what :func:`render_print` area-averages to)."""
    gained = yule_nielsen_gain(coverage, yule_nielsen_n, solid)
    return (demichel_weights(gained) @ neugebauer_primaries(inks).astype(np.float64)).astype(np.float32)


@lru_cache(maxsize=4)
def separation_table(
    gcr: float = 0.7, profile_n: float = 1.8, solid: float = 0.03, grid: int = 33, inks: str = "process"
) -> np.ndarray:
    """The colour-managed separation as a ``grid^3 x 4`` table of CMYK over an sRGB cube (read-only).

    Black follows grey-component replacement on the sRGB values, ``K = k (gcr + (1 - gcr) k^3)`` with
    ``k = 1 - max(R, G, B)`` (``gcr`` of the grey component in the mid-tones, rising to solid black); C, M and Y
    are then solved (damped Gauss-Newton on sRGB-encoded error, clipped to [0, 1], so out-of-gamut colours land
    on the gamut's surface) so that :func:`print_colour` with a Yule-Nielsen ``profile_n`` reproduces the colour
    relative to the paper (relative colorimetric: photo white prints as bare paper). This is the print shop's
    ICC profile, made for a press of dot gain ``profile_n``.
    """
    axis = np.linspace(0.0, 1.0, grid, dtype=np.float32)
    rgb = np.stack(np.meshgrid(axis, axis, axis, indexing="ij"), axis=-1).reshape(-1, 3)
    paper = neugebauer_primaries(inks)[0]
    target = linear_to_srgb(srgb_to_linear(rgb) * paper).astype(np.float64)
    grey = 1.0 - rgb.max(axis=1, keepdims=True).astype(np.float64)
    black = grey * (gcr + (1.0 - gcr) * grey**3)
    lin = srgb_to_linear(rgb).astype(np.float64)
    cmy = np.clip((1.0 - lin - black) / np.maximum(1.0 - black, 1e-6), 0.0, 1.0)  # ideal-ink start

    def encoded(c: np.ndarray) -> np.ndarray:
        return linear_to_srgb(print_colour(np.concatenate([c, black], axis=1), profile_n, solid, inks)).astype(
            np.float64
        )

    if inks == "ideal":  # each channel is the product of the inks absorbing it: solved in closed form
        cmy = _ideal_coverage(lin, yule_nielsen_gain(black, profile_n, solid), profile_n, solid)
    step, damping = 1e-3, 1e-4
    for _ in range(0 if inks == "ideal" else 40):
        value = encoded(cmy)
        residual = value - target
        jacobian = np.stack(
            [(encoded(cmy + step * np.eye(3)[k]) - value) / step for k in range(3)], axis=2
        )  # N x 3 (colour) x 3 (ink)
        normal = np.einsum("nck,ncl->nkl", jacobian, jacobian) + damping * np.eye(3)
        delta = np.linalg.solve(normal, np.einsum("nck,nc->nk", jacobian, residual)[..., None])[..., 0]
        cmy = np.clip(cmy - delta, 0.0, 1.0)
    table = np.concatenate([cmy, black], axis=1).reshape(grid, grid, grid, 4).astype(np.float32)
    table.setflags(write=False)
    return table


def _ideal_coverage(linear: np.ndarray, gained_black: np.ndarray, n: float, solid: float) -> np.ndarray:
    """Nominal C, M, Y coverages that print ``linear`` (``N x 3``) with ideal inks over ``gained_black``:
    ``linear_c = (1 - g(C_c)) (1 - g(K))`` per channel, ``g`` the Yule-Nielsen gain, inverted."""
    gained = np.clip(1.0 - linear / np.maximum(1.0 - gained_black, 1e-6), 0.0, 1.0)
    reflectance = 1.0 - gained * (1.0 - solid)
    return np.clip((1.0 - reflectance ** (1.0 / n)) / (1.0 - solid ** (1.0 / n)), 0.0, 1.0)


def gcr_separation(
    rgb: np.ndarray, gcr: float = 0.7, profile_n: float = 1.8, solid: float = 0.03, inks: str = "process"
) -> np.ndarray:
    """Nominal CMYK coverages ``H x W x 4`` of an sRGB image ``H x W x 3``: the :func:`separation_table`
    interpolated trilinearly.

    Distinct by design from :func:`deep_halftoning.halftone.color.rgb_to_cmyk`: that one inverts the ideal
    subtractive inks; this one inverts this module's print (Neugebauer overprints, Yule-Nielsen dot gain, a
    GCR black curve), as a colour-managed press would. Without it the row would measure the print's colour
    error rather than descreening.
    """
    if not 0.0 <= gcr <= 1.0:
        raise ValueError(f"gcr must be in [0, 1], got {gcr}")
    table = separation_table(float(gcr), float(profile_n), float(solid), inks=inks)
    grid = table.shape[0]
    coords = np.clip(np.asarray(rgb, np.float32), 0.0, 1.0).reshape(-1, 3).T * np.float32(grid - 1)
    planes = [map_coordinates(table[..., k], coords, order=1, mode="nearest") for k in range(4)]
    return np.clip(np.stack(planes, axis=-1), 0.0, 1.0).reshape(*rgb.shape[:-1], 4).astype(np.float32)


def yule_nielsen_gain(coverage: np.ndarray, n: float = 1.8, solid: float = 0.03) -> np.ndarray:
    """Effective (Murray-Davies-equivalent) coverage of a dot printed at ``coverage``.

    A Yule-Nielsen print of a solid of reflectance ``solid`` reflects ``R = ((1 - c) + c solid^(1/n))^n``; the
    coverage a Murray-Davies print would need for the same ``R`` is ``(1 - R) / (1 - solid)``. With ``n = 1.8``
    and ``solid = 0.03`` that is +15.5 % at 50 % and none at 0 and 100 % (``n = 1``: no gain).
    """
    if n < 1.0 or not 0.0 <= solid < 1.0:
        raise ValueError(f"need n >= 1 and solid in [0, 1), got n={n}, solid={solid}")
    c = np.clip(np.asarray(coverage, np.float64), 0.0, 1.0)
    reflectance = ((1.0 - c) + c * solid ** (1.0 / n)) ** n
    return np.clip((1.0 - reflectance) / (1.0 - solid), 0.0, 1.0).astype(np.float32)


def diamond_spot(tu: np.ndarray, tv: np.ndarray) -> np.ndarray:
    """The diamond spot function ``|u| + |v|`` at cell coordinates in [-0.5, 0.5); dots grow from 0."""
    return np.abs(tu) + np.abs(tv)


def diamond_level(coverage: np.ndarray) -> np.ndarray:
    """The level ``L`` at which ``spot < L`` covers ``coverage`` of a cell (the spot's exact distribution).

    ``|u| + |v| < L`` covers ``2 L^2`` of the unit cell for ``L <= 1/2`` and ``1 - 2 (1 - L)^2`` above.
    Full coverage maps past the cell's corners (``L = 1`` is reached only there).
    """
    c = np.clip(np.asarray(coverage, np.float32), 0.0, 1.0)
    low = np.sqrt(c / 2.0)
    high = 1.0 - np.sqrt((1.0 - c) / 2.0)
    return np.where(c >= 1.0, np.float32(1.5), np.where(c <= 0.5, low, high)).astype(np.float32)


def screen_period(lpi: float, dpi: float) -> float:
    """Cell size in print pixels for a ruling of ``lpi`` at ``dpi``."""
    if lpi <= 0 or dpi <= 0 or dpi < lpi:
        raise ValueError(f"need 0 < lpi <= dpi, got lpi={lpi}, dpi={dpi}")
    return dpi / lpi


def stratum_jitter(rows: np.ndarray, cols: np.ndarray, salt: int) -> np.ndarray:
    """A fixed pseudo-random offset in [0, 1) for every sub-sample ``(rows[:, None], cols[None, :])``.

    A splitmix64-style integer hash of the sub-sample's global coordinates: the same for every call, every
    chunking of the rows and every ink, so it is a property of the paper, not a random draw.
    """
    with np.errstate(over="ignore"):
        key = rows.astype(np.uint64)[:, None] * np.uint64(0x9E3779B97F4A7C15)
        key = key ^ (cols.astype(np.uint64)[None, :] * np.uint64(0xC2B2AE3D27D4EB4F)) ^ np.uint64(salt)
        key = (key ^ (key >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        key = (key ^ (key >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        key = key ^ (key >> np.uint64(31))
    return (key >> np.uint64(40)).astype(np.float64) / float(1 << 24)


def plates(
    levels: np.ndarray,
    angles: Sequence[float],
    period: float,
    supersample: int,
    row0: int = 0,
    offsets: Sequence[tuple[float, float]] = PLATE_OFFSETS,
) -> np.ndarray:
    """Neugebauer primary index (uint8, ``h s x w s``) of every sub-sample of print rows ``row0 ...``.

    ``levels`` (``h x w x K``) are per-pixel :func:`diamond_level` s; ink ``k``'s plate is inked where the
    diamond spot of its screen (``angles[k]`` degrees counter-clockwise as seen, cell ``period`` pixels, cell
    centres on the lattice through ``offsets[k]`` cells from the origin) is below its level, and sets bit ``k``
    of the index. Each pixel
    is sampled on a jittered ``s x s`` grid (one :func:`stratum_jitter` point per stratum, shared by the inks):
    a regular grid would meet a screen at a rational angle (Y at 0 degrees: 16 x 16 identical samples per
    cell) at the same few spot values in every cell and quantise its tone by several per cent.
    """
    h, w, inks = levels.shape
    s = int(supersample)
    rows, cols = np.arange(row0 * s, (row0 + h) * s), np.arange(w * s)
    x = (cols[None, :] + stratum_jitter(rows, cols, 1)) / s
    y = (rows[:, None] + stratum_jitter(rows, cols, 2)) / s
    index = np.zeros((h * s, w * s), np.uint8)
    for ink in range(inks):
        theta = math.radians(float(angles[ink]))
        cos, sin = math.cos(theta) / period, math.sin(theta) / period
        # Image rows grow downwards (y = -up), so the screen axes (cos, sin) and (-sin, cos) as seen give:
        u = (x * cos - y * sin + offsets[ink][0]).astype(np.float32)
        v = (-x * sin - y * cos + offsets[ink][1]).astype(np.float32)
        spot = diamond_spot(u - np.round(u), v - np.round(v))
        level = np.repeat(np.repeat(levels[..., ink], s, axis=0), s, axis=1)
        index |= (spot < level).astype(np.uint8) << ink
    return index


def render_print(
    coverage: np.ndarray,
    *,
    angles: Sequence[float] = CLASSIC_ANGLES,
    period: float = 4.0,
    supersample: int = 4,
    offsets: Sequence[tuple[float, float]] = PLATE_OFFSETS,
    yule_nielsen_n: float = 1.8,
    solid: float = 0.03,
    inks: str = "process",
    chunk_samples: int = 1 << 21,
) -> np.ndarray:
    """Linear-light reflectance ``H x W x 3`` (float32) of printing nominal coverages ``H x W x 4`` (C, M, Y, K).

    Dots are grown by :func:`yule_nielsen_gain`, thresholded on the diamond spot per sub-sample
    (:func:`plates`), coloured by their Neugebauer primary and area-averaged over each pixel's ``s x s``
    sub-samples (the per-pixel histogram of primaries times their reflectances), in row chunks of about
    ``chunk_samples`` sub-samples.
    """
    if coverage.ndim != 3 or coverage.shape[2] != 4 or len(angles) != 4 or len(offsets) != 4:
        raise ValueError(f"need H x W x 4 coverages and 4 angles and offsets, got {coverage.shape}")
    if supersample < 1:
        raise ValueError(f"supersample must be >= 1, got {supersample}")
    h, w, _ = coverage.shape
    s = int(supersample)
    levels = diamond_level(yule_nielsen_gain(coverage, yule_nielsen_n, solid))
    primaries = neugebauer_primaries(inks).astype(np.float64)
    rows = max(1, chunk_samples // (w * s * s))
    out = np.empty((h, w, 3), np.float32)
    for start in range(0, h, rows):
        stop = min(h, start + rows)
        index = plates(levels[start:stop], angles, period, s, row0=start, offsets=offsets)
        n = (stop - start) * w
        pixel = (np.arange(stop - start)[:, None, None, None] * w + np.arange(w)[None, None, :, None]).astype(np.int64)
        keys = pixel * 16 + index.reshape(stop - start, s, w, s)
        counts = np.bincount(keys.ravel(), minlength=n * 16).reshape(n, 16)
        out[start:stop] = ((counts @ primaries) / (s * s)).reshape(stop - start, w, 3)
    return out


def xgen_am(
    rgb: np.ndarray,
    seed: int = 0,
    *,
    lpi: float = 150.0,
    dpi: float = 600.0,
    angles: Sequence[float] = CLASSIC_ANGLES,
    offsets: Sequence[tuple[float, float]] = PLATE_OFFSETS,
    supersample: int = 4,
    gcr: float = 0.7,
    yule_nielsen_n: float = 1.8,
    profile_n: float = 1.8,
    solid: float = 0.03,
    scan_scale: float = 1.25,
    blur_sigma: float = 0.7,
    noise_sigma: float = 0.01,
    inks: str = "process",
) -> np.ndarray:
    """Print ``rgb`` (float ``H x W x 3`` sRGB in [0, 1], or ``H x W`` grey) with the cross-generator AM model
    and scan it back: float32 ``H x W x 3`` in [0, 1], the input's size.

    The photo is resized to ``scan_scale`` times its size (the print grid, at ``dpi``), separated
    (:func:`gcr_separation`, with a profile made for a press of dot gain ``profile_n``), printed
    (:func:`render_print`, period ``dpi / lpi`` print pixels), blurred by
    ``blur_sigma`` output pixels in linear light, area-resampled to the photo's size, encoded to sRGB and
    given Gaussian sensor noise of ``noise_sigma`` from ``seed``. The press prints with Yule-Nielsen
    ``yule_nielsen_n`` (``1``: no dot gain); ``solid`` is the ink reflectance of the gain model.
    """
    image = np.asarray(rgb, np.float32)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 or H x W image, got shape {image.shape}")
    if scan_scale <= 0 or blur_sigma < 0 or noise_sigma < 0:
        raise ValueError("scan_scale must be > 0 and blur_sigma, noise_sigma >= 0")
    h, w = image.shape[:2]
    ph, pw = max(1, round(h * scan_scale)), max(1, round(w * scan_scale))
    photo = np.clip(image, 0.0, 1.0)
    if (ph, pw) != (h, w):
        photo = np.clip(cv2.resize(photo, (pw, ph), interpolation=cv2.INTER_CUBIC), 0.0, 1.0)
    reflectance = render_print(
        gcr_separation(photo, gcr, profile_n, solid, inks),
        angles=angles,
        period=screen_period(lpi, dpi),
        supersample=supersample,
        offsets=offsets,
        yule_nielsen_n=yule_nielsen_n,
        solid=solid,
        inks=inks,
    )
    if blur_sigma > 0:
        sigma = blur_sigma * ph / h
        reflectance = cv2.GaussianBlur(reflectance, (0, 0), sigmaX=sigma, borderType=cv2.BORDER_REFLECT_101)
    if (ph, pw) != (h, w):
        reflectance = cv2.resize(reflectance, (w, h), interpolation=cv2.INTER_AREA)
    scanned = linear_to_srgb(reflectance)
    if noise_sigma > 0:
        scanned = scanned + np.random.default_rng(seed).normal(0.0, noise_sigma, scanned.shape).astype(np.float32)
    return np.clip(scanned, 0.0, 1.0).astype(np.float32)
