from dataclasses import replace

import lightning as L
import numpy as np
import pytest
import torch
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from torch.utils.data import default_collate

from deep_halftoning.config import compose_config
from deep_halftoning.data import HalftoneDataModule
from deep_halftoning.data.datamodule import LoaderSettings
from deep_halftoning.data.pairs import PairDataset
from deep_halftoning.halftone import halftone

SMALL = [
    "data.crop_size=32",
    "data.samples_per_epoch=16",
    "data.val_samples=8",
    "data.batch_size=4",
    "data.loader.num_workers=0",
]


def make(recipe: str = "default", *overrides: str) -> HalftoneDataModule:
    cfg = compose_config([f"+data={recipe}", *SMALL, *overrides], config_name=None)
    return instantiate(cfg.data, _convert_="all")


def test_every_recipe_composes():
    for recipe in ("default", "gpu"):
        assert isinstance(make(recipe), HalftoneDataModule)
    for recipe in ("folder", "ade20k"):
        assert compose_config([f"+data={recipe}"], config_name=None).data.train_source.kind == recipe
    photos = compose_config(["+data=photos"], config_name=None).data.train_source
    assert [source.kind for source in photos.sources] == ["embedded", "folder"]
    with pytest.raises(Exception, match="crop_sise"):
        compose_config(["+data=default", "data.crop_sise=3"], config_name=None)


def test_batches_are_nchw_dicts():
    torch.manual_seed(0)
    dm = make()
    dm.setup("fit")
    batch = dm.on_after_batch_transfer(next(iter(dm.train_dataloader())), 0)  # 8-bit in transit
    assert batch["halftone"].shape == (4, 3, 32, 32) and batch["clean"].shape == (4, 3, 32, 32)
    assert batch["edges"].shape == (4, 1, 32, 32) and len(batch["method"]) == 4
    assert all(batch[k].dtype == torch.float32 for k in ("halftone", "clean", "edges"))
    assert len(dm.train_dataloader()) == 4 and len(dm.val_dataloader()) == 2
    halftone, clean = batch["halftone"], batch["clean"]
    assert ((halftone - clean).abs().flatten(1).mean(1) > 0.02).all()  # a halftone, not the photo (>= 0.04 here)
    # ... of its own photo: blurred, each halftone is nearer its clean image than any other (0.07 vs >= 0.17)
    blurred = torch.nn.functional.avg_pool2d(halftone, 5, 1, 2, count_include_pad=False)
    distances = torch.cdist(blurred.flatten(1), clean.flatten(1))
    assert torch.equal(distances.argmin(1), torch.arange(4))


