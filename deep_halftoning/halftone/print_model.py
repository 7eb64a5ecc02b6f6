"""The print around an AM screen: tone curve (dot gain), plate misregistration, inks and paper.

Real prints differ from the ideal screen in ways a descreener should not rely on:
dots print larger or smaller than the film (dot gain), plates land a fraction of a
pixel apart (misregistration), process inks are not ideal filters and paper is
not white. :class:`PrintModel` draws one such print from a few amplitudes and a
seed; every amplitude at its neutral value gives the ideal print exactly.

- Tone curve: ink ``i``'s coverage becomes ``coverage ** gamma_i`` before screening,
  ``gamma_i = dot_gain * (1 + dot_gain_jitter * (2u - 1))``: below 1 the print is
  darker (dot gain), above 1 lighter. The screen applies it, as a RIP applies a
  transfer curve, to the levels it quantises coverage to (``am_screen(gammas=...)``).
- Misregistration: every plate moves by ``(dx, dy)``, each uniform in
  ``[-misregistration, misregistration]`` pixels, relative to the key plate (K
  stays put; with C, M, Y alone their mean offset is removed, so the print stays
  registered to the page).
- Inks: each ink's RGB transmittance goes from the ideal filter (cyan ``(0, 1, 1)``,
  magenta ``(1, 0, 1)``, yellow ``(1, 1, 0)``, black ``(0, 0, 0)``) towards a draw from
  :data:`INK_RANGES` in proportion ``ink_jitter``; ``ink_density`` scales every
  ink's absorption ``1 - t`` (clipped to [0, 1]).
- Paper: each RGB channel of the paper is ``1 - paper * w`` with ``w`` in [0, 1],
  drawn around a random brightness with a warm (red up, blue down) or cool tilt.

Rendering (:func:`render`) uses the area-averaged coverage of each ink with the
Demichel independence assumption: within a pixel the inks' dots overlap as if at
random, so its reflectance is ``paper * prod_i (1 - coverage_i * (1 - t_i))``. That
is exact where a pixel is wholly inked or not (a binary plate) and an approximation
inside a supersampled pixel; the screening kernel's own exact per-sub-sample
rendering is kept whenever the inks are ideal on white paper. (Deliberately not a
Neugebauer-primaries or Yule-Nielsen model, nor a diamond spot: those make the
rendering family held out of training for cross-generator evaluation.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .color import LUMA

#: Ideal RGB transmittance of C, M, Y and K: each ink absorbs only its own third of the spectrum.
IDEAL_INKS = np.array([[0.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]], np.float32)
#: ``(low, high)`` RGB transmittance of each real ink at ``ink_jitter = 1`` (process inks
#: on coated paper: cyan passes some red and loses green, magenta loses blue, ...).
#: Black's channels share one draw in [0, 0.2] plus a tint of up to +-0.03 each.
INK_RANGES = np.array(
    [
        [[0.0, 0.25], [0.55, 0.75], [0.85, 1.0]],  # cyan
        [[0.85, 1.0], [0.0, 0.25], [0.35, 0.65]],  # magenta
        [[0.95, 1.0], [0.85, 1.0], [0.0, 0.15]],  # yellow
    ],
    np.float32,
)
BLACK_RANGE = (0.0, 0.2)
BLACK_TINT = 0.03
#: Paper: how far each channel's darkening may tilt from the mean (warm or cool).
PAPER_TILT = 0.4

#: Parameter limits (the catalogue validates against these).
DOT_GAIN_RANGE = (0.25, 4.0)
MAX_DOT_GAIN_JITTER = 0.5
MAX_MISREGISTRATION = 2.0
DENSITY_RANGE = (0.5, 1.5)
MAX_PAPER = 0.25

# Layout of the one vector of uniform draws a print is made from: each quantity always reads
# the same draws, so changing one amplitude never changes what the others draw.
_GAMMA, _INK, _BLACK, _PAPER, _OFFSET, _DRAWS = 0, 4, 13, 17, 21, 29


def _unit(x: np.ndarray) -> np.ndarray:
    """``x`` clipped to [0, 1] (the ufuncs: ``np.clip``'s wrapper costs more than these tiny arrays)."""
    return np.minimum(np.maximum(x, 0.0), 1.0)


def _ink_rows(n_inks: int) -> list[int]:
    """Which of C, M, Y, K (0..3) the inks are: all four, C, M, Y, or K alone."""
    return {4: [0, 1, 2, 3], 3: [0, 1, 2], 1: [3]}[n_inks]


@dataclass(frozen=True)
class PrintModel:
    """One print: per-ink tone-curve exponents, plate offsets, ink transmittances and paper.

    ``transmittance`` is ``K x C`` and ``paper`` ``C`` for ``C`` output channels (3, or
    1 for a grey print, where the inks' and paper's luma is used). ``ideal`` says the
    inks are the ideal filters on white paper, where the screen's own exact rendering
    of the sub-samples applies instead of :func:`render`.
    """

    gammas: np.ndarray
    offsets: np.ndarray
    transmittance: np.ndarray
    paper: np.ndarray
    ideal: bool = False

    @classmethod
    def draw(
        cls,
        n_inks: int,
        *,
        dot_gain: float = 1.0,
        dot_gain_jitter: float = 0.0,
        misregistration: float = 0.0,
        ink_jitter: float = 0.0,
        ink_density: float = 1.0,
        paper: float = 0.0,
        seed: int = 0,
    ) -> PrintModel:
        """The print of ``n_inks`` inks (4: CMYK, 3: CMY, 1: K) for these amplitudes (see the module)."""
        rows = _ink_rows(n_inks)
        neutral = (dot_gain_jitter, misregistration, ink_jitter, ink_density, paper) == (0, 0, 0, 1, 0)
        u = np.zeros(_DRAWS) if neutral else np.random.default_rng(int(seed) & (2**63 - 1)).random(_DRAWS)

        gammas = dot_gain * (1.0 + dot_gain_jitter * (2.0 * u[_GAMMA : _GAMMA + 4] - 1.0))

        offsets = misregistration * (2.0 * u[_OFFSET : _OFFSET + 8].reshape(4, 2) - 1.0)
        offsets = offsets[rows]
        if n_inks == 3:
            offsets = offsets - offsets.mean(axis=0)
        else:
            offsets[-1] = 0.0  # the key plate: the others register to it

        low, high = INK_RANGES[..., 0], INK_RANGES[..., 1]
        real = np.empty((4, 3))
        real[:3] = low + (high - low) * u[_INK : _INK + 9].reshape(3, 3)
        black = BLACK_RANGE[0] + (BLACK_RANGE[1] - BLACK_RANGE[0]) * u[_BLACK]
        real[3] = _unit(black + BLACK_TINT * (2.0 * u[_BLACK + 1 : _BLACK + 4] - 1.0))
        inks = IDEAL_INKS + ink_jitter * (real - IDEAL_INKS)
        inks = _unit(1.0 - ink_density * (1.0 - inks))[rows]

        base, tilt = 0.2 + 0.8 * u[_PAPER], PAPER_TILT * (2.0 * u[_PAPER + 1] - 1.0)
        darkening = _unit(base + tilt * np.array([-1.0, 0.0, 1.0]))  # warm: red up, blue down
        paper_rgb = 1.0 - paper * darkening
        if n_inks == 1:
            inks, paper_rgb = inks @ LUMA.astype(np.float64)[:, None], paper_rgb[None] @ LUMA.astype(np.float64)
        ideal = ink_jitter == 0 and ink_density == 1 and paper == 0
        return cls(gammas[rows], offsets, inks.astype(np.float32), paper_rgb.astype(np.float32), ideal)

    @property
    def linear_tone(self) -> bool:
        return bool(np.all(self.gammas == 1.0))

    @property
    def registered(self) -> bool:
        return not self.offsets.any()

    def render(self, coverage: np.ndarray) -> np.ndarray:
        """Reflectance ``H x W x C`` of area-averaged ``H x W x K`` coverage (see :func:`render`)."""
        return render(coverage, self.transmittance, self.paper)


def render(coverage: np.ndarray, transmittance: np.ndarray, paper: np.ndarray) -> np.ndarray:
    """``paper * prod_i (1 - coverage_i * (1 - transmittance_i))`` per channel (Demichel: the inks'
    dots overlap independently). ``coverage`` ``H x W x K``, ``transmittance`` ``K x C``,
    ``paper`` ``C``; returns float32 ``H x W x C``."""
    coverage = np.ascontiguousarray(coverage, np.float32)
    transmittance = np.asarray(transmittance, np.float32)
    if coverage.ndim != 3 or transmittance.shape[0] != coverage.shape[2]:
        raise ValueError(f"need one transmittance row per ink: {coverage.shape} vs {transmittance.shape}")
    absorption = np.ascontiguousarray(np.float32(1.0) - transmittance)
    paper = np.ascontiguousarray(paper, np.float32).reshape(transmittance.shape[1])
    out = np.empty((*coverage.shape[:2], transmittance.shape[1]), np.float32)
    _render(coverage, absorption, paper, out)
    return out


@njit(cache=True, nogil=True, boundscheck=False)
def _render(coverage, absorption, paper, out):  # pragma: no cover - compiled
    """One channel at a time over all pixels, one ink at a time: contiguous, vectorised loops."""
    height, width, n_inks = coverage.shape
    n_out = out.shape[2]
    pixels = coverage.reshape(height * width, n_inks)
    flat = out.reshape(height * width, n_out)
    one = np.float32(1.0)
    for c in range(n_out):
        flat[:, c] = paper[c]
        for k in range(n_inks):
            a = absorption[k, c]
            for p in range(height * width):
                flat[p, c] *= one - pixels[p, k] * a
