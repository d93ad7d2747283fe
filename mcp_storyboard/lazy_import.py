"""Heavy optional libraries imported on first use, not when the module that names them is imported.

Start-up imports every service module to declare the tools, yet answering ``initialize`` and ``tools/list`` needs
none of OpenTimelineIO, Pillow, PyAV or bcrypt (together about 0.1 s of a start). A module keeps its one import
line's worth of naming, typed as the real module for mypy::

    if TYPE_CHECKING:
        import opentimelineio as otio
    else:
        otio = lazy_module("opentimelineio")

``tests/server/test_lazy_imports.py`` checks that the stdio start path leaves them unimported.
"""

from __future__ import annotations

import importlib
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
