"""Halftone the bundled sample photo with every preset in ``conf/halftone``.

``python -m deep_halftoning.demo OUT_DIR [--presets DIR]``
"""

from __future__ import annotations

import argparse
import time
from importlib.resources import as_file, files
from pathlib import Path

from .halftone.presets import PRESETS_DIR, load_preset
from .io import read_image, write_image


def sample_image_path():
    """Context manager yielding the path of the bundled sample photo (coffee, CC0)."""
    return as_file(files("deep_halftoning") / "assets" / "coffee.png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--presets", type=Path, default=PRESETS_DIR, help="folder of preset YAML files")
    args = parser.parse_args(argv)
    presets = sorted(args.presets.glob("*.yaml"))
    if not presets:
        parser.error(f"no presets (*.yaml) in {args.presets}")
    with sample_image_path() as sample:
        image = read_image(sample)
        write_image(args.out_dir / "original.png", image, protect=[sample])
    for file in presets:
        preset = load_preset(file)
        start = time.perf_counter()
        result = preset.apply(image)
        out = write_image(args.out_dir / f"{preset.name}.png", result.image)
        print(f"{preset.name:10} {preset.method:16} {result.mode:5} {time.perf_counter() - start:6.2f} s  -> {out}")
    print(f"wrote {len(presets) + 1} images to {args.out_dir}/")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
