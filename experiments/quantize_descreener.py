"""int8 graphs of the shipped descreeners for the OpenVINO CPU runtime, made beside the packed checkpoints.

For each shipped variant: its pipeline as the OpenVINO backend serves it, quantised by NNCF with the two
additions that make the output image kept in float (the variant ``experiments/int8_study.py`` found free),
calibrated on halftones of the *training* photos; then checked on the held-out photos' crops for every
default evaluation row: the int8 graph may cost at most 0.1 dB PSNR (mean) against OpenVINO bf16 on each
row, or it is not written. Written as ``<variant>-int8.xml`` / ``.bin`` in ``assets/descreener/`` and
recorded in the manifest (the pipeline's digest, the files' sha256, versions and the per-row cost), where
``precision="int8"`` (and ``auto`` on CPUs with int8 instructions) finds it. Part of ``make reproduce``,
after ``ship_descreener.py``; needs NNCF (``pip install -e ".[quantize]"``).

    python experiments/quantize_descreener.py [--photos 16] [--calibration 2]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from deep_halftoning.evaluation.quantization import calibration_set, held_out_pairs, row_psnr
from deep_halftoning.evaluation.rows import DEFAULT_ROWS
from deep_halftoning.inference import load_pipeline
from deep_halftoning.inference.export import cached_openvino_model, pipeline_digest
from deep_halftoning.inference.quantize import quantize_int8
from deep_halftoning.inference.shipped import MANIFEST, SHIPPED_DIR, int8_files, shipped_checkpoint
from deep_halftoning.io import file_sha256, write_text

#: The most PSNR (dB, mean over the held-out crops) the int8 graph may cost on any row.
BAR = 0.1


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
    pairs = held_out_pairs(args.photos, DEFAULT_ROWS)
    core = ov.Core()
    for variant, entry in manifest["variants"].items():
        pipeline = load_pipeline(shipped_checkpoint(variant, args.out))
        model = cached_openvino_model(pipeline)[0]
        quantised = quantize_int8(model, pipeline, calibration, float_output=True)
        bf16, int8 = (core.compile_model(m, "CPU", {"INFERENCE_PRECISION_HINT": "bf16"}) for m in (model, quantised))
        reference, scores = row_psnr(bf16, pairs), row_psnr(int8, pairs)
        cost = {row: float(np.mean(scores[row] - reference[row])) for row in pairs}
        print(variant, ", ".join(f"{row} {value:+.3f} dB" for row, value in cost.items()))
        entry.pop("int8", None)
        if min(cost.values()) < -BAR:
            print(f"{variant}: int8 costs more than {BAR} dB on some row, not shipped")
            for path in int8_files(variant, args.out):
                path.unlink(missing_ok=True)
            continue
        xml, weights = int8_files(variant, args.out)
        with tempfile.TemporaryDirectory(dir=args.out) as tmp:  # written whole, then moved in
            ov.save_model(quantised, str(Path(tmp) / xml.name), compress_to_fp16=False)
            for name in (xml.name, weights.name):
                (Path(tmp) / name).replace(args.out / name)
        entry["int8"] = {
            "files": {path.name: file_sha256(path) for path in (xml, weights)},
            "pipeline_sha256": pipeline_digest(pipeline),
            "psnr_vs_bf16": cost,
            "kept_in_float": "the two additions that make the output image",
            "nncf": nncf.__version__,
            "openvino": ov.__version__,
        }
    write_text(args.out / MANIFEST, json.dumps(manifest, indent=1))


if __name__ == "__main__":
    main()
