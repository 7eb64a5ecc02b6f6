"""``deep-halftoning train`` (and ``python -m deep_halftoning.training.train``): the overrides checked before
training.

The config is composed once with the user's overrides, as Hydra will compose it, before PyTorch and
Lightning load and before a run folder exists: a misspelt key or an unknown option is one line naming
it and its closest match, with exit status 2, like every other command of the tool.
"""

from __future__ import annotations

import difflib
import sys
from collections.abc import Callable, Iterator, Sequence

from ..config import CONF_DIR, compose_config

EXIT_USAGE = 2
#: Hydra flags after which the overrides are Hydra's business (sweeps, other configs, help and dumps).
UNCHECKED_FLAGS = ("-m", "--multirun", "-cp", "--config-path", "-cn", "--config-name", "-cd", "--config-dir")
UNCHECKED_FLAGS += ("-h", "--help", "-hh", "--hydra-help", "-i", "--info", "--version", "--shell-completion", "-sc")
#: Hydra flags followed by a value.
VALUE_FLAGS = ("-c", "--cfg", "-p", "--package")
FULL_DUMP = "deep-halftoning train [overrides] --cfg job"


class TrainUsageError(Exception):
    """A bad override: one line, exit status 2."""


def _keys(node: object, prefix: str = "") -> Iterator[str]:
    """Every dotted key of a plain nested dict."""
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}{key}"
            yield path
            yield from _keys(value, f"{path}.")


def _closest(word: str, choices: Sequence[str]) -> str:
    """`` (did you mean X?)`` for the closest of ``choices``, or nothing."""
    match = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {match[0]}?)" if match else ""


def _groups() -> list[str]:
    return sorted(p.name for p in CONF_DIR.iterdir() if p.is_dir())


def _settings(overrides: Sequence[str]) -> list[str]:
    """The config's keys (with ``hydra.``) as composed with the overrides that do compose, and its groups."""
    from omegaconf import OmegaConf

    for attempt in (overrides, []):
        try:
            cfg = compose_config(attempt, hydra_config=True)
            break
        except Exception:  # noqa: BLE001 - another bad override: fall back to the plain config
            continue
    return [*_keys(OmegaConf.to_container(cfg, resolve=False)), *_groups()]


def check_overrides(overrides: Sequence[str]) -> None:
    """Compose the training config with ``overrides``; raise :class:`TrainUsageError` naming what is wrong."""
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException

    try:
        compose_config(overrides, hydra_config=True)
    except MissingConfigException as err:  # an unknown option of a group: experiment=corase
        group, _, option = (err.missing_cfg_file or "").rpartition("/")
        options = err.options or []
        raise TrainUsageError(
            f"{group}={option}: no such {group}{_closest(option, options)}; choose from {', '.join(options)}"
        ) from None
    except OverrideParseException as err:
        bad = next((o for o in overrides if _unparsable(o)), "")
        raise TrainUsageError(f"{bad}: not an override ({_first_line(err)}); write KEY=VALUE") from None
    except ConfigCompositionException as err:
        message = _first_line(err)
        if message.startswith("Ambiguous value"):  # trainer.max_epochs=1,2
            raise TrainUsageError(
                f"{message.split(chr(39))[1]}: a list is written [A,B], a string 'A,B'; add --multirun to sweep"
            ) from None
        culprit = next((o for o in overrides if f"'{_key(o)}'" in message), None)
        if culprit is None:
            raise TrainUsageError(message) from None
        key = _key(culprit)
        others = [o for o in overrides if o is not culprit]
        if message.startswith("Could not override"):  # no such key: trainer.max_epoch=1
            hint = _closest(key, _settings(others))
            raise TrainUsageError(f"{key}: no such setting{hint}; every setting: {FULL_DUMP}") from None
        raise TrainUsageError(f"{culprit}: {message}") from None


def _key(override: str) -> str:
    return override.split("=", 1)[0].lstrip("+~")


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _unparsable(override: str) -> bool:
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import OverrideParseException

    try:
        OverridesParser.create().parse_overrides([override])
    except OverrideParseException:
        return True
    return False


def _overrides(argv: Sequence[str]) -> list[str] | None:
    """The overrides among Hydra's command line, or None when a flag makes them Hydra's business."""
    overrides, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg.split("=", 1)[0] in UNCHECKED_FLAGS:
            return None
        elif arg in VALUE_FLAGS:
            skip = True  # --cfg job
        elif not arg.startswith("-"):
            overrides.append(arg)
    return overrides


def run(argv: Sequence[str], task: Callable[[], object] | None = None) -> int:
    """Check the overrides, then hand the command line to Hydra's ``task`` (the training entry point, by
    default); the exit status."""
    argv = list(argv)
    overrides = _overrides(argv)
    if overrides is not None:
        try:
            check_overrides(overrides)
        except TrainUsageError as err:
            print(f"deep-halftoning train: error: {err}", file=sys.stderr)
            return EXIT_USAGE
    if task is None:
        from .train import main as task
    sys.argv = [sys.argv[0], *argv]
    task()
    return 0
