import warnings

import lightning as L
import pytest
import torch
from helpers import TINY_DATA, TINY_NETS, RankReport, configured_stage, rank_reports
from hydra.utils import instantiate
from lightning.pytorch.callbacks import ModelCheckpoint

from deep_halftoning.config import compose_config
from deep_halftoning.models.checkpoint import CHECKPOINT_KEY, ArchitectureMismatch, load_network, network_spec
from deep_halftoning.stages import CoarseStage
from deep_halftoning.training.panels import ImagePanels


def datamodule(recipe: str = "default", *overrides: str):
    cfg = compose_config([f"+data={recipe}", *TINY_DATA, *overrides], config_name=None)
    return instantiate(cfg.data, _convert_="all")


def trainer(tmp_path, **kwargs) -> L.Trainer:
    settings = {
        "accelerator": "cpu",
        "devices": 1,
        "logger": False,
        "enable_progress_bar": False,
        "enable_model_summary": False,
        "default_root_dir": tmp_path,
        "enable_checkpointing": False,
    }
    return L.Trainer(**(settings | kwargs))


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@pytest.mark.parametrize(
    ("make", "metrics"),
    [
        (lambda: configured_stage("coarse", net=TINY_NETS["coarse"]), {"val/psnr", "val/ssim"}),
        (lambda: configured_stage("edge", net=TINY_NETS["edge"]), {"val/f1", "val/ap"}),
    ],
)
def test_fast_dev_run(tmp_path, make, metrics):
    stage, panels = make(), ImagePanels()
    t = trainer(tmp_path, fast_dev_run=2, callbacks=[panels])
    t.fit(stage, datamodule=datamodule())
    assert metrics <= set(t.callback_metrics)
    assert panels.last.shape[0] == 3


def test_object_stage_on_labelled_data(tmp_path, ade_tree):
    root = str(ade_tree)
    stage = configured_stage("object", net={"num_classes": 26, "backbone": "resnet18", "head_width": 16})
    t = trainer(tmp_path, fast_dev_run=2)
    t.fit(stage, datamodule=datamodule("ade20k", f"data.train_source.root={root}", f"data.val_source.root={root}"))
    assert {"val/miou", "train/aux"} <= set(t.callback_metrics)
    with pytest.raises(KeyError, match="labelled data"):
        trainer(tmp_path, fast_dev_run=1).fit(
            configured_stage("object", net={"backbone": "resnet18", "head_width": 16}), datamodule=datamodule()
        )


@pytest.mark.parametrize("model", ["details", "joint"])
def test_gan_stages_train_and_validate(tmp_path, model):
    stage, panels = configured_stage(model, **TINY_NETS), ImagePanels()
    t = trainer(tmp_path, max_epochs=1, limit_train_batches=2, limit_val_batches=1, callbacks=[panels])
    t.fit(stage, datamodule=datamodule())
    assert t.global_step == 6  # three optimiser steps per batch
    assert {"val/psnr", "val/ssim", "val/coarse_psnr", "train/d_image", "train/d_cond", "train/adv"} <= set(
        t.callback_metrics
    )
    assert panels.last.shape[0] == 3
    # halftone | coarse | output | clean | edges, 4 samples of 32 px with 2 px of padding around each
    assert tuple(panels.last.shape[1:]) == (2 + 4 * 34, 2 + 5 * 34)


def _fixed_batch():
    dm = datamodule()
    dm.setup("fit")
    return dm.decode(next(iter(dm.val_dataloader())))


def _train_steps(stage, batch, steps: int) -> list[float]:
    optimizer = stage.configure_optimizers()
    optimizer = optimizer["optimizer"] if isinstance(optimizer, dict) else optimizer
    losses = []
    stage.train()
    for _ in range(steps):
        prediction = stage(batch["halftone"])
        if isinstance(stage, CoarseStage):
            loss = stage.losses(prediction, batch["clean"])["loss"]
        else:
            from deep_halftoning.models.losses import balanced_bce

            loss = balanced_bce(prediction, batch["edges"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss))
    return losses


def test_coarse_and_edge_really_learn():
    torch.manual_seed(0)
    batch = _fixed_batch()
    for stage in (
        configured_stage("coarse", net=TINY_NETS["coarse"], features="off"),
        configured_stage("edge", net={"width": 16, "layers": 3}),
    ):
        stage.optimizer_factory = lambda params: torch.optim.Adam(params, lr=3e-3)
        losses = _train_steps(stage, batch, 150)
        assert min(losses[-10:]) < 0.5 * losses[0], type(stage).__name__


def network(stage, name: str) -> torch.nn.Module:
    """A stage's network by its checkpoint name."""
    return stage.named_networks()[name][0]


