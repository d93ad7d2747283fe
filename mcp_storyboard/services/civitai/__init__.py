"""CivitAI: the local catalog (``civitai_models``), its sync from CivitAI's API, and imports into the model
catalog (``database_models``)."""

from typing import TYPE_CHECKING

from mcp_storyboard.lazy_import import lazy_exports

if TYPE_CHECKING:
    from mcp_storyboard.services.civitai.service import CivitAIService, SyncReport
else:  # imported on first use, so importing a light sibling (views) does not import the service
    __getattr__, __dir__ = lazy_exports(__name__, {"CivitAIService": ".service", "SyncReport": ".service"})

__all__ = ["CivitAIService", "SyncReport"]
