"""int8 graphs of the shipped descreeners for the OpenVINO CPU runtime, made beside the packed checkpoints.

For each shipped variant: its pipeline as the OpenVINO backend serves it, quantised by NNCF with the two
additions that make the output image kept in float (the variant ``experiments/int8_study.py`` found free),
calibrated on halftones of the *training* photos; then checked on the held-out photos' crops for every
default evaluation row: the int8 graph may cost at most 0.1 dB PSNR (mean) against OpenVINO bf16 on each
row, or it is not written. A variant whose CoarseNet serves AM scans at a screen scale also gets int8
versions of the screen-scaled path's two graphs (CoarseNet at the canonical period, details at full
resolution), calibrated on AM prints of the training photos at coarse rulings and held to the same bar on
the coarse cross-generator rows. Written as ``<variant>[-coarse|-details]-int8.xml`` / ``.bin`` in
``assets/descreener/`` and recorded in the manifest (the pipeline's digest, the parts, the files' sha256,
versions and the per-row cost), where ``precision="int8"`` (and ``auto`` on CPUs with int8 instructions)
finds them. Part of ``make reproduce``, after ``ship_descreener.py``; needs NNCF
(``pip install -e ".[quantize]"``).

    python experiments/quantize_descreener.py [--photos 16] [--calibration 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from deep_halftoning.evaluation.quantization import (
    SCREEN_ROWS,
    calibration_set,
    held_out_pairs,
    row_psnr,
    screen_calibration,
    screen_scaled_psnr,
)
from deep_halftoning.evaluation.rows import DEFAULT_ROWS
from deep_halftoning.inference import load_pipeline
from deep_halftoning.inference.export import PARTS, cached_openvino_model, exported_parts, pipeline_digest
from deep_halftoning.inference.quantize import quantize_int8
from deep_halftoning.inference.shipped import MANIFEST, SHIPPED_DIR, int8_files, shipped_checkpoint
from deep_halftoning.io import file_sha256, write_text

#: The most PSNR (dB, mean over the held-out crops) the int8 graph may cost on any row.
BAR = 0.1


def _costs(int8: dict[str, np.ndarray], bf16: dict[str, np.ndarray]) -> dict[str, float]:
    return {row: float(np.mean(int8[row] - bf16[row])) for row in bf16}


def quantised_parts(pipeline, calibration, photos: int, per_photo: int) -> tuple[dict, dict[str, dict[str, float]]]:
    """The int8 graphs of ``pipeline`` by part, each part's cost per row (dB against bf16, mean over
    ``photos`` held-out crops), the screen-scaled pair's under ``screen-scaled``."""
    import openvino as ov

    core = ov.Core()

    def compiled(model):
        return core.compile_model(model, "CPU", {"INFERENCE_PRECISION_HINT": "bf16"})

    model = cached_openvino_model(pipeline)[0]
    graphs = {"pipeline": quantize_int8(model, pipeline, calibration, float_output=True)}
    pairs = held_out_pairs(photos, DEFAULT_ROWS)
    costs = {"pipeline": _costs(row_psnr(compiled(graphs["pipeline"]), pairs), row_psnr(compiled(model), pairs))}
    if set(exported_parts(pipeline).values()) >= {"coarse", "details"}:
        floats = {part: cached_openvino_model(pipeline, part=part)[0] for part in ("coarse", "details")}
        for part, inputs in zip(floats, screen_calibration(pipeline, per_photo), strict=True):
            graphs[part] = quantize_int8(floats[part], pipeline, inputs, float_output=True)
        screen = held_out_pairs(photos, SCREEN_ROWS)
        int8, bf16 = ([compiled(m[part]) for part in floats] for m in (graphs, floats))
        costs["screen-scaled"] = _costs(
            screen_scaled_psnr(*int8, pipeline, screen), screen_scaled_psnr(*bf16, pipeline, screen)
        )
    return graphs, costs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=16, help="held-out photos (crops of 384 x 512)")
    parser.add_argument("--calibration", type=int, default=2, help="256 px crops per training photo and method")
    parser.add_argument("--out", type=Path, default=SHIPPED_DIR)
    args = parser.parse_args()

    import nncf
    import openvino as ov

    manifest = json.loads((args.out / MANIFEST).read_text())
    calibration = calibration_set(args.calibration)
    for variant, entry in manifest["variants"].items():
        pipeline = load_pipeline(shipped_checkpoint(variant, args.out))
        graphs, costs = quantised_parts(pipeline, calibration, args.photos, args.calibration)
        for name, cost in costs.items():
            print(variant, name, ", ".join(f"{row} {value:+.3f} dB" for row, value in cost.items()))
        entry.pop("int8", None)
        if min(costs["pipeline"].values()) < -BAR:
            print(f"{variant}: int8 costs more than {BAR} dB on some row, not shipped")
            graphs = {}
        elif min(costs.get("screen-scaled", {"": 0.0}).values()) < -BAR:
            print(f"{variant}: the screen-scaled int8 graphs cost more than {BAR} dB on some row, not shipped")
            graphs = {"pipeline": graphs["pipeline"]}
        for part in PARTS:
            if part not in graphs:
                for path in int8_files(variant, args.out, part):
                    path.unlink(missing_ok=True)
        if not graphs:
            continue
        files = []
        with tempfile.TemporaryDirectory(dir=args.out) as tmp:  # written whole, then moved in
            for part, graph in graphs.items():
                xml, weights = int8_files(variant, args.out, part)
                ov.save_model(graph, str(Path(tmp) / xml.name), compress_to_fp16=False)
                for path in (xml, weights):
                    (Path(tmp) / path.name).replace(path)
                    files.append(path)
        entry["int8"] = {
            "parts": list(graphs),
            "files": {path.name: file_sha256(path) for path in files},
            "pipeline_sha256": pipeline_digest(pipeline),
            "psnr_vs_bf16": costs["pipeline"],
            **({"screen_scaled_psnr_vs_bf16": costs["screen-scaled"]} if "coarse" in graphs else {}),
            "kept_in_float": "the two additions that make the output image",
            "nncf": nncf.__version__,
            "openvino": ov.__version__,
        }
    write_text(args.out / MANIFEST, json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
