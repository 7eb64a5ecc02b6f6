"""Data throughput: halftone/clean pairs per second through the real DataLoader.

256 x 256 RGB crops of the embedded photos, the default algorithm mix (with
scan simulation) and Canny edge targets, 2 workers; the peer is the same
pipeline without halftoning (crop, augment, edges only), which bounds what the
halftoning costs. Writes ``experiments/results/data.md``.

    python experiments/bench_data.py [--workers 2] [--batches 60]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.utils import instantiate

from deep_halftoning.data.mix import HalftoneMix

CONF = Path(__file__).resolve().parents[1] / "conf"
RESULTS = Path(__file__).resolve().parent / "results" / "data.md"


def pairs_per_second(datamodule, batches: int) -> tuple[float, dict[str, int]]:
    loader = datamodule.train_dataloader()
    methods: dict[str, int] = {}
    iterator = iter(loader)
    next(iterator)  # workers started, JIT compiled
    start = time.perf_counter()
    count = 0
    for _ in range(batches):
        batch = next(iterator)
        count += batch["clean"].shape[0]
        for m in batch["method"]:
            methods[m] = methods.get(m, 0) + 1
    return count / (time.perf_counter() - start), methods


def build(workers: int, batch: int, overrides: list[str]):
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose(overrides=["+data=default", f"data.num_workers={workers}", f"data.batch_size={batch}",
                                 "data.samples_per_epoch=100000", *overrides])  # fmt: skip
    dm = instantiate(cfg.data, _convert_="all")
    dm.setup("fit")
    return dm


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--batches", type=int, default=60)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    ours = build(args.workers, args.batch, [])
    rate, methods = pairs_per_second(ours, args.batches)
    print(f"full pipeline: {rate:.0f} pairs/s")
    bare = build(args.workers, args.batch, [])
    bare.train_set.mix = HalftoneMix.from_config([{"method": "bayer-2", "mode": "rgb"}])  # near-free halftone
    bare_rate, _ = pairs_per_second(bare, args.batches)
    print(f"without real halftoning: {bare_rate:.0f} pairs/s")
    lines = [
        "# Data throughput",
        "",
        f"Pairs per second through the DataLoader: 256x256 RGB crops of the embedded photos, {args.workers} "
        f"workers, batches of {args.batch}, {args.batches} batches after warm-up, {os.cpu_count()} cores. "
        "Produced by `python experiments/bench_data.py`.",
        "",
        "| pipeline | pairs/s | ratio |",
        "|---|---:|---:|",
        f"| default mix (error diffusion, ordered, AM; scan simulation on half) + edges | {rate:.0f} | "
        f"{rate / bare_rate:.2f} |",
        f"| same loader, halftone replaced by Bayer 2x2 (crop, augment, edges, collate only) | {bare_rate:.0f} | 1.00 |",
        "",
        f"Target: >= 400 pairs/s on 2 cores: **{'met' if rate >= 400 else 'not met'}**.",
        "",
        "Methods drawn during the run: " + ", ".join(f"{k} {v}" for k, v in sorted(methods.items())),
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
