"""Packages whose public names load on first use (PEP 562), so importing one module of a package
does not import every other one (PyTorch, numba) with it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module


def lazy_names(package: str, homes: Mapping[str, str], namespace: dict) -> Callable[[str], object]:
    """A module ``__getattr__`` for ``package``: public name -> the submodule (relative) defining it,
    imported when the name is first used and then kept in ``namespace`` (the package's globals)."""

    def __getattr__(name: str) -> object:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f".{homes[name]}", package), name)
        namespace[name] = value
        return value

    return __getattr__
