"""Error diffusion: fixed kernels, variable coefficients, threshold modulation.

Every function takes one channel, an ``H x W`` float32 array in [0, 1], and
returns a binary float32 array of the same shape (1 where the value is "on").
Serpentine scanning mirrors the kernel on odd rows.

Threshold noise: with ``threshold_noise = a > 0`` every pixel's threshold is
``0.5 + a * (2u - 1)``, ``u`` uniform in [0, 1) from a seeded SplitMix64 stream
drawn in scan order, one value per pixel (the error is still ``value - output``,
so tone is kept). ``a = 0`` takes the kernels' noise-free specialisations: the
noise arguments are left out of the call, numba compiles them as constants and
the code, and so every decision, is that of the kernels without noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "boundscheck": False}


@dataclass(frozen=True)
class DiffusionKernel:
    """Error weights as ``(dy, dx, weight)`` taps, divided by ``divisor``.

    ``divisor`` may exceed the sum of the weights (Atkinson spreads 6/8).
    """

    taps: tuple[tuple[int, int, int], ...]
    divisor: int

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dy, dx, w = zip(*self.taps, strict=True)
        return (
            np.asarray(dy, np.int64),
            np.asarray(dx, np.int64),
            np.asarray(w, np.float32) / np.float32(self.divisor),
        )


def _rows(*rows: tuple[int, dict[int, int]]) -> tuple[tuple[int, int, int], ...]:
    return tuple((dy, dx, w) for dy, row in rows for dx, w in sorted(row.items()))


KERNELS: dict[str, DiffusionKernel] = {
    "floyd-steinberg": DiffusionKernel(_rows((0, {1: 7}), (1, {-1: 3, 0: 5, 1: 1})), 16),
    "jarvis-judice-ninke": DiffusionKernel(
        _rows(
            (0, {1: 7, 2: 5}),
            (1, {-2: 3, -1: 5, 0: 7, 1: 5, 2: 3}),
            (2, {-2: 1, -1: 3, 0: 5, 1: 3, 2: 1}),
        ),
        48,
    ),
    "stucki": DiffusionKernel(
        _rows(
            (0, {1: 8, 2: 4}),
            (1, {-2: 2, -1: 4, 0: 8, 1: 4, 2: 2}),
            (2, {-2: 1, -1: 2, 0: 4, 1: 2, 2: 1}),
        ),
        42,
    ),
    "burkes": DiffusionKernel(_rows((0, {1: 8, 2: 4}), (1, {-2: 2, -1: 4, 0: 8, 1: 4, 2: 2})), 32),
    "sierra-3": DiffusionKernel(
        _rows((0, {1: 5, 2: 3}), (1, {-2: 2, -1: 4, 0: 5, 1: 4, 2: 2}), (2, {-1: 2, 0: 3, 1: 2})),
        32,
    ),
    "sierra-2": DiffusionKernel(_rows((0, {1: 4, 2: 3}), (1, {-2: 1, -1: 2, 0: 3, 1: 2, 2: 1})), 16),
    "sierra-lite": DiffusionKernel(_rows((0, {1: 2}), (1, {-1: 1, 0: 1})), 4),
    "atkinson": DiffusionKernel(_rows((0, {1: 1, 2: 1}), (1, {-1: 1, 0: 1, 1: 1}), (2, {0: 1})), 8),
    "shiau-fan": DiffusionKernel(_rows((0, {1: 4}), (1, {-2: 1, -1: 1, 0: 2})), 8),
    "shiau-fan-2": DiffusionKernel(_rows((0, {1: 8}), (1, {-3: 1, -2: 1, -1: 2, 0: 4})), 16),
    "stevenson-arce": DiffusionKernel(
        _rows(
            (0, {2: 32}),
            (1, {-3: 12, -1: 26, 1: 30, 3: 16}),
            (2, {-2: 12, 0: 26, 2: 12}),
            (3, {-3: 5, -1: 12, 1: 12, 3: 5}),
        ),
        200,
    ),
}

# Ostromoukhov (SIGGRAPH 2001), table 1: (right, down-left, down) weights for
# input levels 0..127; levels 128..255 mirror them.
# fmt: off
_OSTROMOUKHOV = (
    (13, 0, 5), (13, 0, 5), (21, 0, 10), (7, 0, 4), (8, 0, 5), (47, 3, 28), (23, 3, 13), (15, 3, 8),
    (22, 6, 11), (43, 15, 20), (7, 3, 3), (501, 224, 211), (249, 116, 103), (165, 80, 67),
    (123, 62, 49), (489, 256, 191), (81, 44, 31), (483, 272, 181), (60, 35, 22), (53, 32, 19),
    (237, 148, 83), (471, 304, 161), (3, 2, 1), (481, 314, 185), (354, 226, 155), (1389, 866, 685),
    (227, 138, 125), (267, 158, 163), (327, 188, 220), (61, 34, 45), (627, 338, 505),
    (1227, 638, 1075), (20, 10, 19), (1937, 1000, 1767), (977, 520, 855), (657, 360, 551),
    (71, 40, 57), (2005, 1160, 1539), (337, 200, 247), (2039, 1240, 1425), (257, 160, 171),
    (691, 440, 437), (1045, 680, 627), (301, 200, 171), (177, 120, 95), (2141, 1480, 1083),
    (1079, 760, 513), (725, 520, 323), (137, 100, 57), (2209, 1640, 855), (53, 40, 19),
    (2243, 1720, 741), (565, 440, 171), (759, 600, 209), (1147, 920, 285), (2311, 1880, 513),
    (97, 80, 19), (335, 280, 57), (1181, 1000, 171), (793, 680, 95), (599, 520, 57),
    (2413, 2120, 171), (405, 360, 19), (2447, 2200, 57), (11, 10, 0), (158, 151, 3), (178, 179, 7),
    (1030, 1091, 63), (248, 277, 21), (318, 375, 35), (458, 571, 63), (878, 1159, 147), (5, 7, 1),
    (172, 181, 37), (97, 76, 22), (72, 41, 17), (119, 47, 29), (4, 1, 1), (4, 1, 1), (4, 1, 1),
    (4, 1, 1), (4, 1, 1), (4, 1, 1), (4, 1, 1), (4, 1, 1), (4, 1, 1), (65, 18, 17), (95, 29, 26),
    (185, 62, 53), (30, 11, 9), (35, 14, 11), (85, 37, 28), (55, 26, 19), (80, 41, 29),
    (155, 86, 59), (5, 3, 2), (5, 3, 2), (5, 3, 2), (5, 3, 2), (5, 3, 2), (5, 3, 2), (5, 3, 2),
    (5, 3, 2), (5, 3, 2), (5, 3, 2), (5, 3, 2), (5, 3, 2),
    (5, 3, 2), (305, 176, 119), (155, 86, 59),
    (105, 56, 39), (80, 41, 29), (65, 32, 23), (55, 26, 19), (335, 152, 113), (85, 37, 28),
    (115, 48, 37), (35, 14, 11), (355, 136, 109), (30, 11, 9), (365, 128, 107), (185, 62, 53),
    (25, 8, 7), (95, 29, 26), (385, 112, 103), (65, 18, 17), (395, 104, 101), (4, 1, 1),
)

# Zhou & Fang (SIGGRAPH 2003): key levels of the (right, down-left, down)
# weights and of the threshold-modulation strength, linearly interpolated.
_ZHOU_FANG_KEYS = {
    0: (13, 0, 5), 1: (1300249, 0, 499250), 2: (214114, 287, 99357), 3: (351854, 0, 199965),
    4: (801100, 0, 490999), 10: (704075, 297466, 303694), 22: (46613, 31917, 21469),
    32: (47482, 30617, 21900), 44: (43024, 42131, 14826), 64: (36411, 43219, 20369),
    72: (38477, 53843, 7678), 77: (40503, 51547, 7948), 85: (35865, 34108, 30026),
    95: (34117, 36899, 28983), 102: (35132, 36059, 28807), 107: (16477, 18810, 14712),
    112: (33360, 37954, 28685), 127: (35269, 36066, 28664),
}
# fmt: on
_ZHOU_FANG_STRENGTH_KEYS = {
    0: 0.0,
    44: 0.34,
    64: 0.50,
    80: 1.0,
    85: 1.0,
    95: 0.17,
    102: 0.50,
    107: 0.70,
    112: 0.79,
    127: 1.0,
}


def _mirror_to_256(half: np.ndarray) -> np.ndarray:
    """Extend a table over levels 0..127 to 0..255 by symmetry about mid-grey."""
    return np.concatenate([half, half[::-1]]).astype(np.float32)


def _normalised(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, np.float64)
    return rows / rows.sum(axis=-1, keepdims=True)


def ostromoukhov_table() -> np.ndarray:
    """256 x 3 normalised (right, down-left, down) weights of Ostromoukhov's method."""
    return _mirror_to_256(_normalised(np.array(_OSTROMOUKHOV)))


