"""Imports deferred to first use: heavy optional libraries (:func:`lazy_module`) and the exports of a package
(:func:`lazy_exports`).

Answering ``initialize`` and ``tools/list`` needs no service module, no driver and none of OpenTimelineIO, Pillow,
PyAV or bcrypt; the services open after the handshake (``server/scope.py``), and a tool imports its service's
modules on its first call. A module that names a heavy library keeps its one import line's worth of naming,
typed as the real module for mypy::

    if TYPE_CHECKING:
        import opentimelineio as otio
    else:
        otio = lazy_module("opentimelineio")

``tests/server/test_lazy_imports.py`` checks that the stdio start path leaves them unimported.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


class LazyModule:
    """Stands in for module ``name``: the first attribute read imports it (the import system's locks make that
    safe from worker threads); later reads go to the imported module."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(importlib.import_module(self._name), attribute)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy_module(name: str) -> Any:
    """Module ``name``, imported when first used."""
    return LazyModule(name)


def lazy_exports(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """PEP 562 ``__getattr__`` and ``__dir__`` for ``package``, which exports names defined in its submodules
    (``exports``: name -> submodule, relative like ``".service"``) and imports a submodule when one of its names is
    first read. A service package imports its service, and through it the driver and most of ``services/``;
    importing the package for a light sibling (``views``, a URI helper) then costs none of that::

        if TYPE_CHECKING:  # what mypy and readers see
            from mcp_storyboard.services.clips.service import ClipService
        else:
            __getattr__, __dir__ = lazy_exports(__name__, {"ClipService": ".service"})
    """

    def __getattr__(name: str) -> Any:
        try:
            submodule = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(submodule, package), name)
        setattr(sys.modules[package], name, value)  # later reads skip this function
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *exports})

    return __getattr__, __dir__
