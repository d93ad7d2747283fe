"""Animatics: a storyboard's main timeline rendered to an MP4 by a queue worker (PyAV, an optional extra)."""

from mcp_storyboard.services.render.service import RenderService

__all__ = ["RenderService"]
