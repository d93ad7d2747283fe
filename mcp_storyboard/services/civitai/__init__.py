"""CivitAI: the local catalog (``civitai_models``), its sync from CivitAI's API, and imports into the model
catalog (``database_models``)."""

from mcp_storyboard.services.civitai.service import CivitAIService, SyncReport

__all__ = ["CivitAIService", "SyncReport"]
