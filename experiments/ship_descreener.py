"""Pack the release recipe's trained pipeline into the package, evaluate it and write its manifest.

Reads the stage outputs of ``make reproduce`` (``outputs/release/<stage>/``), packs the
final checkpoints of each variant (``fidelity``: joint; ``perceptual``: the same joint
fine-tuning with the adversarial term) as fp16 inference checkpoints, copies the configs of the
stages behind each (from the stage graph) beside them, evaluates the packed files with
``experiments/evaluate.py`` on the held-out photos (never trained on), next to the classical
baselines and the reference U-Net (``release/reference``, when trained), and writes ``manifest.json``
(recipe, data, steps, metrics, sha256), the per-photo scores (``<stages>/evaluation/results.json``),
``experiments/results/descreening.md`` and the comparison figure.

With ``--repack``, no stage is read: the shipped variants keep their weights, stages and data and are
packed again with the serving settings of the release networks (CoarseNet's ``screen_scale`` in
``conf/networks/release.yaml``), then evaluated the same way.

    python experiments/ship_descreener.py --stages outputs/release [--repack]
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import shutil
import sys
from pathlib import Path

import torch
from omegaconf import OmegaConf

from deep_halftoning.data.sources import build_records, folder_records, holdout_records
from deep_halftoning.evaluation.harness import evaluate
from deep_halftoning.evaluation.methods import baseline_methods, model_column, model_methods, shipped_models
from deep_halftoning.evaluation.results import results_json
from deep_halftoning.evaluation.rows import DEFAULT_ROWS
from deep_halftoning.evaluation.tables import results_table
from deep_halftoning.inference import BASELINES, pack_checkpoint
from deep_halftoning.inference.shipped import MANIFEST, SHIPPED_DIR, load_manifest, shipped_checkpoint
from deep_halftoning.io import write_text
from deep_halftoning.training.stage_graph import ancestors, recipe_graph

ROOT = Path(__file__).resolve().parents[1]
#: variant -> the release stage whose last checkpoint ships
VARIANTS = {"fidelity": "joint", "perceptual": "joint_perceptual"}
#: the release stage of the reference U-Net that every recipe must beat
REFERENCE = "reference"
#: the release networks, whose CoarseNet screen scale ``--repack`` serves
RELEASE_NETWORKS = ROOT / "conf" / "networks" / "release.yaml"
LIMIT_BYTES = 25 * 1024 * 1024


@functools.cache
def stage_steps(stage_dir: Path) -> int:
    """Optimiser steps of a finished stage (from its published last checkpoint)."""
    checkpoint = torch.load(stage_dir / "last.ckpt", map_location="cpu", weights_only=True)
    return int(checkpoint.get("global_step", 0))


def training_photos(config: Path) -> list[str]:
    """The training images named by a stage config's ``data.train_source``."""
    source = OmegaConf.to_container(OmegaConf.load(config).data.train_source, resolve=False)
    return [_portable(record.image) for record in build_records(source)]


def _portable(path: Path) -> str:
    """``path``, from ``site-packages/`` on when it lies in an installed package."""
    parts = path.parts
    return str(Path(*parts[parts.index("site-packages") :])) if "site-packages" in parts else str(path)


def packed_stages(stages_dir: Path, out: Path) -> dict:
    """The manifest's ``variants`` and ``data`` for the release stages under ``stages_dir``, packed into ``out``."""
    packed: dict = {"variants": {}}
    graph = recipe_graph("release")
    for variant, final in VARIANTS.items():
        stages = ancestors(graph, final)
        if not (stages_dir / final / "last.ckpt").is_file():
            print(f"skipping {variant}: {stages_dir / final / 'last.ckpt'} does not exist", file=sys.stderr)
            continue
        entry = pack_checkpoint(stages_dir / final / "last.ckpt", out / f"{variant}.ckpt")
        entry["stages"] = {}
        for stage in stages:
            shutil.copyfile(stages_dir / stage / "config.yaml", out / "configs" / f"{stage}.yaml")
            entry["stages"][stage] = {"steps": stage_steps(stages_dir / stage), "config": f"configs/{stage}.yaml"}
        packed["variants"][variant] = entry
        if "data" not in packed:  # the same photos for every variant
            packed["data"] = {"train": training_photos(stages_dir / stages[0] / "config.yaml")}
    if not packed["variants"]:
        raise SystemExit(f"nothing to ship under {stages_dir}: train the release recipe first (make reproduce)")
    return packed


def repacked(out: Path) -> dict:
    """The manifest's ``variants``, ``data``, ``note``, ``trained`` and ``serving`` for the variants shipped in
    ``out``, packed again in place with CoarseNet's serving screen scale from ``conf/networks/release.yaml``
    (weights, stages and data unchanged)."""
    previous = load_manifest(out)
    screen_scale = OmegaConf.to_container(OmegaConf.load(RELEASE_NETWORKS).coarse.get("screen_scale"))
    variants = {}
    for variant, entry in previous["variants"].items():
        path = shipped_checkpoint(variant, out)
        variants[variant] = pack_checkpoint(path, path, screen_scale=screen_scale) | {"stages": entry["stages"]}
    return {
        "variants": variants,
        "data": {"train": previous["data"]["train"]},
        "note": previous.get("note", ""),
        "trained": previous.get("trained", previous["created"]),
        "serving": {"coarse.screen_scale": screen_scale, "from": "conf/networks/release.yaml (--repack)"},
    }


