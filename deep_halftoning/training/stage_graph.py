"""The stage graph, read from the configs: which earlier stages each stage builds on, in what order.

Each stage's model config names the checkpoints it loads (``model.module.checkpoints``); that is the
only place the graph is written. This module derives from it what training checks before a run, the
order in which ``make train-all`` and ``make reproduce`` train a recipe, and the stages behind a
shipped variant.

    python -m deep_halftoning.training.stage_graph --for joint   # joint and the stages it builds on
    python -m deep_halftoning.training.stage_graph release       # the release recipe, in training order
"""

from __future__ import annotations

import argparse
from graphlib import TopologicalSorter
from pathlib import Path

from omegaconf import DictConfig

from ..config import CONF_DIR, compose_config


def upstream_checkpoints(cfg: DictConfig) -> dict[str, str]:
    """Network name -> checkpoint path for every network the stage loads from an earlier stage."""
    module = cfg.model.module
    wanted = dict(module.get("checkpoints") or {})
    if not module.get("use_objects", False):
        wanted.pop("object", None)
    return {name: str(path) for name, path in wanted.items() if path is not None}


def compose_experiment(experiment: str, overrides: list[str] | None = None) -> DictConfig:
    """The full training config of ``experiment=<experiment>``."""
    return compose_config([f"experiment={experiment}", *(overrides or [])], hydra_config=True)


def recipe_graph(recipe: str = "") -> dict[str, set[str]]:
    """Stage -> the stages of ``conf/experiment/<recipe>/`` (``""``: ``conf/experiment/`` itself) whose
    checkpoints it loads. Files named ``_*.yaml`` are shared parts of recipes, not stages. Where several
    experiments publish to one folder (``coarse_paper`` to ``coarse``'s), the one named after the folder
    is the stage that later ones build on."""
    folder = CONF_DIR / "experiment" / recipe
    names = [p.stem for p in sorted(folder.glob("*.yaml")) if not p.stem.startswith("_")]
    if not names:
        raise FileNotFoundError(f"no experiments in {folder}")
    configs = {name: compose_experiment(f"{recipe}/{name}" if recipe else name) for name in names}
    publishers: dict[Path, str] = {}
    for name, cfg in configs.items():
        stage_dir = Path(cfg.paths.stage_dir)
        if stage_dir not in publishers or stage_dir.name == name:
            publishers[stage_dir] = name
    graph = {}
    for name, cfg in configs.items():
        sources = {Path(path).parent for path in upstream_checkpoints(cfg).values()}
        graph[name] = {publishers[source] for source in sources if source in publishers} - {name}
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
    """Print the stages of a recipe in training order, separated by spaces."""
    parser = argparse.ArgumentParser(
        prog="python -m deep_halftoning.training.stage_graph", description="The stages of a recipe in training order."
    )
    parser.add_argument("recipe", nargs="?", default="", help="a folder of conf/experiment/ (default: its top level)")
    parser.add_argument("--for", dest="stage", metavar="STAGE", help="only STAGE and the stages it builds on")
    args = parser.parse_args(argv)
    graph = recipe_graph(args.recipe)
    if args.stage is not None and args.stage not in graph:
        parser.error(f"--for {args.stage}: no such stage; choose from {', '.join(sorted(graph))}")
    print(" ".join(training_order(graph) if args.stage is None else ancestors(graph, args.stage)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
