"""Tools are tested through a real MCP client over a real server built on the services.

Each test runs twice: memory:// with the 2026-era client (``mode="auto"``), and the embedded wire-protocol
database with the 2025-era client (``mode="legacy"``, initialize handshake over JSON-RPC streams).
``ToolClient.watch`` subscribes to resource updates the way each era does (``subscriptions/listen``, or
``resources/subscribe`` with the updates arriving as notifications).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import pytest
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp import Client
from mcp.client.session import IncomingMessage, MessageHandlerFnT
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp.types import ResourceUpdatedNotification

from mcp_storyboard.db.connection import Database
from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.services.container import Services
from tests.conftest import open_test_database
from tests.seed import snapshot

LEGS = (("memory", "auto"), ("embedded-pymongo", "legacy"))


class ToolFailed(AssertionError):
    """A tool answered isError where the test expected success."""


@dataclass
class ToolClient:
    """A connected MCP client plus the services behind the server (to check what was written)."""

    client: Client
    services: Services
    mode: str
    updates: MemoryObjectReceiveStream[str] | None = field(default=None, repr=False)
    """2025-era ``notifications/resources/updated`` URIs, in arrival order (see ``updates_handler``)."""

    @asynccontextmanager
    async def watch(self, uris: Iterable[str]) -> AsyncIterator[Callable[[], Awaitable[str]]]:
        """Subscribe to ``uris`` for the block; yields ``next_update()``, the URI of the next update."""
        uris = list(uris)
        if self.mode != "legacy":
            async with self.client.listen(resource_subscriptions=uris) as subscription:

                async def next_listened() -> str:
                    return str(getattr(await subscription.__anext__(), "uri"))

                yield next_listened
            return
        assert self.updates is not None, "the legacy client was built without updates_handler"
        updates = self.updates
        with warnings.catch_warnings():  # resources/subscribe is the 2025-era way, deprecated at 2026-07-28
            warnings.simplefilter("ignore", MCPDeprecationWarning)
            for uri in uris:
                await self.client.subscribe_resource(uri)
            try:
                yield updates.receive
            finally:
                for uri in uris:
                    await self.client.unsubscribe_resource(uri)

    async def call(self, name: str, /, **arguments: Any) -> dict[str, Any]:
        """Call a tool that must succeed; returns its structured content."""
        result = await self.client.call_tool(name, arguments)
        if result.is_error:
            raise ToolFailed(f"{name} failed: {_text(result)}")
        assert result.structured_content is not None, f"{name} returned no structured content"
        return dict(result.structured_content)

    async def error(self, name: str, /, **arguments: Any) -> str:
        """Call a tool that must fail; returns the error text the model sees."""
        result = await self.client.call_tool(name, arguments)
        assert result.is_error, f"{name} should have failed but returned {result.structured_content}"
        return _text(result)

    async def refused(self, name: str, /, **arguments: Any) -> str:
        """Call a tool that must fail and write nothing; returns the error text the model sees."""
        before = await self.snapshot()
        text = await self.error(name, **arguments)
        assert await self.snapshot() == before, f"{name} wrote something before failing"
        return text

    async def snapshot(self) -> dict[str, list[dict[str, Any]]]:
        """Every document of every collection (to prove a failed call wrote nothing)."""
        return await snapshot(self.services)


def updates_handler() -> tuple[MessageHandlerFnT, MemoryObjectReceiveStream[str]]:
    """A ``message_handler`` for ``Client`` that passes resource-updated URIs to the returned stream."""
    send: MemoryObjectSendStream[str]
    send, receive = anyio.create_memory_object_stream[str](max_buffer_size=1000)

    async def handle(message: IncomingMessage) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            send.send_nowait(message.params.uri)

    return handle, receive


def patch_fields(input_schema: dict[str, Any]) -> set[str]:
    """The fields a tool's ``patch`` argument accepts, read from its input schema."""
    patch = input_schema["properties"]["patch"]
    if "$ref" in patch:
        patch = input_schema["$defs"][patch["$ref"].rsplit("/", 1)[1]]
    return set(patch["properties"])


def allowed_in(text: str) -> set[str]:
    """The values an error lists after "allowed values:" (up to the end of its sentence)."""
    listed = text.lower().split("allowed values: ", 1)[1].split(". ", 1)[0].rstrip(".")
    return {value.strip() for value in listed.split(",")}


def _text(result: Any) -> str:
    return "\n".join(getattr(block, "text", json.dumps(getattr(block, "model_dump", dict)())) for block in result.content)


@asynccontextmanager
async def tool_client(
    request: pytest.FixtureRequest, *, client_options: dict[str, Any] | None = None, **build_options: Any
) -> AsyncIterator[ToolClient]:
    """A client (``Client(**client_options)``, e.g. an ``elicitation_callback``) of a server built with
    ``build_options`` over a fresh database of the requested leg."""
    backend, mode = request.param
    database: Database = await open_test_database(backend, request)
    await ensure_indexes(database)
    services = Services.over(database)

    @asynccontextmanager
    async def factory() -> AsyncIterator[Services]:
        yield services

    server = build_server(factory, **build_options)
    handler, updates = updates_handler()
    try:
        async with Client(server, mode=mode, message_handler=handler, **(client_options or {})) as client:
            yield ToolClient(client=client, services=services, mode=mode, updates=updates)
    finally:
        if database.backend != "memory":
            await database.client.drop_database(database.db.name)
        await database.close()


@pytest.fixture(params=LEGS, ids=lambda leg: f"{leg[0]}-{leg[1]}")
async def tools(request: pytest.FixtureRequest) -> AsyncIterator[ToolClient]:
    async with tool_client(request, toolsets=TOOLSETS) as client:
        yield client
