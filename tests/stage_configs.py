"""Training stages as their configs build them (``conf/model/<stage>.yaml``, the one home of their
loss weights, optimisers and schedulers), with only what a test is about changed."""

from pathlib import Path

from hydra import compose, initialize_config_dir
from hydra.utils import get_class, instantiate
from omegaconf import OmegaConf

CONF = Path(__file__).resolve().parents[1] / "conf"


def configured_stage(model: str, *, loss_weights: dict | None = None, **replaced):
    """``model=<model>``'s stage: each keyword replaces that key of its ``model.module``, the given
    ``loss_weights`` terms replace the config's, and upstream checkpoints are loaded only where
    ``checkpoints`` names them (the config's point at published stages a test does not have)."""
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=[f"model={model}"])
    module = OmegaConf.to_container(cfg.model.module, resolve=True)
    if "checkpoints" in module:
        module["checkpoints"] = dict.fromkeys(module["checkpoints"]) | (replaced.pop("checkpoints", None) or {})
    if loss_weights:
        module["loss_weights"] |= loss_weights
    stage = get_class(module.pop("_target_"))
    return stage(**instantiate(module | replaced, _convert_="all"))  # the optimiser partials; errors unwrapped
