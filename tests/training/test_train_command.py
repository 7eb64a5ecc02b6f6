"""``deep-halftoning train`` follows the tool's conventions: one-line errors naming the key and a close match,
a short ``--help``, no empty run folders, a real ``train.log``."""

from __future__ import annotations

import inspect

import pytest
from helpers import TINY_DATA, TINY_NETWORKS, make_cfg, train_process
from omegaconf import OmegaConf

from deep_halftoning.cli import main
from deep_halftoning.data import HalftoneDataModule

QUIET = {"PYTHONWARNINGS": "ignore"}


@pytest.mark.parametrize(
    ("override", "named", "suggested"),
    [
        ("trainer.max_epoch=1", "trainer.max_epoch:", "did you mean trainer.max_epochs?"),
        ("experiment=corase", "experiment=corase:", "did you mean coarse?"),
        ("expriment=edge", "expriment:", "did you mean experiment?"),
        ("data.halftone.methods.bayer-9.weight=0", "bayer-9", "did you mean data.halftone.methods.bayer-8.weight?"),
    ],
)
def test_a_bad_override_names_itself_and_a_close_match(tmp_path, monkeypatch, capsys, override, named, suggested):
    monkeypatch.chdir(tmp_path)
    assert main(["train", override]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deep-halftoning train: error: ") and "\n" not in err, err
    assert named in err and suggested in err, err
    assert not (tmp_path / "outputs").exists()


def test_other_bad_overrides_are_one_line_too(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for override, message in [("trainer.max_epochs=1,2", "--multirun"), ("data.crop_size=[1", "not an override")]:
        assert main(["train", override]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err, err


def test_help_lists_the_groups_and_points_to_the_full_dump(tmp_path):
    result = train_process("--help", cwd=tmp_path, cli=True, env=QUIET)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) < 40, result.stdout
    assert any(line.startswith("experiment: coarse, coarse_paper, details") for line in lines), result.stdout
    assert any(line.startswith("trainer: cpu, ddp") for line in lines), result.stdout
    assert "--cfg job" in result.stdout and "_target_" not in result.stdout


def test_a_failed_run_leaves_no_folder_and_a_finished_one_a_real_log(tmp_path):
    failed = train_process("data=folder", "logger=none", cwd=tmp_path, cli=True, env=QUIET)
    assert failed.returncode == 2 and "data.train_source.path" in failed.stderr, failed.stderr
    assert not (tmp_path / "outputs").exists()
    tiny = [*TINY_DATA, *TINY_NETWORKS, "logger=none", "debug=fdr"]
    finished = train_process(*tiny, cwd=tmp_path, cli=True, env=QUIET)
    assert finished.returncode == 0, finished.stderr[-2000:]
    (log,) = (tmp_path / "outputs" / "coarse" / "runs").glob("*/train.log")
    text = log.read_text()
    assert "[lightning." in text and "Finished the coarse stage" in text, text
    assert finished.stdout.count("Finished the coarse stage") == 1, finished.stdout


def test_no_arguments_train_the_coarse_recipe(tmp_path):
    """`train` alone and `train experiment=coarse` are one recipe (the same steps per epoch)."""
    plain, coarse = make_cfg(tmp_path), make_cfg(tmp_path, "experiment=coarse")
    assert OmegaConf.to_container(plain) == OmegaConf.to_container(coarse)
    defaults = [p.name for p in inspect.signature(HalftoneDataModule).parameters.values() if p.default is not p.empty]
    assert defaults == [], f"conf/data/default.yaml is the one home of these defaults: {defaults}"