def test_details_step_updates_each_network_in_its_own_phase(tmp_path):
    stage = configured_stage("details", **TINY_NETS)
    names = ("details", "d_image", "d_cond", "coarse", "edge")
    before = {n: {k: v.clone() for k, v in network(stage, n).state_dict().items()} for n in names}
    owners = {"details": None, "d_image": None, "d_cond": None}
    changed_by_step: list[set[str]] = []

    original = stage.configure_optimizers

    def watched():
        optimizers, schedulers = original()
        for opt in optimizers:
            step = opt.step

            def wrapped(*args, _step=step, **kwargs):
                snapshot = {n: [p.detach().clone() for p in network(stage, n).parameters()] for n in owners}
                result = _step(*args, **kwargs)
                changed_by_step.append(
                    {
                        n
                        for n in owners
                        if any(
                            not torch.equal(a, b)
                            for a, b in zip(snapshot[n], network(stage, n).parameters(), strict=True)
                        )
                    }
                )
                return result

            opt.step = wrapped
        return optimizers, schedulers

    stage.configure_optimizers = watched
    trainer(tmp_path, max_steps=3, limit_val_batches=0).fit(stage, datamodule=datamodule())
    assert changed_by_step == [{"d_image"}, {"d_cond"}, {"details"}]
    for name in names:
        same = all(torch.equal(before[name][k], v) for k, v in network(stage, name).state_dict().items())
        assert same == (name in ("coarse", "edge")), name


def test_fidelity_details_stage_trains_no_discriminator(tmp_path):
    stage = configured_stage("details", **TINY_NETS, loss_weights={"adv": 0.0})
    before = {n: [p.clone() for p in network(stage, n).parameters()] for n in ("d_image", "d_cond", "details")}
    t = trainer(tmp_path, max_steps=2, limit_val_batches=0)
    t.fit(stage, datamodule=datamodule())
    unchanged = {
        n: all(torch.equal(a, b) for a, b in zip(before[n], network(stage, n).parameters(), strict=True))
        for n in before
    }
    assert unchanged == {"d_image": True, "d_cond": True, "details": False}
    assert "train/adv" not in t.callback_metrics and "train/d_image" not in t.callback_metrics


def test_details_net_starts_as_the_identity_on_the_coarse_image():
    from deep_halftoning.models import DetailsNet

    halftone, coarse, edges = torch.rand(2, 3, 16, 16), torch.rand(2, 3, 16, 16), torch.rand(2, 1, 16, 16)
    assert torch.equal(DetailsNet(width=8, blocks=1)(halftone, coarse, edges=edges), coarse)


def test_stage_checkpoints_chain_into_the_next_stage(tmp_path):
    coarse = configured_stage("coarse", net=TINY_NETS["coarse"])
    checkpoint = ModelCheckpoint(dirpath=tmp_path, filename="coarse", save_last=False)
    trainer(
        tmp_path,
        max_epochs=1,
        limit_train_batches=1,
        limit_val_batches=1,
        enable_checkpointing=True,
        callbacks=[checkpoint],
    ).fit(coarse, datamodule=datamodule())
    path = tmp_path / "coarse.ckpt"
    details = configured_stage("details", **TINY_NETS, checkpoints={"coarse": str(path)})
    for name, tensor in coarse.coarse.state_dict().items():
        assert torch.equal(details.pipeline.coarse.state_dict()[name], tensor), name
    with pytest.raises(ArchitectureMismatch, match="width"):
        wider = TINY_NETS | {"coarse": {"width": 16, "depth": 3}}
        configured_stage("details", **wider, checkpoints={"coarse": str(path)})
    with pytest.raises(ArchitectureMismatch, match="no 'edge' network"):
        configured_stage("details", **TINY_NETS, checkpoints={"edge": str(path)})
    with pytest.raises(FileNotFoundError, match="missing.ckpt"):
        load_network(tmp_path / "missing.ckpt", "coarse", coarse.coarse)
    reloaded = CoarseStage.load_from_checkpoint(path, weights_only=True, optimizer=torch.optim.Adam, scheduler=None)
    assert reloaded.hparams.net == TINY_NETS["coarse"]


def test_a_checkpoint_older_than_a_network_option_chains_with_its_default(tmp_path):
    """A CoarseNet saved before ``full_res`` existed has no such key: it is the default architecture."""
    stage = configured_stage("coarse", net=TINY_NETS["coarse"])
    path = tmp_path / "old.ckpt"
    spec = network_spec(stage.coarse, "coarse.")
    del spec["config"]["full_res"]
    state = {f"coarse.{k}": v for k, v in stage.coarse.state_dict().items()}
    torch.save({"state_dict": state, CHECKPOINT_KEY: {"networks": {"coarse": spec}}}, path)
    details = configured_stage("details", **TINY_NETS, checkpoints={"coarse": str(path)})
    assert torch.equal(details.pipeline.coarse.head.weight, stage.coarse.head.weight)
    with pytest.raises(ArchitectureMismatch, match="full_res"):
        full_res = TINY_NETS | {"coarse": TINY_NETS["coarse"] | {"full_res": 4}}
        configured_stage("details", **full_res, checkpoints={"coarse": str(path)})


