"""The one checkpoint format of training, shipping and serving: networks with their specs.

A checkpoint (a Lightning stage checkpoint or a packed one) is a ``torch.save`` dict with a
``state_dict`` and, under :data:`CHECKPOINT_KEY`, ``{"networks": {name: spec}}``: for each
network its class, constructor config and where its weights sit in the state dict (``prefix``).
Everything is read with ``weights_only=True``. Nothing here needs Lightning or the data package.
"""

from __future__ import annotations

import inspect
import io
import os
import pickle
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import torch
from torch import nn

from ..io import atomic_output
from .coarse import CoarseNet
from .details import DetailsNet, PatchDiscriminator
from .edge import EdgeNet
from .object import ObjectNet
from .reference import ReferenceUNet

CHECKPOINT_KEY = "deep_halftoning"
#: Network classes by the class name stored with their weights.
NETWORKS: dict[str, type[nn.Module]] = {
    cls.__name__: cls for cls in (CoarseNet, EdgeNet, ObjectNet, DetailsNet, PatchDiscriminator, ReferenceUNet)
}
#: The descreening networks in pipeline order; the names used in configs, checkpoints and logs.
PIPELINE_NETWORKS = ("coarse", "edge", "object", "details")
#: Names that checkpoints written before the names were unified still use.
_OLD_NAMES = {"object_net": "object"}


#: The first bytes of torch's (zip) checkpoint format.
ZIP_MAGIC = b"PK\x03\x04"
#: The MS-DOS folder attribute of a zip member (torch writes none).
MSDOS_FOLDER = 0x10
#: How zipfile and ``torch.load`` fail on a truncated or corrupt archive (every single-byte flip and every
#: truncation of a small checkpoint raised one of these): a directory or header that no longer parses
#: (``BadZipFile``, ``EOFError``; ``ValueError`` for a name that does not decode or a negative offset,
#: ``OverflowError`` for a huge one), a flag or method now read as unsupported (``NotImplementedError``),
#: or torch's own zip reader giving up (``RuntimeError``).
DAMAGED_ARCHIVE = (zipfile.BadZipFile, EOFError, NotImplementedError, OverflowError, RuntimeError, ValueError)


class CheckpointError(ValueError):
    """A file is not a readable Deep Halftoning checkpoint."""


class ArchitectureMismatch(CheckpointError):
    """A checkpoint's network does not match the one it should be loaded into."""


def network_spec(net: nn.Module, prefix: str) -> dict:
    """What a network is (class and constructor config) and where its weights are in the state dict."""
    return {"class": type(net).__name__, "config": dict(getattr(net, "config", {})), "prefix": prefix}


def _check_archive(data: bytes) -> None:
    """Raise ``BadZipFile`` unless every member of a zip checkpoint matches its stored CRC-32.

    ``torch.load`` reads past flipped bits in the weights without a word; the CRC-32s torch writes
    by default catch them. Archives written without them (``set_crc32_options(False)``) are not checked.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        folder = next((m.filename for m in members if m.external_attr & MSDOS_FOLDER), None)
        if folder is not None:  # torch's reader would read that member as an empty folder
            raise zipfile.BadZipFile(f"{folder} is marked as a folder")
        if not any(member.CRC for member in members):
            return
        damaged = archive.testzip()
    if damaged is not None:
        raise zipfile.BadZipFile(f"{damaged} fails its CRC-32 check")


def read_checkpoint(path: str | os.PathLike) -> dict:
    """A checkpoint's contents (``weights_only``), with the network specs under their current names.

    Raises :class:`FileNotFoundError` for a missing file and :class:`CheckpointError`, in one line
    naming the file, for anything that is not a Deep Halftoning checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} does not exist")
    data = path.read_bytes()
    if not data.startswith((ZIP_MAGIC, b"\x80")):  # torch's zip format, or a legacy pickle
        raise CheckpointError(f"{path}: not a checkpoint (not a PyTorch file)")
    try:
        if data.startswith(ZIP_MAGIC):
            _check_archive(data)
        checkpoint = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(
            f"{path}: not a Deep Halftoning checkpoint (it holds Python objects, not only weights: refused for safety)"
        ) from None
    except DAMAGED_ARCHIVE as err:
        reason = str(err).strip().splitlines()[0][:100] if str(err).strip() else type(err).__name__
        raise CheckpointError(f"{path}: not a readable checkpoint (truncated or corrupt: {reason})") from None
    specs = checkpoint.get(CHECKPOINT_KEY, {}).get("networks") if isinstance(checkpoint, dict) else None
    if not isinstance(specs, dict) or not specs or not isinstance(checkpoint.get("state_dict"), dict):
        raise CheckpointError(f"{path}: not a Deep Halftoning checkpoint (no network specs and weights)")
    networks = {}
    for name, spec in specs.items():
        if not isinstance(spec, dict) or spec.get("class") not in NETWORKS:
            raise CheckpointError(f"{path}: network {name!r} has an unknown class {spec!r:.80}")
        if not isinstance(spec.get("config"), dict) or not isinstance(spec.get("prefix", ""), str):
            raise CheckpointError(f"{path}: not a Deep Halftoning checkpoint (network {name!r} has a damaged record)")
        networks[_OLD_NAMES.get(name, name)] = {"prefix": f"{name}.", **spec}
    checkpoint[CHECKPOINT_KEY] = {**checkpoint[CHECKPOINT_KEY], "networks": networks}
    return checkpoint


