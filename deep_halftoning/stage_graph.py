"""The stage graph, read from the configs: which earlier stages each stage builds on, in what order.

Each stage's model config names the checkpoints it loads (``model.module.checkpoints``); that is the
only place the graph is written. This module derives from it what ``train.py`` checks before a run,
the order in which ``make reproduce`` trains a recipe, and the stages behind a shipped variant.

    python -m deep_halftoning.stage_graph release     # the release recipe's stages, in training order
"""

from __future__ import annotations

import sys
from graphlib import TopologicalSorter
from pathlib import Path

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

CONF_DIR = Path(__file__).parent / "conf"


def upstream_checkpoints(cfg: DictConfig) -> dict[str, str]:
    """Network name -> checkpoint path for every network the stage loads from an earlier stage."""
    module = cfg.model.module
    wanted = dict(module.get("checkpoints") or {})
    if not module.get("use_objects", False):
        wanted.pop("object", None)
    return {name: str(path) for name, path in wanted.items() if path is not None}


def compose_experiment(experiment: str, overrides: list[str] | None = None) -> DictConfig:
    """The full training config of ``experiment=<experiment>``."""
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose("train", overrides=[f"experiment={experiment}", *(overrides or [])], return_hydra_config=True)


def recipe_graph(recipe: str) -> dict[str, set[str]]:
    """Stage -> the stages of ``conf/experiment/<recipe>/`` whose checkpoints it loads."""
    configs = {
        p.stem: compose_experiment(f"{recipe}/{p.stem}")
        for p in sorted((CONF_DIR / "experiment" / recipe).glob("*.yaml"))
    }
    if not configs:
        raise FileNotFoundError(f"no experiments in {CONF_DIR / 'experiment' / recipe}")
    folders = {name: Path(cfg.paths.stage_dir) for name, cfg in configs.items()}
    graph = {}
    for name, cfg in configs.items():
        sources = {Path(path).parent for path in upstream_checkpoints(cfg).values()}
        graph[name] = {other for other, folder in folders.items() if folder in sources and other != name}
    return graph


def training_order(graph: dict[str, set[str]]) -> list[str]:
    """The stages in an order where each comes after every stage it builds on."""
    return list(TopologicalSorter(graph).static_order())


def ancestors(graph: dict[str, set[str]], stage: str) -> list[str]:
    """``stage`` and every stage it builds on, directly or not, in training order."""
    needed, todo = set(), [stage]
    while todo:
        current = todo.pop()
        if current not in needed:
            needed.add(current)
            todo.extend(graph[current])
    return [s for s in training_order(graph) if s in needed]


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m deep_halftoning.stage_graph RECIPE   (a folder of conf/experiment/)", file=sys.stderr)
        return 2
    print(" ".join(training_order(recipe_graph(args[0]))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