def test_validation_identical_across_workers_and_epochs():
    dm = make()
    dm.setup("fit")
    no_workers = [b["halftone"] for b in dm.val_dataloader()]
    dm.loader = replace(dm.loader, num_workers=2, persistent_workers=False)
    for _ in range(2):  # two epochs
        with_workers = [b["halftone"] for b in dm.val_dataloader()]
        for a, b in zip(no_workers, with_workers, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_training_workers_do_not_repeat_each_other():
    dm = make("default", "data.samples_per_epoch=32")
    dm.setup("fit")
    dm.loader = replace(dm.loader, num_workers=2, persistent_workers=False)
    torch.manual_seed(0)
    epoch1 = torch.cat([b["clean"] for b in dm.train_dataloader()])
    epoch2 = torch.cat([b["clean"] for b in dm.train_dataloader()])
    flat = torch.cat([epoch1, epoch2]).flatten(1)
    assert torch.unique(flat, dim=0).shape[0] == flat.shape[0]  # no sample drawn twice


def test_per_device_batch_follows_world_size():
    dm = make("default", "data.batch_size=16")

    class FakeTrainer:
        world_size, global_rank = 4, 3

    dm.trainer = FakeTrainer()
    assert dm.per_device_batch_size == 4
    dm.setup("fit")
    assert dm.train_set.rank == 3
    FakeTrainer.world_size = 3
    with pytest.raises(ValueError, match="not divisible"):
        _ = dm.per_device_batch_size


def test_compact_transfer_decodes_to_the_same_batches():
    plain, compact = make("default", "data.loader.compact_transfer=false"), make()
    plain.setup("fit")
    compact.setup("fit")
    raw = next(iter(compact.val_dataloader()))
    assert raw["halftone"].dtype == torch.uint8 and raw["edges"].dtype == torch.uint8
    decoded = compact.on_after_batch_transfer(raw, 0)
    reference = next(iter(plain.val_dataloader()))
    for key in ("halftone", "clean", "edges"):
        assert decoded[key].dtype == torch.float32
        torch.testing.assert_close(decoded[key], reference[key], atol=0.5 / 255 + 1e-6, rtol=0)


def test_device_halftoning_matches_the_cpu_engine():
    dm = make("gpu")
    dm.setup("fit")
    assert isinstance(dm.val_set, PairDataset) and dm.val_set.on_device
    samples = [dm.val_set[i] for i in range(6)]
    batch = dm.on_after_batch_transfer(default_collate(samples), 0)
    samples = [dm.decode(dict(s)) for s in samples]
    import json

    for sample, made in zip(samples, batch["halftone"], strict=True):
        spec = json.loads(sample["recipe"])
        clean = sample["clean"].permute(1, 2, 0).numpy()
        expected = halftone(clean, spec["method"], mode=spec["mode"], **spec["params"]).image
        expected = np.repeat(expected[..., None], 3, axis=2) if expected.ndim == 2 else expected
        np.testing.assert_array_equal(made.permute(1, 2, 0).numpy(), expected)


def test_loader_settings_are_one_block():
    dm = make("default", "data.loader.num_workers=1", "data.loader.cache_mb=64")
    assert (dm.loader.num_workers, dm.loader.cache_mb, dm.loader.compact_transfer) == (1, 64, True)
    with pytest.raises(ValueError, match="unknown data.loader settings \\['workers'\\]"):
        LoaderSettings.from_config({"workers": 2})


def test_configuration_errors():
    # hydra wraps constructor errors; the message is ours
    with pytest.raises(InstantiationException, match="halftone_on_device supports"):
        make("default", "data.halftone_on_device=true")
    with pytest.raises(InstantiationException, match="scan simulation"):
        make("gpu", "data.halftone.scan.probability=0.5")
    with pytest.raises(InstantiationException, match="ideal prints only.*am-cmyk"):
        make("gpu", "+data.halftone.methods.am-cmyk.params.paper=0.1")
    with pytest.raises(InstantiationException, match="class_map"):
        make("default", "~data.train_source", "+data.train_source={kind: ade20k, root: x}")
    dm = make("folder", "data.train_source.path=/nonexistent/photos", "data.val_source.path=/nonexistent/photos")
    with pytest.raises(FileNotFoundError, match="/nonexistent/photos"):
        dm.setup("fit")


def test_ade20k_recipe_on_a_synthetic_tree(ade_tree):
    root = str(ade_tree)
    dm = make("ade20k", f"data.train_source.root={root}", f"data.val_source.root={root}")
    dm.setup("fit")
    assert dm.num_classes == 26
    batch = dm.decode(next(iter(dm.val_dataloader())))
    assert batch["segmentation"].shape == (4, 32, 32) and batch["segmentation"].dtype == torch.int64


class _Probe(L.LightningModule):
    """Checks what the stages will see: per-device batches with halftones on the device."""

    def __init__(self, expected_batch: int) -> None:
        super().__init__()
        self.expected_batch = expected_batch
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def training_step(self, batch, batch_idx):
        assert batch["halftone"].shape[0] == self.expected_batch
        assert batch["halftone"].device == self.device
        # what every device saw, for the launching process (assertions in spawned workers may not reach it)
        seen = self.all_gather(batch["clean"]).reshape(-1, *batch["clean"].shape[1:])
        self.log("pairs", float(len(batch["halftone"])), reduce_fx="sum", sync_dist=True)
        self.log("distinct", float(torch.unique(seen.flatten(1), dim=0).shape[0]))
        return (batch["halftone"].mean() - batch["clean"].mean()) ** 2 + self.weight.sum() ** 2

    def validation_step(self, batch, batch_idx):
        assert batch["halftone"].shape[1:] == batch["clean"].shape[1:]

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


def _fit_probe(tmp_path, dm: HalftoneDataModule, **trainer_settings) -> L.Trainer:
    """Two CPU steps of a probe that checks each batch it sees (4 pairs per device)."""
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=2,
        limit_val_batches=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        default_root_dir=tmp_path,
        **trainer_settings,
    )
    trainer.fit(_Probe(expected_batch=4), datamodule=dm)
    return trainer


def test_lightning_fit_with_device_halftoning(tmp_path):
    trainer = _fit_probe(tmp_path, make("gpu"), devices=1)
    assert trainer.global_step == 2 and trainer.callback_metrics["pairs"] == 4


def test_ddp_spawn_splits_the_global_batch(tmp_path):
    trainer = _fit_probe(tmp_path, make("default", "data.batch_size=8"), devices=2, strategy="ddp_spawn")
    metrics = trainer.callback_metrics  # the last step's, sent back by the first worker
    assert metrics["pairs"] == 8 and metrics["distinct"] == 8  # 4 pairs on each device, none on both


def test_freed_memory_is_kept_for_reuse_on_glibc():
    import platform

    from deep_halftoning.data.memory import reuse_freed_memory

    applied = reuse_freed_memory()
    assert applied == (platform.system() == "Linux" and platform.libc_ver()[0] == "glibc")
    assert make().decode({"clean": torch.full((2, 3, 8, 8), 255, dtype=torch.uint8)})["clean"].eq(1).all()
