"""FaceFusion: queueing operations on characters' images, presets and preferences (``service``), and the worker that
runs queued jobs through a runner (``ports``)."""

from mcp_storyboard.services.facefusion.service import FaceFusionService

__all__ = ["FaceFusionService"]
