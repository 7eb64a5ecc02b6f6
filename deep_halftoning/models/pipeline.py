"""The paper's descreener as one module: CoarseNet -> EdgeNet -> ObjectNet -> DetailsNet."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from ..halftone.screen_scale import ScreenScale, from_canonical, to_canonical
from .coarse import CoarseNet
from .details import DetailsNet
from .edge import EdgeNet
from .object import ObjectNet


class DescreeningPipeline(nn.Module):
    """The networks of the descreener and the one way they are run, in training and in serving.

    ``coarse`` alone (CoarseNet, or any network mapping a halftone to an image) is a complete
    pipeline; with ``details`` DetailsNet refines its image using the halftone, EdgeNet's edge
    probabilities (when DetailsNet uses edges) and ObjectNet's class probabilities (when it uses
    object maps). :meth:`forward` returns every intermediate, keyed as in the stage logs.
    """

    def __init__(
        self,
        coarse: nn.Module,
        edge: EdgeNet | None = None,
        object: ObjectNet | None = None,  # noqa: A002 - the network's one name
        details: DetailsNet | None = None,
    ) -> None:
        super().__init__()
        if details is not None:
            if details.use_edges and edge is None:
                raise ValueError("this DetailsNet reads edge maps: the pipeline needs an EdgeNet")
            if details.object_channels and object is None:
                raise ValueError("this DetailsNet reads object maps: the pipeline needs an ObjectNet")
        self.coarse, self.edge, self.object, self.details = coarse, edge, object, details

    @classmethod
    def build(
        cls,
        coarse: Mapping | None = None,
        edge: Mapping | None = None,
        object: Mapping | None = None,  # noqa: A002
        details: Mapping | None = None,
        use_edges: bool = True,
        use_objects: bool = False,
    ) -> DescreeningPipeline:
        """The full pipeline from network configs (``networks.*`` of the Hydra config)."""
        objects = ObjectNet(**dict(object or {})) if use_objects else None
        object_channels = objects.config["num_classes"] if objects is not None else 0
        return cls(
            CoarseNet(**dict(coarse or {})),
            EdgeNet(**dict(edge or {})),  # also judges the output's edges in the loss, with or without edge inputs
            objects,
            DetailsNet(**{**dict(details or {}), "object_channels": object_channels, "use_edges": use_edges}),
        )

    @property
    def screen_scale(self) -> ScreenScale | None:
        """The screen scale CoarseNet was trained at (``None``: scans as they are, no resampling)."""
        return getattr(self.coarse, "screen_scale", None)

    @property
    def networks(self) -> dict[str, nn.Module]:
        """The networks present, by name, in pipeline order."""
        named = {"coarse": self.coarse, "edge": self.edge, "object": self.object, "details": self.details}
        return {name: net for name, net in named.items() if net is not None}

    def object_probabilities(self, halftone: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ObjectNet's class logits and probabilities for ``halftone``."""
        logits = self.object(halftone)
        logits = logits[0] if isinstance(logits, tuple) else logits
        return logits, torch.softmax(logits.float(), dim=1).to(logits.dtype)

    def coarse_at_scale(self, halftone: torch.Tensor, scale: float | torch.Tensor | None = None) -> torch.Tensor:
        """CoarseNet's image of ``halftone``, run at the canonical screen scale ``scale`` (one factor, or
        one per sample; ``None`` or 1: full resolution) and brought back to full resolution
        (:mod:`..halftone.screen_scale`)."""
        if scale is None:
            return self.coarse(halftone)
        factors = scale.tolist() if torch.is_tensor(scale) else [float(scale)] * len(halftone)
        if all(f == 1.0 for f in factors):
            return self.coarse(halftone)
        box = (0, 0, *halftone.shape[-2:])
        groups: dict[float, list[int]] = {}
        for i, factor in enumerate(factors):
            groups.setdefault(factor, []).append(i)
        parts = []
        for factor, indices in groups.items():
            small = self.coarse(to_canonical(halftone[indices], factor))
            parts.append(from_canonical(small, factor, box))
        order = torch.tensor([i for indices in groups.values() for i in indices], device=halftone.device)
        return torch.cat(parts)[torch.argsort(order)]

    def forward(
        self,
        halftone: torch.Tensor,
        objects: torch.Tensor | None = None,
        coarse: torch.Tensor | None = None,
        scale: float | torch.Tensor | None = None,
    ) -> dict[str, torch.Tensor]:
        """``coarse``, ``edges`` (probabilities), ``object_logits`` / ``objects`` and ``output``.

        ``objects`` and ``coarse`` may be given (e.g. computed once over a whole page and cropped per
        tile); otherwise ObjectNet computes them from ``halftone`` when DetailsNet uses them, and
        CoarseNet runs at the screen ``scale`` (see :meth:`coarse_at_scale`).
        """
        parts = {"coarse": self.coarse_at_scale(halftone, scale) if coarse is None else coarse}
        if self.details is None:
            parts["output"] = parts["coarse"]
            return parts
        if self.details.use_edges:
            parts["edges"] = torch.sigmoid(self.edge(halftone))
        if self.details.object_channels:
            if objects is None:
                parts["object_logits"], objects = self.object_probabilities(halftone)
            parts["objects"] = objects
        parts["output"] = self.details(halftone, parts["coarse"], parts.get("objects"), parts.get("edges"))
        return parts
