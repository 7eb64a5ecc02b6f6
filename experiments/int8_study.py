"""Is int8 free for the shipped descreener? Post-training quantisation with NNCF, measured side by side.

The shipped fidelity pipeline, exported as the OpenVINO backend serves it, is quantised with
NNCF (``preset`` MIXED: symmetric weights, asymmetric activations) on halftones of the
*training* photos (Floyd-Steinberg, Jarvis, Bayer-8 and AM crops). Then, in one run: seconds
per 512 x 512 tile for OpenVINO bf16 and int8 (and PyTorch's bf16 autocast, the default
before), and PSNR on the held-out photos' crops for each halftone row of
``experiments/evaluate.py``, int8 minus bf16 (mean, and the worst photo). int8 ships only
if it costs at most 0.1 dB (mean) on every row. Needs NNCF (``pip install -e ".[quantize]"``).

    python experiments/int8_study.py [--photos 16] [--calibration 4]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
import torch

os.environ.setdefault("NNCF_CI", "1")  # NNCF reports usage over the network unless told it runs in CI

RESULTS = Path(__file__).resolve().parent / "results" / "int8.md"
CALIBRATION_METHODS = {"floyd-steinberg": {}, "jarvis-judice-ninke": {}, "bayer-8": {}, "am-cmyk": {"dpi": 600.0}}


def calibration_set(per_photo: int, seed: int = 0) -> list[np.ndarray]:
    """``1 x 3 x 256 x 256`` halftone crops of the training photos, every method, AM at several rulings."""
    from deep_halftoning.data.sources import embedded_records
    from deep_halftoning.halftone import halftone
    from deep_halftoning.io import read_image

    rng = np.random.default_rng(seed)
    crops = []
    for record in embedded_records("train", colour_only=True):
        photo = read_image(record.image)
        for method, params in CALIBRATION_METHODS.items():
            for _ in range(per_photo):
                y, x = rng.integers(0, photo.shape[0] - 255), rng.integers(0, photo.shape[1] - 255)
                extra = {"lpi": float(rng.choice([85, 120, 150]))} if method == "am-cmyk" else {"threads": 1}
                image = halftone(photo[y : y + 256, x : x + 256], method, **params, **extra).image
                crops.append(np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32))
    return crops


def seconds_per_tile(run, tile: np.ndarray, repeats: int = 4) -> float:
    run(tile)
    start = time.perf_counter()
    for _ in range(repeats):
        run(tile)
    return (time.perf_counter() - start) / repeats


def main() -> None:
    import nncf
    import openvino as ov

    from deep_halftoning.data.sources import holdout_records
    from deep_halftoning.evaluation.photos import read_photo
    from deep_halftoning.evaluation.rows import ROWS
    from deep_halftoning.inference import load_pipeline, shipped_checkpoint
    from deep_halftoning.inference.export import cached_openvino_model
    from deep_halftoning.inference.runtime import TorchRuntime
    from deep_halftoning.io import write_text
    from deep_halftoning.models.metrics import psnr

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=16, help="held-out photos (crops of 384 x 512)")
    parser.add_argument("--calibration", type=int, default=2, help="crops per training photo and method")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()

    pipeline = load_pipeline(shipped_checkpoint())
    model, _ = cached_openvino_model(pipeline)
    calibration = calibration_set(args.calibration)
    start = time.perf_counter()
    quantised = nncf.quantize(
        model, nncf.Dataset(calibration), preset=nncf.QuantizationPreset.MIXED, subset_size=len(calibration)
    )
    quantise_seconds = time.perf_counter() - start
    core = ov.Core()
    bf16 = core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "bf16", "PERFORMANCE_HINT": "LATENCY"})
    int8 = core.compile_model(quantised, "CPU", {"PERFORMANCE_HINT": "LATENCY"})
    torch_bf16 = TorchRuntime(pipeline, torch.device("cpu"), "bf16")

    tile = np.random.default_rng(1).random((1, 3, 512, 512)).astype(np.float32) > 0.5
    tile = tile.astype(np.float32)
    speed = {
        "torch bf16 autocast": seconds_per_tile(lambda t: torch_bf16(torch.from_numpy(t)), tile),
        "openvino bf16": seconds_per_tile(lambda t: bf16([t]), tile),
        "openvino int8": seconds_per_tile(lambda t: int8([t]), tile),
    }

    photos = [read_photo(r.image, 768) for r in holdout_records()[: args.photos]]
    crops = [p[: min(384, p.shape[0] // 32 * 32), : min(512, p.shape[1] // 32 * 32)] for p in photos]
    differences = {}
    for row, spec in ROWS.items():
        values = []
        for seed, clean in enumerate(crops):
            scan = np.ascontiguousarray(spec.make(clean, seed).transpose(2, 0, 1)[None], dtype=np.float32)
            target = torch.from_numpy(np.ascontiguousarray(clean.transpose(2, 0, 1)[None]))
            scores = [psnr(torch.as_tensor(net([scan])[0]), target) for net in (bf16, int8)]
            values.append(scores[1] - scores[0])
        differences[row] = np.array(values)
        print(f"{row}: int8 - bf16 {differences[row].mean():+.3f} dB (worst {differences[row].min():+.3f})")

    free = all(v.mean() >= -0.1 for v in differences.values())
    lines = [
        "# int8 post-training quantisation of the shipped descreener",
        "",
        f"NNCF {nncf.__version__} (preset MIXED) on {len(calibration)} halftone crops of the training photos "
        f"({quantise_seconds:.0f} s), OpenVINO {ov.__version__}, {os.cpu_count()} CPU cores. Produced by "
        f"`python experiments/int8_study.py --photos {args.photos} --calibration {args.calibration}`.",
        "",
        "| runtime | seconds per 512 x 512 tile | vs torch bf16 |",
        "|---|---:|---:|",
        *(f"| {name} | {s:.3f} | {speed['torch bf16 autocast'] / s:.2f}x |" for name, s in speed.items()),
        "",
        f"PSNR int8 minus bf16 (dB) on {len(crops)} held-out photos (384 x 512 crops), per row of "
        "`experiments/evaluate.py`:",
        "",
        "| row | mean | worst photo |",
        "|---|---:|---:|",
        *(f"| {row} | {v.mean():+.3f} | {v.min():+.3f} |" for row, v in differences.items()),
        "",
        "Verdict: "
        + (
            "at most 0.1 dB on every row: int8 is free."
            if free
            else "int8 costs more than 0.1 dB on some row: not shipped; the OpenVINO backend serves bf16."
        ),
        "",
    ]
    write_text(args.out, "\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
