"""The labelled comparison figure of an evaluation."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..io import atomic_output
from ..models.metrics import psnr


def comparison_figure(panels: dict[str, dict[str, np.ndarray]], path: Path, crop: int = 160) -> None:
    """Centre crops (nearest-neighbour, so the dots stay visible) of ``panels`` (halftone row -> column ->
    image, ``original`` among the columns): one row per halftone, one column per method, each with its PSNR."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, columns = list(panels), list(next(iter(panels.values())))
    fig, axes = plt.subplots(len(rows), len(columns), figsize=(2.2 * len(columns), 2.4 * len(rows)), squeeze=False)
    for r, h in enumerate(rows):
        clean = panels[h]["original"]
        y, x = (clean.shape[0] - crop) // 2, (clean.shape[1] - crop) // 2
        for c, name in enumerate(columns):
            image = panels[h][name][y : y + crop, x : x + crop]
            ax = axes[r][c]
            ax.imshow(image, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            title = name if name == "original" else f"{name}\n{psnr(image, clean[y : y + crop, x : x + crop]):.1f} dB"
            ax.set_title(title, fontsize=8)
            if c == 0:
                ax.set_ylabel(h, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=110, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
