"""ComfyUI servers: unique by normalised URL, with the status of their last health check."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, get_args

from pydantic import JsonValue

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.models.generation import (
    ComfyUIServer,
    ServerStatus,
    normalize_server_url,
)
from mcp_storyboard.repositories.base import NO_ID, Repository, Session, _s

# A handful of servers: sorted by name in memory after the {is_active: 1} index filters them; id makes it total.
BY_NAME = (("name", 1), ("id", 1))


class ComfyUIServerRepository(Repository[ComfyUIServer]):
    """Servers; ``insert`` and ``apply_patch`` raise ``DuplicateKeyConflict`` naming ``url``."""

    document = ComfyUIServer
    kind = "ComfyUI server"

    async def find_by_url(self, url: str, *, session: Session = None) -> ComfyUIServer | None:
        """The server at ``url`` in any spelling of it ("HTTP://Box:80/" finds "http://box").

        Raises:
            ValidationError: ``url`` is not an http(s) server URL.
        """
        try:
            normalised = normalize_server_url(url)
        except ValueError as exc:
            raise ValidationError("url", str(exc), hint="give the base URL, e.g. http://127.0.0.1:8188") from None
        raw = await self.collection.find_one({"url": normalised}, NO_ID, **_s(session))
        return None if raw is None else self.from_document(raw)

    async def list_active(self, *, session: Session = None) -> list[ComfyUIServer]:
        """Servers jobs may be sent to, by name."""
        return await self._find_all({"is_active": True}, BY_NAME, session=session)

    async def page(self, *, active: bool | None = None, limit: int | None = None, cursor: str | None = None) -> Page[ComfyUIServer]:
        """Servers by name; ``active`` True or False keeps only enabled or disabled ones."""
        query: dict[str, Any] = {} if active is None else {"is_active": active}
        return await self._page(query, BY_NAME, limit=limit, cursor=cursor)

    async def set_status(
        self,
        server_id: str,
        status: ServerStatus,
        *,
        last_check: datetime | None = None,
        capabilities: Mapping[str, JsonValue] | None = None,
        error: str | None = None,
        probed_url: str | None = None,
        session: Session = None,
    ) -> ComfyUIServer:
        """Record a health check: its status, when it ran (default now), what it found (kept if None), and why it
        failed (``error``, cleared when None). With ``probed_url`` it is recorded only while the server still has
        that URL, so a check that raced a move never labels the new address with the old one's findings.

        Raises:
            ValidationError: ``status`` is not online, offline or error.
            NotFoundError: no such server (or no longer at ``probed_url``).
        """
        if status not in get_args(ServerStatus):
            raise ValidationError("status", f"'{status}' is not a server status", allowed=get_args(ServerStatus))
        fields: dict[str, Any] = {"status": status, "last_check": last_check or utc_now(), "last_error": error}
        if capabilities is not None:
            fields["capabilities"] = dict(capabilities)
        query: dict[str, Any] = {"id": server_id} if probed_url is None else {"id": server_id, "url": probed_url}
        return await self._update(query, {"$set": fields}, session=session, missing=server_id)

    async def id_name_pairs(self, *, prefix: str = "", limit: int = 100) -> list[tuple[str, str]]:
        """``(id, name)`` of servers whose name or id starts with ``prefix`` (plain text, ignoring case), by name."""
        query: dict[str, Any] = {}
        if prefix:
            pattern = {"$regex": "^" + re.escape(prefix), "$options": "i"}
            query["$or"] = [{"name": pattern}, {"id": pattern}]
        cursor = self.collection.find(query, {"_id": 0, "id": 1, "name": 1}).sort(list(BY_NAME)).limit(limit)
        return [(str(raw["id"]), str(raw.get("name") or "")) for raw in await cursor.to_list(None)]
