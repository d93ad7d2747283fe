"""Animatics: a storyboard's main timeline rendered to an MP4 by a queue worker (PyAV, an optional extra)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.render.service import RenderService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"RenderService": ".service"})

__all__ = ["RenderService"]
