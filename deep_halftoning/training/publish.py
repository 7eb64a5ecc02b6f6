"""Publishing a finished run's checkpoints to ``outputs/<stage>/``, where later stages and users find them.

Every run keeps its own checkpoints in its run folder. The published ``best.ckpt`` /
``last.ckpt`` / ``config.yaml`` of a stage are replaced only when the new run is better on
the same validation data (``publish: better``), when the user asks (``publish: always``),
or never (``publish: never``); :func:`decide` says which happened and why.
``published.json`` beside them records what was published: run, metric, score and a
fingerprint of the validation data the score was measured on.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..io import atomic_output, write_text

POLICIES = ("better", "always", "never")
RECORD = "published.json"
#: The data settings that decide which validation pairs a run is scored on.
VALIDATION_KEYS = ("val_source", "val_samples", "crop_size", "scale_range", "max_side", "small_images", "halftone")


def validation_fingerprint(data: Mapping, metric: str) -> str:
    """A short hash of the validation pairs' settings and the metric: equal when two scores compare."""
    settings = {key: data.get(key) for key in VALIDATION_KEYS} | {"seed": data.get("seed"), "metric": metric}
    return hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Decision:
    publish: bool
    reason: str


def decide(policy: str, score: float | None, mode: str, fingerprint: str, previous: Mapping | None) -> Decision:
    """Whether a run with ``score`` (``mode`` ``max`` or ``min``) replaces what ``previous`` published."""
    if policy not in POLICIES:
        raise ValueError(f"publish must be one of {', '.join(POLICIES)}, got {policy!r}")
    if policy == "never":
        return Decision(False, "publish=never")
    if policy == "always":
        return Decision(True, "publish=always")
    if previous is None:
        return Decision(True, "nothing was published before")
    old = previous.get("score")
    if previous.get("validation") != fingerprint:
        return Decision(False, "the published checkpoint was scored on other validation data or another metric")
    if score is None:
        return Decision(False, "this run has no validation score to compare")
    if old is None:
        return Decision(True, "the published checkpoint has no score")
    better = score > old if mode == "max" else score < old
    metric = previous.get("metric", "score")
    if better:
        return Decision(True, f"{metric} {score:.4f} beats the published {old:.4f}")
    return Decision(False, f"{metric} {score:.4f} does not beat the published {old:.4f}")


def read_record(stage_dir: Path) -> dict | None:
    """What was published for a stage, or ``None``."""
    path = stage_dir / RECORD
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def publish(stage_dir: Path, files: Mapping[str, Path], record: Mapping) -> dict[str, Path]:
    """Copy ``files`` (name -> source; ``config.yaml`` keeps its name, others become ``<name>.ckpt``)
    into ``stage_dir`` atomically, then write the record; returns the published paths."""
    published = {}
    for name, source in files.items():
        target = stage_dir / (source.name if source.suffix == ".yaml" else f"{name}.ckpt")
        with atomic_output(target) as tmp:
            shutil.copyfile(source, tmp)
        published[name] = target
    write_text(stage_dir / RECORD, json.dumps(dict(record), indent=1))
    return published
