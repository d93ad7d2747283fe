"""API tokens: found by their unique prefix; revoked and marked used with conditional updates."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo import ReturnDocument

from mcp_storyboard.models.common import Page
from mcp_storyboard.models.users import ApiToken
from mcp_storyboard.repositories.base import NO_ID, Repository, Session, _s

# Served by the index {user_id: 1, created_at: -1, id: 1}: one owner's tokens newest first, or everyone's grouped by
# owner (the index without its equality filter); id makes the order total.
BY_OWNER = (("user_id", 1), ("created_at", -1), ("id", 1))


class ApiTokenRepository(Repository[ApiToken]):
    """API tokens; ``insert`` raises ``DuplicateKeyConflict`` naming ``prefix`` in the (2^-48) case of a taken
    prefix."""

    document = ApiToken
    kind = "API token"

    async def find_by_prefix(self, prefix: str, *, session: Session = None) -> ApiToken | None:
        """The token with this prefix (an exact, lower-case hex match), revoked or not."""
        raw = await self.collection.find_one({"prefix": prefix}, NO_ID, **_s(session))
        return None if raw is None else self.from_document(raw)

    async def page(
        self, *, user_id: str | None = None, live_only: bool = False, limit: int | None = None, cursor: str | None = None
    ) -> Page[ApiToken]:
        """Tokens by owner, newest first; ``user_id`` keeps one owner's, ``live_only`` drops revoked ones."""
        query: dict[str, Any] = {} if user_id is None else {"user_id": user_id}
        if live_only:
            query["revoked_at"] = None
        return await self._page(query, BY_OWNER, limit=limit, cursor=cursor)

    async def revoke(self, token_id: str, now: datetime) -> ApiToken | None:
        """Set ``revoked_at`` on a live token and return it; None when there is no live token with this id (absent,
        or revoked already: the first revocation's time is kept)."""
        raw = await self.collection.find_one_and_update(
            {"id": token_id, "revoked_at": None},
            {"$set": {"revoked_at": now, "updated_at": now}},
            projection=NO_ID,
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else self.from_document(raw)

    async def mark_used(self, token_id: str, now: datetime, *, interval: timedelta) -> bool:
        """Record ``now`` as the token's last use unless it was recorded less than ``interval`` ago; True when this
        call wrote it.

        One conditional update, so several processes verifying the same token at once agree: only one of them
        writes per interval, and the others write nothing (a busy token costs one write a minute, not one a request).
        """
        result = await self.collection.update_one(
            {"id": token_id, "$or": [{"last_used_at": None}, {"last_used_at": {"$lte": now - interval}}]},
            {"$set": {"last_used_at": now}},
        )
        return bool(result.modified_count)
