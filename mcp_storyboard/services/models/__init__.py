"""The model catalog: catalog models with keyword search (``service``), base-model family detection and built-in
presets (``families``), and inference presets (``presets``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.models.service import ModelService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"ModelService": ".service"})

__all__ = ["ModelService"]
