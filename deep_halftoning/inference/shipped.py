"""The trained descreeners shipped inside the package: where they lie, how they are checked and packed.

``assets/descreener/`` holds one compact checkpoint per variant (``fidelity``: the
default, trained for PSNR; ``perceptual``: with the adversarial term), the Hydra
config of each stage that made it, and ``manifest.json`` (recipe, data, steps,
metrics and the sha256 of every file). ``make reproduce`` rebuilds all of it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from ..io import file_sha256
from ..models.checkpoint import read_checkpoint, save_networks
from .descreener import load_pipeline

SHIPPED_DIR = Path(__file__).resolve().parents[1] / "assets" / "descreener"
MANIFEST = "manifest.json"
DEFAULT_VARIANT = "fidelity"


class ShippedCheckpointError(OSError):
    """The shipped descreener is missing, unknown or does not match its manifest."""


def load_manifest(directory: str | os.PathLike = SHIPPED_DIR) -> dict:
    """The manifest of the shipped descreeners in ``directory``."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise ShippedCheckpointError(
            f"no shipped descreener in {path.parent} (manifest missing): reinstall the package or run `make reproduce`"
        )
    return json.loads(path.read_text())


def shipped_checkpoint(variant: str = DEFAULT_VARIANT, directory: str | os.PathLike = SHIPPED_DIR) -> Path:
    """The checked path of a shipped descreener variant (``fidelity`` or ``perceptual``)."""
    variants = load_manifest(directory)["variants"]
    if variant not in variants:
        raise ShippedCheckpointError(f"no shipped {variant!r} descreener; shipped: {', '.join(sorted(variants))}")
    entry = variants[variant]
    path = Path(directory) / entry["file"]
    if not path.is_file():
        raise ShippedCheckpointError(f"the shipped {variant} descreener {path} is missing: reinstall the package")
    if file_sha256(path) != entry["sha256"]:
        raise ShippedCheckpointError(
            f"the shipped {variant} descreener {path} does not match the sha256 in its manifest "
            "(corrupt or replaced): reinstall the package or run `make reproduce`"
        )
    return path


def int8_files(variant: str, directory: str | os.PathLike = SHIPPED_DIR, part: str = "pipeline") -> tuple[Path, Path]:
    """Where the int8 OpenVINO graph of a shipped variant's ``part`` lies (the parts of
    :func:`~.export.exported_parts`): ``<variant>[-part]-int8.xml`` and its ``.bin``."""
    stem = variant if part == "pipeline" else f"{variant}-{part}"
    return Path(directory) / f"{stem}-int8.xml", Path(directory) / f"{stem}-int8.bin"


def shipped_int8(digest: str, directory: str | os.PathLike = SHIPPED_DIR) -> dict[str, Path]:
    """The checked ``.xml`` of each part's shipped int8 graph (``pipeline``; ``coarse`` and ``details`` for a
    CoarseNet served at a screen scale) made from the pipeline whose :func:`~.export.pipeline_digest` is
    ``digest`` (empty: no shipped variant has one). Raises :class:`ShippedCheckpointError` when a file is
    missing or does not match the manifest."""
    manifest = Path(directory) / MANIFEST
    variants = load_manifest(directory)["variants"] if manifest.is_file() else {}
    for variant, entry in variants.items():
        int8 = entry.get("int8")
        if int8 is None or int8["pipeline_sha256"] != digest:
            continue
        graphs = {}
        for part in int8["parts"]:
            for path in int8_files(variant, directory, part):
                if not path.is_file() or file_sha256(path) != int8["files"][path.name]:
                    raise ShippedCheckpointError(
                        f"the shipped int8 {variant} graph {path} is missing or does not match its manifest: "
                        "reinstall the package"
                    )
            graphs[part] = int8_files(variant, directory, part)[0]
        return graphs
    return {}


def pack_checkpoint(
    source: str | os.PathLike,
    destination: str | os.PathLike,
    half: bool = True,
    screen_scale: Mapping[str, float] | None = None,
) -> dict[str, int | str]:
    """Keep only the inference networks of a stage (or packed) checkpoint (no discriminators, no optimiser
    state), in fp16 when ``half``, and write them atomically to ``destination`` (which may be ``source``).
    With ``screen_scale``, CoarseNet serves AM scans at that canonical period (weights unchanged).

    Returns the file's name, size, sha256, parameter count and the source's global step.
    """
    pipeline = load_pipeline(source)
    if screen_scale is not None:
        pipeline.coarse.set_screen_scale(screen_scale)
    networks = pipeline.networks
    step = int(read_checkpoint(source).get("global_step", 0))
    destination = Path(destination)
    save_networks(destination, networks, half=half, global_step=step)
    parameters = sum(p.numel() for net in networks.values() for p in net.parameters())
    return {
        "file": destination.name,
        "bytes": destination.stat().st_size,
        "sha256": file_sha256(destination),
        "parameters": parameters,
        "global_step": step,
    }