def _interpolate_keys(keys: dict[int, object]) -> np.ndarray:
    levels = np.array(sorted(keys))
    values = np.array([keys[k] for k in levels], np.float64)
    grid = np.arange(128)
    if values.ndim == 1:
        return np.interp(grid, levels, values)
    return np.stack([np.interp(grid, levels, column) for column in values.T], axis=-1)


def zhou_fang_tables() -> tuple[np.ndarray, np.ndarray]:
    """256 x 3 weights and 256 threshold-modulation strengths of Zhou & Fang's method."""
    weights = _interpolate_keys({k: _normalised(np.array(v)) for k, v in _ZHOU_FANG_KEYS.items()})
    strength = _interpolate_keys(_ZHOU_FANG_STRENGTH_KEYS)
    return _mirror_to_256(_normalised(weights)), _mirror_to_256(strength)


@njit(**_JIT)
def _splitmix(state):  # pragma: no cover - compiled
    state = (state + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@njit(**_JIT, inline="always")
def _uniform24(state):  # pragma: no cover - compiled
    """The next SplitMix64 draw as an integer in [0, 2**24): ``(state, r)``."""
    state, bits = _splitmix(state)
    return state, np.int64(bits >> np.uint64(40))


@njit(**_JIT, inline="always")
def _noisy_threshold(noise, r):  # pragma: no cover - compiled
    """``0.5 + noise * (2u - 1)`` in float32 for ``u = r / 2**24``."""
    u = np.float32(r) * np.float32(2.0**-24)
    return np.float32(0.5) + np.float32(noise) * (np.float32(2.0) * u - np.float32(1.0))


@njit(**_JIT)
def _floyd_steinberg(plane, out, serpentine, amplitude=0, seed=0):  # pragma: no cover - compiled
    """Floyd-Steinberg in 12-bit fixed point with one row of error (the fast path).

    A level is ``round(value * 4080)``; error weights are summed in sixteenths and
    divided once, with rounding, when a pixel consumes them. ``amplitude`` is the
    threshold noise in the same units (``round(a * 4080)``; see the module docstring).
    """
    height, width = plane.shape
    full = 4080
    half = 2040
    state = np.uint64(seed)
    threshold = half
    cur = np.zeros(width + 2, np.int32)
    nxt = np.zeros(width + 2, np.int32)
    for y in range(height):
        carry = 0  # 7 * error of the previous pixel
        lag1 = 0  # pending sum for the column behind the current one
        lag0 = 0  # pending sum for the current column
        if serpentine and (y & 1):
            for x in range(width - 1, -1, -1):
                v = np.int32(plane[y, x] * full + 0.5) + ((carry + cur[x + 1] + 8) >> 4)
                if amplitude:
                    state, r = _uniform24(state)
                    threshold = half + np.int32((amplitude * (2 * r - (1 << 24))) >> 24)
                if v >= threshold:
                    out[y, x] = 1.0
                    e = v - full
                else:
                    out[y, x] = 0.0
                    e = v
                nxt[x + 2] = lag1 + 3 * e
                lag1 = lag0 + 5 * e
                lag0 = e
                carry = 7 * e
            nxt[1] = lag1
            nxt[0] = lag0
        else:
            for x in range(width):
                v = np.int32(plane[y, x] * full + 0.5) + ((carry + cur[x + 1] + 8) >> 4)
                if amplitude:
                    state, r = _uniform24(state)
                    threshold = half + np.int32((amplitude * (2 * r - (1 << 24))) >> 24)
                if v >= threshold:
                    out[y, x] = 1.0
                    e = v - full
                else:
                    out[y, x] = 0.0
                    e = v
                nxt[x] = lag1 + 3 * e
                lag1 = lag0 + 5 * e
                lag0 = e
                carry = 7 * e
            nxt[width] = lag1
            nxt[width + 1] = lag0
        cur, nxt = nxt, cur
    return out


def window_weights(kernel: DiffusionKernel) -> np.ndarray | None:
    """The kernel's weights on rows 0-2 and columns -2..2 (``3 x 5`` float32, column ``dx + 2``), or
    ``None`` when a tap lies outside that window (then only the generic kernel applies)."""
    table = np.zeros((3, 5), np.float32)
    for dy, dx, weight in zip(*kernel.arrays(), strict=True):
        if not (0 <= dy <= 2 and -2 <= dx <= 2) or (dy == 0 and dx <= 0):
            return None
        table[dy, dx + 2] = weight
    return table


@njit(**_JIT)
def _diffuse_window(plane, out, w, serpentine, noise=0.0, seed=0):  # pragma: no cover - compiled
    """Any kernel inside a 3-row, 5-column window (``w``: float32 weights, column ``dx + 2``).

    The errors of the last five pixels stay in registers: the same row takes its share at
    once, and each row below gets the complete sum for one column per pixel (two behind the
    current one in scan order), so a pixel costs two row-buffer writes instead of one
    read-modify-write per tap. ``noise``: threshold noise amplitude (see the module docstring).
    """
    height, width = plane.shape
    cur = np.zeros(width + 4, np.float32)  # row y, with two guard columns on each side
    nxt = np.zeros(width + 4, np.float32)  # row y + 1
    far = np.zeros(width + 4, np.float32)  # row y + 2
    a3, a4 = w[0, 3], w[0, 4]
    b0, b1, b2, b3, b4 = w[1, 0], w[1, 1], w[1, 2], w[1, 3], w[1, 4]
    c0, c1, c2, c3, c4 = w[2, 0], w[2, 1], w[2, 2], w[2, 3], w[2, 4]
    one, zero, half = np.float32(1.0), np.float32(0.0), np.float32(0.5)
    state = np.uint64(seed)
    threshold = half
    for y in range(height):
        step = -1 if serpentine and (y & 1) == 1 else 1
        x = width - 1 if step < 0 else 0
        behind = 4 if step < 0 else 0  # buffer index of the column two pixels back: x -/+ 2, plus the guard
        e1 = e2 = e3 = e4 = zero  # errors 1..4 pixels back in scan order
        for p in range(width + 2):
            e0 = zero
            if p < width:
                v = plane[y, x] + cur[x + 2] + a3 * e1 + a4 * e2
                if noise:
                    state, r = _uniform24(state)
                    threshold = _noisy_threshold(noise, r)
                o = one if v >= threshold else zero
                out[y, x] = o
                e0 = v - o
            t = x + behind
            nxt[t] += b4 * e4 + b3 * e3 + b2 * e2 + b1 * e1 + b0 * e0
            far[t] += c4 * e4 + c3 * e3 + c2 * e2 + c1 * e1 + c0 * e0
            e4, e3, e2, e1 = e3, e2, e1, e0
            x += step
        cur, nxt, far = nxt, far, cur
        far[:] = zero
    return out


@njit(**_JIT)
def _diffuse(plane, out, dys, dxs, weights, serpentine, noise=0.0, seed=0):  # pragma: no cover - compiled
    """Any fixed kernel, in float32, with a ring buffer of error rows (``noise``: see the module docstring)."""
    height, width = plane.shape
    state = np.uint64(seed)
    threshold = np.float32(0.5)
    rows = dys.max() + 1
    pad = np.abs(dxs).max()
    stride = width + 2 * pad
    buf = np.zeros(rows * stride, np.float32)
    taps = weights.shape[0]
    offsets = np.empty(taps, np.int64)
    for y in range(height):
        reverse = serpentine and (y & 1) == 1
        sign = -1 if reverse else 1
        for k in range(taps):  # flat buffer offset of each tap, relative to the pixel
            offsets[k] = ((y + dys[k]) % rows) * stride + sign * dxs[k] + pad
        base = (y % rows) * stride + pad
        for i in range(width):
            x = width - 1 - i if reverse else i
            v = plane[y, x] + buf[base + x]
            if noise:
                state, r = _uniform24(state)
                threshold = _noisy_threshold(noise, r)
            o = np.float32(1.0) if v >= threshold else np.float32(0.0)
            out[y, x] = o
            e = v - o
            for k in range(taps):
                buf[offsets[k] + x] += e * weights[k]
        buf[base - pad : base - pad + stride] = 0.0
    return out


@njit(**_JIT)
def _diffuse_variable(plane, out, table, strength, serpentine, seed, noise=0.0):  # pragma: no cover
    """Three-tap diffusion whose weights (and threshold modulation) follow the input level.

    ``noise`` adds the level-independent threshold noise of the module docstring, drawn from
    the same stream after the modulation's draw.
    """
    height, width = plane.shape
    cur = np.zeros(width + 2, np.float32)
    nxt = np.zeros(width + 2, np.float32)
    state = np.uint64(seed)
    for y in range(height):
        reverse = serpentine and (y & 1) == 1
        sign = -1 if reverse else 1
        for i in range(width):
            x = width - 1 - i if reverse else i
            level = min(255, max(0, int(plane[y, x] * 255.0 + 0.5)))
            threshold = 0.5
            if strength[level] > 0.0:
                state, bits = _splitmix(state)
                threshold += 0.5 * strength[level] * ((bits >> np.uint64(11)) * (1.0 / 9007199254740992.0))
            if noise:
                state, r = _uniform24(state)
                threshold += _noisy_threshold(noise, r) - np.float32(0.5)
            v = plane[y, x] + cur[x + 1]
            o = np.float32(1.0) if v >= threshold else np.float32(0.0)
            out[y, x] = o
            e = v - o
            cur[x + 1 + sign] += e * table[level, 0]
            nxt[x + 1 - sign] += e * table[level, 1]
            nxt[x + 1] += e * table[level, 2]
        cur, nxt = nxt, cur
        nxt[:] = 0.0
    return out


def _prepare(plane: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    plane = np.ascontiguousarray(plane, dtype=np.float32)
    if plane.ndim != 2:
        raise ValueError(f"error diffusion works on one H x W channel, got shape {plane.shape}")
    return plane, np.empty_like(plane)


_WINDOW_WEIGHTS = {name: window_weights(kernel) for name, kernel in KERNELS.items()}


#: Largest threshold noise amplitude: thresholds stay within [0, 1].
MAX_THRESHOLD_NOISE = 0.5


def _noise_args(threshold_noise: float, seed: int) -> tuple:
    """Extra kernel arguments for threshold noise: none at all when it is off (the noise-free build)."""
    if not 0.0 <= threshold_noise <= MAX_THRESHOLD_NOISE:
        raise ValueError(f"threshold_noise must be in [0, {MAX_THRESHOLD_NOISE}], got {threshold_noise}")
    if threshold_noise == 0:
        return ()
    return float(threshold_noise), int(seed) & (2**63 - 1)


def error_diffusion(
    plane: np.ndarray,
    kernel: str = "floyd-steinberg",
    serpentine: bool = False,
    threshold_noise: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Binary halftone of one channel with a fixed error-diffusion kernel from :data:`KERNELS`.

    ``threshold_noise`` (amplitude in [0, 0.5], seeded by ``seed``) perturbs each pixel's
    threshold uniformly; 0 gives exactly the noise-free halftone.
    """
    if kernel not in KERNELS:
        raise ValueError(f"unknown error-diffusion kernel {kernel!r}; choose from {sorted(KERNELS)}")
    noise = _noise_args(threshold_noise, seed)
    plane, out = _prepare(plane)
    if kernel == "floyd-steinberg":
        if noise:
            noise = (round(noise[0] * 4080), noise[1])  # the fast path's fixed-point units
        return _floyd_steinberg(plane, out, bool(serpentine), *noise)
    window = _WINDOW_WEIGHTS[kernel]
    if window is not None:
        return _diffuse_window(plane, out, window, bool(serpentine), *noise)
    dys, dxs, weights = KERNELS[kernel].arrays()
    return _diffuse(plane, out, dys, dxs, weights, bool(serpentine), *noise)


_NO_MODULATION = np.zeros(256, np.float32)


def ostromoukhov(plane: np.ndarray, serpentine: bool = True, threshold_noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Ostromoukhov's variable-coefficient error diffusion (SIGGRAPH 2001), optionally with threshold noise."""
    noise = _noise_args(threshold_noise, seed)
    plane, out = _prepare(plane)
    seed = noise[1] if noise else 0
    return _diffuse_variable(plane, out, ostromoukhov_table(), _NO_MODULATION, bool(serpentine), seed, *noise[:1])


def zhou_fang(plane: np.ndarray, serpentine: bool = True, seed: int = 0, threshold_noise: float = 0.0) -> np.ndarray:
    """Zhou & Fang's variable coefficients with threshold modulation (SIGGRAPH 2003), seeded;
    ``threshold_noise`` adds level-independent noise on top of the modulation."""
    noise = _noise_args(threshold_noise, seed)
    plane, out = _prepare(plane)
    table, strength = zhou_fang_tables()
    return _diffuse_variable(plane, out, table, strength, bool(serpentine), int(seed) & (2**63 - 1), *noise[:1])
