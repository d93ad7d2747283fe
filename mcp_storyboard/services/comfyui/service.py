"""ComfyUI servers: register (URL normalised and unique), read, change, delete, and health-check them.

A check asks the server's ``/system_stats`` and the ``/object_info`` of the nodes that list models and samplers,
and records the outcome atomically: ``online`` with fresh capabilities; ``offline`` when nothing answers;
``error`` when it answers wrongly. A failed check keeps the last known capabilities (a worker may still learn
what the server had) and records why in ``last_error``.
Outbound calls go only to the URL stored for a registered server.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio

from mcp_storyboard.errors import (
    ComfyUIError,
    DuplicateKeyConflict,
    NotFoundError,
    ValidationError,
)
from mcp_storyboard.integrations.comfyui import (
    CAPABILITY_NODES,
    ComfyUIClient,
    ComfyUIUnreachable,
    capabilities_from,
)
from mcp_storyboard.models.common import Page
from mcp_storyboard.models.generation import (
    ComfyUIServer,
    ComfyUIServerPatch,
    ServerStatus,
)
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.comfyui_servers import ComfyUIServerRepository

SERVER_HINT = "list_comfyui_servers shows the registered servers"
ClientFactory = Callable[..., ComfyUIClient]
"""``(url, *, api_key) -> client``; tests may inject one with a mock transport."""


class ComfyUIServerService:
    def __init__(self, repos: Repositories, *, client: ClientFactory = ComfyUIClient) -> None:
        self.repo = ComfyUIServerRepository(repos.database)
        self.client_factory = client

    async def register(self, name: str, url: str, *, is_active: bool = True, max_concurrent: int = 2,
                       api_key: str | None = None) -> ComfyUIServer:
        """Store a server under its normalised URL (no check is run: ``check`` does that); ``api_key`` is a
        credential sent with every call to it and shown by no tool.

        Raises:
            pydantic.ValidationError: a bad name, URL, max_concurrent or api_key (named).
            DuplicateKeyConflict: a server with that URL exists (in any spelling of it).
        """
        server = ComfyUIServer(name=name, url=url, is_active=is_active, max_concurrent=max_concurrent, api_key=api_key)
        try:
            return await self.repo.insert(server)
        except DuplicateKeyConflict:
            raise await self._taken(server.url) from None

    async def get(self, server_id: str) -> ComfyUIServer:
        """Raises: NotFoundError."""
        server = await self.repo.find(server_id)
        if server is None:
            raise NotFoundError("ComfyUI server", server_id, hint=SERVER_HINT)
        return server

    async def list_page(self, *, active: bool | None = None, limit: int | None = None,
                        cursor: str | None = None) -> Page[ComfyUIServer]:
        return await self.repo.page(active=active, limit=limit, cursor=cursor)

    async def update(self, server_id: str, patch: ComfyUIServerPatch) -> tuple[ComfyUIServer, list[str]]:
        """Change the fields set on ``patch`` in one atomic update; a new URL resets the status to unchecked.

        Raises:
            ValidationError: the patch sets nothing.
            NotFoundError: no such server.
            DuplicateKeyConflict: another server has the new URL.
        """
        changes: dict[str, Any] = patch.changes()
        if not changes:
            raise ValidationError("patch", "sets no field", allowed=list(ComfyUIServerPatch.model_fields))
        if "url" in changes:
            # What was learnt at the old address says nothing about the new one.
            changes.update(status="offline", last_check=None, last_error=None, capabilities={})
        try:
            updated = await self.repo.update_fields(server_id, changes)
        except NotFoundError:
            raise NotFoundError("ComfyUI server", server_id, hint=SERVER_HINT) from None
        except DuplicateKeyConflict:
            raise await self._taken(changes["url"]) from None
        return updated, [name for name in ComfyUIServerPatch.model_fields if name in changes]

    async def delete(self, server_id: str) -> ComfyUIServer:
        """Raises: NotFoundError."""
        server = await self.get(server_id)
        if not await self.repo.delete(server_id):
            raise NotFoundError("ComfyUI server", server_id, hint=SERVER_HINT)
        return server

    async def check(self, server_id: str) -> ComfyUIServer:
        """Ask the server for its stats and nodes and store the outcome (see the module notes).

        A check that raced a URL change records nothing and returns the server as it now is.

        Raises:
            NotFoundError: no such server (also when it is deleted during the check).
        """
        server = await self.get(server_id)
        status, capabilities, error = await self._probe(server.url, server.api_key)
        try:
            return await self.repo.set_status(server_id, status, capabilities=capabilities, error=error,
                                              probed_url=server.url)
        except NotFoundError:
            # Deleted meanwhile (not found), or moved to another URL: the findings belong to the old address,
            # so they are dropped and the server is reported as stored.
            return await self.get(server_id)

    async def check_active(self) -> list[ComfyUIServer]:
        """Check every active server at once (what a worker runs periodically); servers deleted meanwhile are
        left out."""
        checked: list[ComfyUIServer] = []

        async def one(server_id: str) -> None:
            try:
                checked.append(await self.check(server_id))
            except NotFoundError:
                pass

        async with anyio.create_task_group() as group:
            for server in await self.repo.list_active():
                group.start_soon(one, server.id)
        return sorted(checked, key=lambda s: (s.name, s.id))

    async def complete(self, prefix: str, *, limit: int) -> list[tuple[str, str]]:
        """``(id, name)`` of servers whose id or name starts with ``prefix``."""
        return await self.repo.id_name_pairs(prefix=prefix, limit=limit)

    async def _probe(self, url: str, api_key: str | None) -> tuple[ServerStatus, dict[str, Any] | None, str | None]:
        try:
            async with self.client_factory(url, api_key=api_key) as comfy:
                stats = await comfy.system_stats()
                nodes: dict[str, Any] = {}
                for node_class in CAPABILITY_NODES:
                    nodes.update(await comfy.object_info(node_class))
        except ComfyUIUnreachable as exc:
            return "offline", None, exc.message
        except ComfyUIError as exc:
            return "error", None, exc.message
        return "online", capabilities_from(stats, nodes).model_dump(mode="json"), None

    async def _taken(self, url: str) -> DuplicateKeyConflict:
        holder = await self.repo.find_by_url(url)
        conflict = DuplicateKeyConflict("comfyui_servers", "url", url)
        if holder is not None:
            conflict.hint = f"server '{holder.name}' ({holder.id}) has this URL; update_comfyui_server changes it"
        return conflict