def readme_with_results(readme: str, table: str, photos: int, max_side: int) -> str:
    """``readme`` with the block between the results markers replaced by the evaluation ``table``."""
    begin, end = "<!-- results:begin -->", "<!-- results:end -->"
    if begin not in readme or end not in readme:
        raise SystemExit(f"the README has no {begin} ... {end} block for the results")
    head, rest = readme.split(begin, 1)
    tail = rest.split(end, 1)[1]
    intro = (
        f"Mean over {photos} held-out photos (shrunk to {max_side} px), ± the 95 % interval of the mean; written by "
        "`python experiments/ship_descreener.py` (details: [descreening.md](experiments/results/descreening.md))."
    )
    return f"{head}{begin}\n{intro}\n\n{table}\n{end}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", type=Path, default=ROOT / "outputs" / "release")
    parser.add_argument("--out", type=Path, default=SHIPPED_DIR)
    parser.add_argument("--results", type=Path, default=ROOT / "experiments" / "results")
    parser.add_argument("--images", type=Path, help="evaluation photos (default: the held-out photos)")
    parser.add_argument("--max-side", type=int, default=768, help="shrink larger photos to this size first")
    parser.add_argument("--readme", type=Path, default=ROOT / "README.md", help="README whose results block to update")
    parser.add_argument("--note", help="anything a reader of the manifest should know about this training run")
    parser.add_argument(
        "--repack", action="store_true", help="re-pack the shipped weights with the release networks' serving settings"
    )
    args = parser.parse_args(argv)
    out = args.out
    (out / "configs").mkdir(parents=True, exist_ok=True)
    manifest: dict = {
        "created": datetime.date.today().isoformat(),
        "recipe": "make reproduce (experiment=release/<stage>: coarse, edge, details, joint, joint_perceptual)",
        "torch": torch.__version__,
        "objectnet": "not used: no semantic labels exist offline (DetailsNet gets halftone, coarse image and edges)",
    }
    if args.repack:
        manifest |= repacked(out)
    else:
        manifest |= packed_stages(args.stages, out)
    if args.note:
        manifest["note"] = args.note
    images = [record.image for record in (folder_records(args.images) if args.images else holdout_records())]
    manifest["data"]["evaluation"] = [_portable(image) for image in images]
    total = sum(entry["bytes"] for entry in manifest["variants"].values())
    if total > LIMIT_BYTES:
        raise SystemExit(f"packed descreeners take {total} bytes, over the {LIMIT_BYTES}-byte limit")
    write_text(out / MANIFEST, json.dumps(manifest, indent=1))  # provisional: the packed files load by name

    models = shipped_models(out)
    if (args.stages / REFERENCE / "last.ckpt").is_file():
        models[REFERENCE] = args.stages / REFERENCE / "last.ckpt"
        manifest["reference"] = {"steps": stage_steps(args.stages / REFERENCE), "config": "configs/reference.yaml"}
        shutil.copyfile(args.stages / REFERENCE / "config.yaml", out / "configs" / "reference.yaml")
    methods = model_methods(models, None, 256)
    methods |= baseline_methods(BASELINES)
    halftones = list(DEFAULT_ROWS)
    figure = args.results / "descreening.png"
    scores = evaluate(images, methods, halftones, args.stages / "evaluation", args.max_side, figure)
    for variant, entry in manifest["variants"].items():
        column = model_column(variant)
        entry["metrics"] = {h: {"psnr": scores[(h, column)][0], "ssim": scores[(h, column)][1]} for h in halftones}
    others = [m for m in methods if m in BASELINES or m == REFERENCE]
    manifest["baselines"] = {
        h: {m: {"psnr": scores[(h, m)][0], "ssim": scores[(h, m)][1]} for m in others} for h in halftones
    }
    write_text(out / MANIFEST, json.dumps(manifest, indent=1))
    columns = ["halftone", *methods]
    summary = results_json(scores, images, halftones, columns)  # per-photo values, for paired studies
    write_text(args.stages / "evaluation" / "results.json", json.dumps(summary, indent=1))
    table = results_table(scores, halftones, columns)
    text = (
        "# Descreening: shipped model vs classical baselines\n\n"
        f"Mean PSNR (dB) and SSIM ± 95 % interval over {len(images)} held-out photos (never trained on), "
        f"shrunk to {args.max_side} px. Produced by `python experiments/ship_descreener.py` "
        "(part of `make reproduce`); "
        "the same table comes from `python experiments/evaluate.py`.\n\n"
        f"{table}\n\n![comparison](descreening.png)\n"
    )
    write_text(args.results / "descreening.md", text)
    if args.readme.is_file():
        psnr = results_table(scores, halftones, columns, metrics=("psnr",))  # SSIM: descreening.md
        write_text(args.readme, readme_with_results(args.readme.read_text(), psnr, len(images), args.max_side))
    print(table)
    print(f"packed {', '.join(manifest['variants'])} into {out} ({total / 1e6:.1f} MB); wrote {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