def test_panels_reach_wandb_as_8_bit_pixels(tmp_path, monkeypatch):
    """W&B gets 8-bit HxWx3 pixels: it casts float images to 8 bits unscaled (black panels)."""
    import numpy as np
    from lightning.pytorch.loggers import CSVLogger, WandbLogger

    monkeypatch.setenv("WANDB_MODE", "offline")
    wandb_logger, logged = WandbLogger(save_dir=tmp_path, offline=True), []
    monkeypatch.setattr(wandb_logger, "log_image", lambda key, images, step=None: logged.append((key, images[0])))
    stage, panels = configured_stage("coarse", net=TINY_NETS["coarse"]), ImagePanels(samples=2)
    t = trainer(tmp_path, max_epochs=2, limit_train_batches=1, limit_val_batches=1, callbacks=[panels])
    t._loggers = [CSVLogger(tmp_path), wandb_logger]  # noqa: SLF001 - no W&B run is started
    t.fit(stage, datamodule=datamodule())
    assert [key for key, _ in logged] == ["val/panel", "val/panel"]  # once per epoch, not during sanity checks
    pixels, grid = logged[-1][1], panels.last
    assert isinstance(pixels, np.ndarray) and pixels.dtype == np.uint8
    assert pixels.shape == (grid.shape[1], grid.shape[2], 3) and pixels.max() == 255  # the white padding
    np.testing.assert_array_equal(pixels, (grid.permute(1, 2, 0).numpy() * 255).round().astype(np.uint8))
    assert len(np.unique(pixels)) > 20  # the images themselves, not a 0/1 mask


def test_bf16_and_channels_last_on_cpu(tmp_path):
    stage = configured_stage("coarse", net=TINY_NETS["coarse"], channels_last=True)
    trainer(tmp_path, fast_dev_run=1, precision="bf16-mixed").fit(stage, datamodule=datamodule())
    assert stage.coarse.down[1][0].weight.is_contiguous(memory_format=torch.channels_last)


def test_details_gan_under_ddp_spawn(tmp_path):
    """Two CPU processes (gloo) really train together: both ranks ran the same steps on different batches and
    ended with identical generator and discriminator weights (manual GAN optimisation with frozen networks).

    (SyncBatchNorm needs GPUs; there, pass ``sync_batchnorm=True`` to the trainer.)
    """
    stage = configured_stage("details", **TINY_NETS)
    t = trainer(
        tmp_path,
        devices=2,
        strategy="ddp_spawn_find_unused_parameters_true",
        max_steps=3,
        limit_val_batches=1,
        callbacks=[RankReport(tmp_path / "ranks")],
    )
    t.fit(stage, datamodule=datamodule("default", "data.batch_size=8"))
    assert "val/psnr" in t.callback_metrics
    reports = rank_reports(tmp_path / "ranks", world_size=2)
    assert reports[0]["global_step"] == 3 and reports[0]["strategy"] == "DDPStrategy"
    # the weights that came back to this process are the ranks' weights
    assert RankReport.digest(stage.parameters()) == reports[0]["parameters"]


def test_the_adversarial_part_is_configuration():
    # one hinge discriminator that sees the image with its edges: built from config alone
    stage = configured_stage(
        "details", **TINY_NETS, adversarial={"loss": "hinge", "discriminators": {"d_edges": ["output", "edges"]}}
    )
    assert list(stage.discriminators) == ["d_edges"]
    assert stage.discriminators["d_edges"].body[0].in_channels == 3 + 1
    assert len(stage.configure_optimizers()[0]) == 2  # the generator's and the one discriminator's
    real, fake = torch.full((2, 1, 4, 4), 2.0), torch.full((2, 1, 4, 4), -2.0)
    assert stage.d_loss(real, fake).item() == 0.0  # hinge: both beyond the margin of 1
    assert stage.g_loss(fake).item() == 2.0
    with pytest.raises(ValueError, match="adversarial.loss"):
        wasserstein = {"loss": "wasserstein", "discriminators": {"d": ["output"]}}
        configured_stage("details", **TINY_NETS, adversarial=wasserstein)
    with pytest.raises(ValueError, match="must see 'output'"):
        configured_stage("details", **TINY_NETS, adversarial={"loss": "lsgan", "discriminators": {"d": ["halftone"]}})


def test_loss_weights_and_optimisers_have_one_home():
    """The stage's YAML states every weight and its optimiser: a missing or misspelt one is an error."""
    with pytest.raises(ValueError, match=r"loss_weights must give exactly l1, fft, style \(missing: none; unknown: l2"):
        configured_stage("coarse", loss_weights={"l2": 1.0})
    with pytest.raises(ValueError, match=r"aux_weights must give exactly coarse, edge, object \(missing: object;"):
        configured_stage("details", **TINY_NETS, aux_weights={"coarse": 0.0, "edge": 0.0})
    with pytest.raises(TypeError, match="optimizer"):
        CoarseStage(loss_weights={"l1": 1.0, "fft": 0.0, "style": 0.0}, scheduler=None)
