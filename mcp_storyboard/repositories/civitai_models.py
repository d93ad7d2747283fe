"""The CivitAI catalog (``civitai_models``), keyed by CivitAI's integer id: browsed by type and NSFW flag."""

from __future__ import annotations

import re
from typing import Any

from mcp_storyboard.models.catalog import CivitAIModel
from mcp_storyboard.models.common import Page
from mcp_storyboard.repositories.base import Repository, Session

# Follows the schema index {type: 1, nsfw: 1}; id makes the order total.
BY_TYPE = (("type", 1), ("nsfw", 1), ("id", 1))


class CivitAIModelRepository(Repository[CivitAIModel, int]):
    document = CivitAIModel
    kind = "CivitAI model"

    async def page(
        self,
        *,
        model_type: str | None = None,
        nsfw: bool | None = False,
        name_contains: str | None = None,
        text: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[CivitAIModel]:
        """Catalog entries by type, then id.

        ``nsfw`` False (the default) leaves NSFW entries out, True lists only them, None both. ``model_type`` is
        CivitAI's spelling ("Checkpoint", "LORA", ...). ``name_contains`` matches case-insensitively as plain
        text, never as a regex; ``text`` likewise matches the name or any tag.
        """
        query: dict[str, Any] = {}
        if model_type is not None:
            query["type"] = model_type
        if nsfw is not None:
            query["nsfw"] = nsfw
        if name_contains:
            query["name"] = {"$regex": re.escape(name_contains), "$options": "i"}
        if text:
            pattern = {"$regex": re.escape(text), "$options": "i"}
            query["$or"] = [{"name": pattern}, {"tags": pattern}]
        return await self._page(query, BY_TYPE, limit=limit, cursor=cursor)

    async def upsert(self, model: CivitAIModel, *, session: Session = None) -> CivitAIModel:
        """Insert an entry or refresh it from CivitAI, keeping its ``created_at``."""
        return await self._upsert_keeping_created_at({"id": model.id}, model, session=session)
