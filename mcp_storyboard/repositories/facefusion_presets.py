"""FaceFusion presets: browsed by operation type among those a user may see (public, or their own)."""

from __future__ import annotations

from typing import Any

from mcp_storyboard.models.common import Page
from mcp_storyboard.models.facefusion import (
    FaceFusionPreset,
    PresetOperationType,
    PresetVisibility,
)
from mcp_storyboard.repositories.base import NO_ID, Repository, Session

# Served by the schema index {name: 1}; id makes the order total.
BY_NAME = (("name", 1), ("id", 1))


def _visible_to(user_id: str | None) -> dict[str, Any]:
    # user_id None is the local (stdio) user, whose presets are stored with user_id null.
    return {"$or": [{"is_public": True}, {"user_id": user_id}]}


class FaceFusionPresetRepository(Repository[FaceFusionPreset]):
    document = FaceFusionPreset
    kind = "facefusion preset"

    async def page_visible(
        self,
        user_id: str | None,
        *,
        operation_type: PresetOperationType | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[FaceFusionPreset]:
        """Presets ``user_id`` may use — public ones and their own — by name, optionally of one operation type.

        The filter is served by the schema index {operation_type: 1, is_public: 1}.
        """
        query: dict[str, Any] = _visible_to(user_id)
        if operation_type is not None:
            query = {"operation_type": operation_type, **query}
        return await self._page(query, BY_NAME, limit=limit, cursor=cursor)

    async def find_by_name(self, name: str, user_id: str | None) -> FaceFusionPreset | None:
        """The preset called ``name`` that ``user_id`` would mean: their own first, else the oldest public one.

        Names are not unique (two users may both have "soft glow"); the exact name is matched, after trimming
        as the model does.
        """
        wanted = name.strip()
        own = await self.collection.find_one({"name": wanted, "user_id": user_id}, NO_ID, sort=[("created_at", 1), ("id", 1)])
        if own is None:
            own = await self.collection.find_one({"name": wanted, "is_public": True}, NO_ID, sort=[("created_at", 1), ("id", 1)])
        return None if own is None else self.from_document(own)

    async def increment_use(self, preset_id: str, *, session: Session = None) -> FaceFusionPreset:
        """Atomically add one to ``use_count``.

        Raises:
            NotFoundError: no such preset.
        """
        return await self._update({"id": preset_id}, {"$inc": {"use_count": 1}}, session=session)

    async def delete_for_user(self, user_id: str, *, session: Session = None) -> int:
        """Delete every preset a user created (when the account is removed)."""
        return await self._delete_where({"user_id": user_id}, session=session)

    # -- additions for the FaceFusion tools: the visibility filter ---------------------------------------------
    async def page_by_visibility(
        self,
        user_id: str | None,
        visibility: PresetVisibility,
        *,
        operation_type: PresetOperationType | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[FaceFusionPreset]:
        """Presets by name: ``public`` ones, the user's ``private`` ones, or ``all`` they may see."""
        if visibility == "all":
            return await self.page_visible(user_id, operation_type=operation_type, limit=limit, cursor=cursor)
        query: dict[str, Any] = {"is_public": True} if visibility == "public" else {"is_public": False, "user_id": user_id}
        if operation_type is not None:
            query = {"operation_type": operation_type, **query}
        return await self._page(query, BY_NAME, limit=limit, cursor=cursor)