def network_specs(checkpoint: Mapping) -> dict[str, dict]:
    """The specs of a checkpoint read by :func:`read_checkpoint`, by network name."""
    return checkpoint[CHECKPOINT_KEY]["networks"]


def network_state(checkpoint: Mapping, name: str) -> dict[str, torch.Tensor]:
    """The weights of network ``name`` (keys relative to the network)."""
    prefix = network_specs(checkpoint)[name]["prefix"]
    return {k[len(prefix) :]: v for k, v in checkpoint["state_dict"].items() if k.startswith(prefix)}


def _constructor_defaults(cls: type) -> dict:
    parameters = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def check_architecture(spec: Mapping, net: nn.Module, where: str) -> None:
    """Raise :class:`ArchitectureMismatch` when ``net`` is not the network ``spec`` describes."""
    wanted = network_spec(net, "")
    saved = dict(spec["config"])
    if spec["class"] == wanted["class"]:  # options added after the checkpoint was written: their defaults
        defaults = _constructor_defaults(type(net))
        saved = {k: defaults[k] for k in wanted["config"] if k in defaults} | saved
    saved = {k: _plain(v) for k, v in saved.items()}
    config = {k: _plain(v) for k, v in wanted["config"].items()}
    if spec["class"] != wanted["class"] or saved != config:
        differences = {
            k: (saved.get(k), config.get(k)) for k in sorted(set(saved) | set(config)) if saved.get(k) != config.get(k)
        }
        raise ArchitectureMismatch(
            f"{where} is a {spec['class']} that differs from the configured {wanted['class']} "
            f"(checkpoint vs config: {differences}); make the network config match the stage that produced it"
        )


def load_network(path: str | os.PathLike, name: str, into: nn.Module) -> nn.Module:
    """Load network ``name`` of a checkpoint into ``into`` (architecture checked first)."""
    checkpoint = read_checkpoint(path)
    specs = network_specs(checkpoint)
    if name not in specs:
        raise ArchitectureMismatch(f"{path} holds no '{name}' network (it has: {', '.join(specs)})")
    check_architecture(specs[name], into, f"{path}: '{name}'")
    into.load_state_dict(network_state(checkpoint, name), strict=True)
    return into


def build_network(spec: Mapping) -> nn.Module:
    """A network rebuilt from its spec (random weights; ImageNet weights never fetched)."""
    config = dict(spec["config"])  # options added later take their defaults: the architecture it has
    if spec["class"] == "ObjectNet":
        config["pretrained"] = "none"  # the checkpoint holds the weights
    return NETWORKS[spec["class"]](**config)


def load_networks(path: str | os.PathLike, names: Iterable[str] = PIPELINE_NETWORKS) -> dict[str, nn.Module]:
    """The networks ``names`` a checkpoint holds, rebuilt from their specs, with their weights, in eval mode."""
    checkpoint = read_checkpoint(path)
    specs = network_specs(checkpoint)
    networks = {}
    for name in names:
        if name not in specs:
            continue
        try:
            net = build_network(specs[name])
        except (TypeError, ValueError) as err:  # options this version does not know, or values it refuses
            first = str(err).splitlines()[0]
            raise CheckpointError(f"{path}: not a Deep Halftoning checkpoint ('{name}' record: {first})") from None
        try:
            net.load_state_dict(network_state(checkpoint, name), strict=True)
        except RuntimeError as err:
            first = str(err).splitlines()[0]
            raise CheckpointError(f"{path}: the '{name}' weights do not fit their architecture ({first})") from None
        networks[name] = net.eval().requires_grad_(False)
    return networks


def save_networks(path: str | os.PathLike, networks: Mapping[str, nn.Module], half: bool = False, **extra) -> None:
    """Write ``networks`` (name -> module) as a compact checkpoint, atomically; ``half`` stores fp16 weights."""
    state, specs = {}, {}
    for name, net in networks.items():
        specs[name] = network_spec(net, f"{name}.")
        for key, value in net.state_dict().items():
            state[f"{name}.{key}"] = value.half() if half and value.is_floating_point() else value
    with atomic_output(Path(path)) as tmp:
        torch.save({CHECKPOINT_KEY: {"networks": specs}, "state_dict": state, **extra}, tmp)
