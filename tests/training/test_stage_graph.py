"""The stage graph is read from the stage configs; the Makefile's recipes train in its order."""

from __future__ import annotations

import subprocess

import pytest
from helpers import ROOT

from deep_halftoning.training import stage_graph
from deep_halftoning.training.stage_graph import main, recipe_graph, training_order


def test_the_release_graph_is_read_from_the_stage_configs():
    graph = recipe_graph("release")
    assert graph["details"] == {"coarse", "edge"}
    assert graph["joint"] == graph["joint_perceptual"] == {"coarse", "edge", "details"}
    assert graph["coarse"] == graph["edge"] == graph["reference"] == set()
    order = training_order(graph)
    assert sorted(order) == sorted(graph)
    for stage, needs in graph.items():
        assert all(order.index(need) < order.index(stage) for need in needs), stage


def test_the_stage_wise_recipe_is_joint_and_what_it_builds_on(capsys, monkeypatch):
    graph = recipe_graph()
    assert graph["details"] == {"coarse", "edge"} and graph["details_paper"] == {"coarse", "edge"}
    assert graph["joint"] == {"coarse", "edge", "details"} and graph["object"] == set()
    monkeypatch.setattr(stage_graph, "recipe_graph", lambda recipe: graph)  # composed once
    assert main(["--for", "joint"]) == 0
    assert capsys.readouterr().out.split() == ["coarse", "edge", "details", "joint"]
    with pytest.raises(SystemExit):
        main(["--for", "jiont"])
    assert "--for jiont: no such stage" in capsys.readouterr().err


def test_make_train_all_trains_in_the_graph_s_order():
    dry = subprocess.run(["make", "-n", "train-all"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "deep_halftoning.training.stage_graph --for joint" in dry, dry
