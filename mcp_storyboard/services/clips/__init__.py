"""Clips: CRUD and alternates (``service``), placement on the timeline and in the display order (``placement``),
the gallery of generated media (``gallery``), the serialised scene transaction (``serial``), the timeline checks
and analysis (``timeline``), the pure order rules (``order``) and the typed inputs and results (``results``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.clips.service import ClipService
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"ClipService": ".service"})

__all__ = ["ClipService"]
