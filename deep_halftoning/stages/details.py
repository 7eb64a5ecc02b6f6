"""DetailsStage (DetailsNet with two discriminators) and JointStage (everything fine-tuned together)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from ..models import PatchDiscriminator, build_features
from ..models.checkpoint import load_network
from ..models.losses import GAN_LOSSES, balanced_bce, fft_l1, style_loss
from ..models.metrics import image_metrics
from ..models.pipeline import DescreeningPipeline
from .common import Stage, colour_segmentation, exact_keys, freeze, make_scheduler

#: The networks DetailsNet builds on, trained by earlier stages.
UPSTREAM = ("coarse", "edge", "object")
#: What a discriminator can be shown with the image it judges (``output``: the clean or descreened image).
DISCRIMINATOR_INPUTS = ("output", "halftone", "coarse", "edges", "objects")
#: The terms of the generator's loss, each weighed by ``loss_weights``.
LOSS_TERMS = ("l1", "fft", "edge", "style", "adv")


class DetailsStage(Stage):
    """Trains DetailsNet adversarially on top of CoarseNet, EdgeNet and (optionally) ObjectNet.

    Manual optimisation: each discriminator of ``adversarial.discriminators`` (in ``model=details``
    the paper's D1, the image alone, and D2, the image with its halftone and object maps; object maps
    only where ObjectNet is used) takes a step of ``adversarial.loss`` (``lsgan``, ``hinge`` or
    ``bce``) with its own ``d_optimizer``, then the generator takes one on ``l1 * L1 + fft *
    L1(|FFT|) + edge * BCE(EdgeNet(output), edges) + style * local Gram + adv * GAN``; with
    ``adv: 0`` the discriminators rest (a pure fidelity network).
    Upstream networks come from their stage checkpoints and are frozen, unless
    ``upstream_lr`` gives them a learning rate (then they train along, in the
    generator's optimiser).
    """

    def __init__(
        self,
        *,
        adversarial: Mapping,
        loss_weights: Mapping[str, float],
        aux_weights: Mapping[str, float],
        upstream_lr: Mapping[str, float | None],
        optimizer: Callable,
        d_optimizer: Callable,
        scheduler: Callable | None,
        ignore_index: int,
        coarse: Mapping | None = None,
        edge: Mapping | None = None,
        object: Mapping | None = None,  # noqa: A002 - the network's one name, as in configs and checkpoints
        details: Mapping | None = None,
        discriminator: Mapping | None = None,
        checkpoints: Mapping[str, str | None] | None = None,
        use_edges: bool = True,
        use_objects: bool = False,
        features: str = "random",
        style_patch: int = 16,
        gradient_clip: float | None = 10.0,
        **kwargs,
    ) -> None:
        super().__init__(optimizer, scheduler, **kwargs)
        self.save_hyperparameters(ignore=["optimizer", "d_optimizer", "scheduler"])
        self.automatic_optimization = False
        self.d_optimizer_factory, self.ignore_index = d_optimizer, ignore_index
        self.use_edges, self.use_objects = use_edges, use_objects
        self.pipeline = DescreeningPipeline.build(
            coarse, edge, object, details, use_edges=use_edges, use_objects=use_objects
        )
        adversarial = exact_keys(adversarial, ("loss", "discriminators"), "adversarial")
        if adversarial["loss"] not in GAN_LOSSES:
            raise ValueError(f"adversarial.loss must be one of {', '.join(GAN_LOSSES)}, got {adversarial['loss']!r}")
        self.d_loss, self.g_loss = GAN_LOSSES[adversarial["loss"]]
        self.discriminator_inputs = self._discriminator_inputs(dict(adversarial["discriminators"] or {}))
        channels = {
            "output": 3,
            "halftone": 3,
            "coarse": 3,
            "edges": 1,
            "objects": self.pipeline.details.object_channels,
        }
        self.discriminators = nn.ModuleDict(
            {
                name: PatchDiscriminator(in_channels=sum(channels[i] for i in inputs), **dict(discriminator or {}))
                for name, inputs in self.discriminator_inputs.items()
            }
        )
        self.weights = exact_keys(loss_weights, LOSS_TERMS, "loss_weights")
        self.aux_weights = exact_keys(aux_weights, UPSTREAM, "aux_weights")
        self.upstream_lr = exact_keys(upstream_lr, UPSTREAM, "upstream_lr")
        self.features = build_features(features) if self.weights["style"] else None
        self.style_patch, self.gradient_clip = style_patch, gradient_clip
        self._load_upstream(dict(checkpoints or {}))
        networks = self.pipeline.networks
        self.frozen = tuple(freeze(networks[k]) for k in UPSTREAM if k in networks and self.upstream_lr[k] is None)
        self.psnr, self.ssim = image_metrics()
        self.coarse_psnr, _ = image_metrics()

    def _discriminator_inputs(self, wanted: dict) -> dict[str, tuple[str, ...]]:
        """Each discriminator's inputs; object maps dropped where there are none."""
        inputs = {}
        for name, seen in wanted.items():
            unknown = set(seen) - set(DISCRIMINATOR_INPUTS)
            if unknown or "output" not in seen:
                raise ValueError(
                    f"discriminator {name!r} sees {list(seen)}: it must see 'output', "
                    f"with any of {', '.join(DISCRIMINATOR_INPUTS[1:])}"
                )
            kept = tuple(i for i in seen if (i != "objects" or self.use_objects) and (i != "edges" or self.use_edges))
            inputs[name] = kept
        if not inputs:
            raise ValueError("adversarial.discriminators names no discriminator")
        return inputs

    def named_networks(self) -> dict[str, tuple[nn.Module, str]]:
        named = {name: (net, f"pipeline.{name}.") for name, net in self.pipeline.networks.items()}
        return named | {name: (net, f"discriminators.{name}.") for name, net in self.discriminators.items()}

    def _load_upstream(self, checkpoints: dict) -> None:
        if checkpoints.get("details"):  # resume the GAN (joint fine-tuning starts from the details stage)
            load_network(checkpoints["details"], "details", self.pipeline.details)
            for name, net in self.discriminators.items():
                load_network(checkpoints["details"], name, net)
        for name, net in self.pipeline.networks.items():
            if name == "details":
                continue
            if checkpoints.get(name):
                load_network(checkpoints[name], name, net)
            elif self.upstream_lr.get(name) is None:
                message = f"no {name} checkpoint given: the frozen {name} network keeps random weights"
                warnings.warn(message, stacklevel=3)

    @property
    def adversarial(self) -> bool:
        """Whether the GAN term is on; with ``adv: 0`` the discriminators are not trained at all."""
        return bool(self.weights["adv"])

    def forward(self, halftone: torch.Tensor) -> torch.Tensor:
        """The descreened image."""
        return self.pipeline(halftone)["output"]

    def _judge(self, name: str, image: torch.Tensor, halftone: torch.Tensor, parts: dict) -> torch.Tensor:
        """Discriminator ``name``'s scores for ``image`` shown with its inputs."""
        seen = {**parts, "output": image, "halftone": halftone}
        return self.discriminators[name](*(seen[i] for i in self.discriminator_inputs[name]))

    # --- training -----------------------------------------------------------------------------
    def _discriminator_step(self, optimizer, name: str, batch: dict, fake: torch.Tensor, parts: dict) -> torch.Tensor:
        self.toggle_optimizer(optimizer)
        real = self._judge(name, batch["clean"], batch["halftone"], parts)
        loss = self.d_loss(real, self._judge(name, fake, batch["halftone"], parts))
        optimizer.zero_grad(set_to_none=True)
        self.manual_backward(loss)
        if self.gradient_clip:
            self.clip_gradients(optimizer, gradient_clip_val=self.gradient_clip, gradient_clip_algorithm="norm")
        optimizer.step()
        self.untoggle_optimizer(optimizer)
        return loss.detach()

    def generator_losses(self, batch: dict, parts: dict, output: torch.Tensor) -> dict[str, torch.Tensor]:
        clean, halftone = batch["clean"], batch["halftone"]
        terms = {"l1": F.l1_loss(output, clean)}
        if self.weights["fft"]:
            terms["fft"] = fft_l1(output, clean)
        if self.weights["edge"]:
            terms["edge"] = balanced_bce(self.pipeline.edge(output), batch["edges"])
        if self.features is not None:
            terms["style"] = style_loss(self.features(output), self.features(clean), patch=self.style_patch)
        if self.adversarial:
            terms["adv"] = sum(self.g_loss(self._judge(name, output, halftone, parts)) for name in self.discriminators)
        total = sum(self.weights[k] * v for k, v in terms.items())
        if self.aux_weights["coarse"]:
            terms["aux_coarse"] = F.l1_loss(parts["coarse"], clean)
        if self.aux_weights["edge"] and self.use_edges:
            terms["aux_edge"] = balanced_bce(self.pipeline.edge(halftone), batch["edges"])
        if self.aux_weights["object"] and self.use_objects and "segmentation" in batch:
            terms["aux_object"] = F.cross_entropy(
                parts["object_logits"], batch["segmentation"], ignore_index=self.ignore_index
            )
        for key in ("coarse", "edge", "object"):
            if f"aux_{key}" in terms:
                total = total + self.aux_weights[key] * terms[f"aux_{key}"]
        terms["loss"] = total
        return terms

    def training_step(self, batch, batch_idx):
        batch = self.prepare_batch(batch)
        g_opt, *d_opts = self.optimizers()
        clean = batch["clean"]
        # frozen networks hold no gradients: no graph through them
        parts = self.pipeline(batch["halftone"], scale=batch.get("scale"))
        fake = parts["output"]
        d_losses = {}
        if self.adversarial:
            detached = {k: v.detach() for k, v in parts.items() if k != "output"}
            for name, opt in zip(self.discriminators, d_opts, strict=True):
                d_losses[f"train/{name}"] = self._discriminator_step(opt, name, batch, fake.detach(), detached)
        self.toggle_optimizer(g_opt)
        terms = self.generator_losses(batch, parts, fake)
        g_opt.zero_grad(set_to_none=True)
        self.manual_backward(terms["loss"])
        if self.gradient_clip:
            self.clip_gradients(g_opt, gradient_clip_val=self.gradient_clip, gradient_clip_algorithm="norm")
        g_opt.step()
        self.untoggle_optimizer(g_opt)
        logged = {f"train/{k}": v.detach() for k, v in terms.items() if k != "loss"}
        self.log_dict(logged | d_losses, batch_size=len(clean))
        self.log("train/loss", terms["loss"].detach(), prog_bar=True, batch_size=len(clean))

    def on_train_epoch_end(self) -> None:
        schedulers = self.lr_schedulers()
        schedulers = schedulers if isinstance(schedulers, list) else [schedulers] if schedulers else []
        for scheduler in schedulers if self.adversarial else schedulers[:1]:  # resting discriminators keep theirs
            scheduler.step()

    def validation_step(self, batch, batch_idx):
        batch = self.prepare_batch(batch)
        halftone, clean = batch["halftone"], batch["clean"]
        parts = self.pipeline(halftone, scale=batch.get("scale"))
        output = parts["output"]
        n = len(clean)
        self.psnr(output.float().clamp(0, 1), clean.float())
        self.ssim(output.float().clamp(0, 1), clean.float())
        self.coarse_psnr(parts["coarse"].float().clamp(0, 1), clean.float())
        self.log("val/loss", F.l1_loss(output, clean), batch_size=n, sync_dist=True)
        self.log_dict(
            {"val/psnr": self.psnr, "val/ssim": self.ssim, "val/coarse_psnr": self.coarse_psnr},
            prog_bar=True,
            batch_size=n,
        )
        if batch_idx:
            return None
        columns = [halftone, parts["coarse"], output, clean]
        if self.use_edges:
            columns.append(parts["edges"].expand(-1, 3, -1, -1))
        if self.use_objects:
            columns.append(colour_segmentation(parts["objects"].argmax(1), parts["objects"].shape[1]))
        return {"panel": columns}

    def configure_optimizers(self):
        networks = self.pipeline.networks
        groups = [{"params": networks["details"].parameters()}]
        for name in UPSTREAM:
            if self.upstream_lr[name] is not None and name in networks:
                groups.append({"params": networks[name].parameters(), "lr": self.upstream_lr[name]})
        g_opt = self.optimizer_factory(groups)
        optimizers = [g_opt, *(self.d_optimizer_factory(d.parameters()) for d in self.discriminators.values())]
        schedulers = [s for s in (make_scheduler(self.scheduler_factory, o) for o in optimizers) if s]
        return optimizers, schedulers


class JointStage(DetailsStage):
    """Fine-tunes the whole pipeline end to end after stage-wise training (``model=joint``: every
    upstream network trains with its own smaller ``upstream_lr`` and keeps its stage loss as an
    ``aux_weights`` term; an ``upstream_lr`` of ``None`` freezes that network)."""
