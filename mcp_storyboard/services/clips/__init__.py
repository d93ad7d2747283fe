"""Clips: CRUD and alternates (``service``), placement on the timeline and in the display order (``placement``),
the gallery of generated media (``gallery``), the serialised scene transaction (``serial``), the timeline checks
and analysis (``timeline``), the pure order rules (``order``) and the typed inputs and results (``results``)."""

from mcp_storyboard.services.clips.service import ClipService

__all__ = ["ClipService"]
