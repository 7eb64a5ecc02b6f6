# Deep Halftoning: every target creates the virtualenv and installs the project when needed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# Keep byte-compilation on: without it every import of torch & co. is twice as slow.
export PYTHONDONTWRITEBYTECODE :=
export WANDB_MODE ?= offline

.PHONY: venv test test-slow test-all lint bench demo train-stage train-joint train-all sweep reproduce clean

STAGE ?= coarse
ARGS ?=

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

venv: $(STAMP)

## test: the default suite (everything not marked slow)
test: $(STAMP)
	$(BIN)/python -m pytest -m "not slow" -q

## test-slow: the slow tests alone (sweeps, cluster launchers, the non-editable install)
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow -q || [ $$? -eq 5 ]  # 5: no test is marked slow

## test-all: every test, slow ones included
test-all: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check deep_halftoning tests experiments
	$(BIN)/ruff format --check deep_halftoning tests experiments

## bench: the performance benchmarks; results land in experiments/results/
bench: $(STAMP)
	$(BIN)/python experiments/bench_halftone.py
	$(BIN)/python experiments/bench_data.py
	$(BIN)/python experiments/bench_descreen.py

## demo: halftone the bundled sample photo with each preset into outputs/demo/
demo: $(STAMP)
	$(BIN)/python -m deep_halftoning.demo outputs/demo

## train-stage: train one stage on the embedded photos, e.g. make train-stage STAGE=details ARGS="trainer.max_epochs=3"
train-stage: $(STAMP)
	$(BIN)/python -m deep_halftoning.training.train experiment=$(STAGE) $(ARGS)

## train-joint: fine-tune the whole pipeline after the stage-wise recipe
train-joint: $(STAMP)
	$(BIN)/python -m deep_halftoning.training.train experiment=joint $(ARGS)

## train-all: the stage-wise recipe on the embedded photos, then joint fine-tuning: joint and the stages it
## builds on (coarse, edge, details), in the order of the stage graph that their configs declare
train-all: $(STAMP)
	for stage in $$($(BIN)/python -m deep_halftoning.training.stage_graph --for joint); do \
		$(BIN)/python -m deep_halftoning.training.train experiment=$$stage $(ARGS) || exit 1; done

## sweep: Optuna search over the details stage (override with ARGS, e.g. hydra.sweeper.n_trials=4)
sweep: $(STAMP)
	$(BIN)/python -m deep_halftoning.training.train --multirun experiment=details hparams_search=details_optuna $(ARGS)

## reproduce: retrain the shipped descreener from scratch on 2 CPU cores (installs Debian's ukui-wallpapers,
## the training illustrations, and mate-backgrounds, the held-out photos, when missing), in the order of the
## stage graph that the configs in conf/experiment/release/ declare, then pack and evaluate it, and make its int8
## graphs for the CPU runtime (NNCF, the quantize extra)
reproduce: $(STAMP)
	test -d /usr/share/backgrounds/mate/nature -a -f /usr/share/backgrounds/calla.png || \
		$$( [ "$$(id -u)" = 0 ] || echo sudo ) apt-get install -y mate-backgrounds ukui-wallpapers
	for stage in $$($(BIN)/python -m deep_halftoning.training.stage_graph release); do \
		$(BIN)/python -m deep_halftoning.training.train experiment=release/$$stage $(ARGS) || exit 1; done
	$(BIN)/python experiments/ship_descreener.py
	$(BIN)/python -m pip install --quiet -e ".[quantize]"
	$(BIN)/python experiments/quantize_descreener.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache outputs
