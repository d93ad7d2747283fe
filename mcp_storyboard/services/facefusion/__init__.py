"""FaceFusion: queueing operations on characters' images, presets and preferences (``service``), and the worker that
runs queued jobs through a runner (``ports``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.facefusion.service import FaceFusionService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"FaceFusionService": ".service"})

__all__ = ["FaceFusionService"]
