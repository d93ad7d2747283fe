"""The CivitAI public REST API (``reference/civitai-api.md``): ``client`` talks to it, nothing else does."""

from mcp_storyboard.integrations.civitai.client import (
    DEFAULT_BASE_URL,
    MODEL_TYPES,
    CivitAIClient,
    CivitAIModelType,
    ModelsPage,
    ModelsQuery,
)

__all__ = ["DEFAULT_BASE_URL", "MODEL_TYPES", "CivitAIClient", "CivitAIModelType", "ModelsPage", "ModelsQuery"]
