"""Is int8 free for the shipped descreener? Post-training quantisation with NNCF, variants measured side by side.

The shipped fidelity pipeline, exported as the OpenVINO backend serves it, is quantised with NNCF
(:func:`deep_halftoning.inference.quantize.quantize_int8`; ``preset`` MIXED: symmetric weights, asymmetric
activations, unless a variant says otherwise) on halftones of the *training* photos (Floyd-Steinberg,
Jarvis, Bayer-8 and AM crops), once per variant: everything in int8, or some layers kept in float (a
network, the first and last convolution of DetailsNet, every addition, or the two additions that make
the output image). Then, in one run: PSNR on the held-out photos' crops for each default row of
``experiments/evaluate.py``, each variant minus OpenVINO bf16 (mean, and the worst photo), and seconds per
512 x 512 tile for OpenVINO bf16, every variant and PyTorch's bf16 autocast, taking turns in every
round. A variant is free if it costs at most 0.1 dB (mean) on every row. Needs NNCF
(``pip install -e ".[quantize]"``).

    python experiments/int8_study.py [--photos 16] [--calibration 2] [--repeats 8]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

RESULTS = Path(__file__).resolve().parent / "results" / "int8.md"
#: name -> keyword arguments of ``quantize_int8`` (what it keeps in float, how it calibrates), and ``side``:
#: the calibration crops' side when not :data:`SIDE`
VARIANTS: dict[str, dict] = {
    "int8 everywhere": {},
    "CoarseNet float": {"keep_float": ["coarse"]},
    "EdgeNet float": {"keep_float": ["edge"]},
    "DetailsNet float": {"keep_float": ["details"]},
    "DetailsNet first and last conv float": {"keep_float": ["details.body.1", "details.body.11"]},
    "every addition float": {"float_types": ["Add"]},
    "output sums float": {"float_output": True},
    "output sums float, full bias correction": {"float_output": True, "fast_bias_correction": False},
    "output sums float, preset performance": {"float_output": True, "preset": "performance"},
    "output sums float, 128 x 128 calibration crops": {"float_output": True, "side": 128},
    "output sums float, 384 x 384 calibration crops": {"float_output": True, "side": 384},
}
#: The calibration crops' side unless a variant says otherwise.
SIDE = 256
#: The bar: a variant may cost at most this much PSNR (dB, mean over photos) on every row.
BAR = -0.1
BF16, TORCH = "openvino bf16", "torch bf16 autocast"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=16, help="held-out photos (crops of 384 x 512)")
    parser.add_argument("--calibration", type=int, default=2, help="crops per training photo and method")
    parser.add_argument("--repeats", type=int, default=8, help="timed rounds (every graph once per round)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    import nncf
    import openvino as ov

    from deep_halftoning.evaluation.quantization import calibration_set, held_out_pairs, row_psnr, tile_seconds
    from deep_halftoning.evaluation.rows import DEFAULT_ROWS
    from deep_halftoning.inference import load_pipeline, shipped_checkpoint
    from deep_halftoning.inference.export import cached_openvino_model
    from deep_halftoning.inference.quantize import quantize_int8
    from deep_halftoning.inference.runtime import TorchRuntime
    from deep_halftoning.io import write_text

    pipeline = load_pipeline(shipped_checkpoint())
    model, _ = cached_openvino_model(pipeline)
    calibrations: dict[int, list[np.ndarray]] = {}
    core = ov.Core()
    config = {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY"}
    graphs, quantise_seconds = {BF16: core.compile_model(model, "CPU", config)}, {}
    for name, options in VARIANTS.items():
        options = dict(options)
        side = options.pop("side", SIDE)
        if side not in calibrations:
            calibrations[side] = calibration_set(args.calibration, side)
        calibration = calibrations[side]
        start = time.perf_counter()
        graphs[name] = core.compile_model(quantize_int8(model, pipeline, calibration, **options), "CPU", config)
        quantise_seconds[name] = time.perf_counter() - start

    pairs = held_out_pairs(args.photos, DEFAULT_ROWS)
    reference = row_psnr(graphs[BF16], pairs)
    differences = {}
    for name in VARIANTS:
        scores = row_psnr(graphs[name], pairs)
        differences[name] = {row: scores[row] - reference[row] for row in DEFAULT_ROWS}
        print(name, " ".join(f"{row} {d.mean():+.3f}" for row, d in differences[name].items()))

    torch_bf16 = TorchRuntime(pipeline, torch.device("cpu"), "bf16")
    timed = {**graphs, TORCH: lambda inputs: [torch_bf16(torch.from_numpy(inputs[0])).numpy()]}
    tile = (np.random.default_rng(1).random((1, 3, 512, 512)) > 0.5).astype(np.float32)
    seconds = tile_seconds(timed, tile, args.repeats)
    speed_up = {name: float(np.median(seconds[BF16] / s)) for name, s in seconds.items()}

    free = sorted(
        (name for name in VARIANTS if all(d.mean() >= BAR for d in differences[name].values())),
        key=speed_up.get,
        reverse=True,
    )
    command = f"python experiments/int8_study.py --photos {args.photos} --calibration {args.calibration}"
    lines = [
        "# int8 post-training quantisation of the shipped descreener",
        "",
        f"NNCF {nncf.__version__} on {len(calibrations[SIDE])} halftone crops ({SIDE} x {SIDE} unless a variant "
        "says otherwise) of the training photos, "
        f"OpenVINO {ov.__version__}, {os.cpu_count()} CPU cores shared with other work. Produced by "
        f"`{command} --repeats {args.repeats}`.",
        "",
        f"PSNR of each variant minus OpenVINO bf16 (dB, mean over {args.photos} held-out photos, 384 x 512 "
        "crops) per default row of `experiments/evaluate.py`, the worst single photo of any row, and seconds "
        f"per 512 x 512 tile: the median of {args.repeats} rounds in which every graph ran once in turn; the "
        "speed-up is the median of the rounds' ratios to OpenVINO bf16. The cores are shared, so seconds vary "
        "from run to run; ratios taken in the same rounds are what to compare (the same variant's ratio "
        "varied by about 0.1x between runs of this study). Every variant's remaining layers run in bf16.",
        "",
        "| variant | " + " | ".join(DEFAULT_ROWS) + " | worst photo | s / tile | vs openvino bf16 | quantised in |",
        "|---|" + "---:|" * (len(DEFAULT_ROWS) + 4),
        *(
            f"| {name} | "
            + " | ".join(_cell(d.mean()) for d in differences[name].values())
            + f" | {min(d.min() for d in differences[name].values()):+.3f} | {np.median(seconds[name]):.3f} | "
            f"{speed_up[name]:.2f}x | {quantise_seconds[name]:.0f} s |"
            for name in VARIANTS
        ),
        f"| {BF16} (the reference) | " + " | ".join("0" for _ in DEFAULT_ROWS) + f" | 0 | "
        f"{np.median(seconds[BF16]):.3f} | 1.00x | |",
        f"| {TORCH} | " + " | ".join("" for _ in DEFAULT_ROWS) + f" | | {np.median(seconds[TORCH]):.3f} | "
        f"{speed_up[TORCH]:.2f}x | |",
        "",
        "Bold: more than 0.1 dB lost on that row.",
        "",
        "Verdict: "
        + (
            f"{len(free)} of {len(VARIANTS)} variants cost at most 0.1 dB on every row; by speed-up: "
            + "; ".join(
                f"{name} ({speed_up[name]:.2f}x, worst row {min(d.mean() for d in differences[name].values()):+.3f} dB)"
                for name in free
            )
            + "."
            if free
            else "every variant costs more than 0.1 dB on some row: int8 is not shipped."
        ),
    ]
    write_text(args.out, "\n".join([*lines, ""]))
    print(f"wrote {args.out}")


def _cell(difference: float) -> str:
    """A PSNR difference, bold when it misses the bar."""
    return f"**{difference:+.3f}**" if difference < BAR else f"{difference:+.3f}"


if __name__ == "__main__":
    main()
