"""Catalog models (``database_models``), keyed by a string id, browsed by type or base model, synced by upsert.

Upserts keep ``created_at`` (``Repository._upsert_keeping_created_at``), as do the other catalog repositories (CivitAI models, inference
configurations), whose documents are also refreshed from outside.
"""

from __future__ import annotations

from typing import Any

from mcp_storyboard.models.catalog import DatabaseModel, ModelType, normalize_base_model
from mcp_storyboard.models.common import Page
from mcp_storyboard.repositories.base import Repository, Session

# Led by `type`, the second key of the schema index {is_active: 1, type: 1}; id makes the order total.
BY_TYPE = (("type", 1), ("name", 1), ("id", 1))


class DatabaseModelRepository(Repository[DatabaseModel]):
    document = DatabaseModel
    kind = "model"

    async def page_by_type(
        self,
        model_type: ModelType | None = None,
        *,
        active: bool | None = True,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[DatabaseModel]:
        """Models by type then name: active ones by default, ``active=False`` the inactive, None all."""
        query: dict[str, Any] = {}
        if active is not None:
            query["is_active"] = active
        if model_type is not None:
            query["type"] = model_type
        return await self._page(query, BY_TYPE, limit=limit, cursor=cursor)

    async def page_by_base_model(
        self, base_model: str, *, active: bool | None = True, limit: int | None = None, cursor: str | None = None
    ) -> Page[DatabaseModel]:
        """Models of one base model family (any spelling: "sdxl 1.0" finds "SDXL"), by type then name.

        Filtered on the schema index {base_model: 1, is_active: 1}.
        """
        query: dict[str, Any] = {"base_model": normalize_base_model(base_model)}
        if active is not None:
            query["is_active"] = active
        return await self._page(query, BY_TYPE, limit=limit, cursor=cursor)

    async def set_active(self, model_id: str, active: bool, *, session: Session = None) -> DatabaseModel:
        """Offer a model for generation, or withdraw it.

        Raises:
            NotFoundError: no such model.
        """
        return await self._update({"id": model_id}, {"$set": {"is_active": active}}, session=session)

    async def upsert(self, model: DatabaseModel, *, session: Session = None) -> DatabaseModel:
        """Insert a model or refresh it from a catalog sync, keeping its ``created_at``."""
        return await self._upsert_keeping_created_at({"id": model.id}, model, session=session)
