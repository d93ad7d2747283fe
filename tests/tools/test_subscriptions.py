"""Two 2025-era clients on one server over the embedded database: one subscribes, the other writes.

Client A subscribes with ``resources/subscribe``, client B writes through the real tools, and A receives
``notifications/resources/updated``; after A unsubscribes, B's writes reach A no more. "No more" is shown by
order: one connection's notifications arrive in order, so when A's next update is a later write's URI, the write
in between sent A nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from mcp_storyboard.db.indexes import ensure_indexes
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.services.container import Services
from tests.conftest import open_test_database

from .conftest import updates_handler

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")]


@dataclass
class Peer:
    """One connected 2025-era client and the URIs of the updates it receives, in order."""

    client: Client
    next_update: Callable[[], Awaitable[str]]

    async def call(self, name: str, /, **arguments: Any) -> dict[str, Any]:
        result = await self.client.call_tool(name, arguments)
        assert not result.is_error, result.content
        assert result.structured_content is not None
        return dict(result.structured_content)


@asynccontextmanager
async def peer(server: MCPServer[Any]) -> AsyncIterator[Peer]:
    handler, updates = updates_handler()
    async with Client(server, mode="legacy", message_handler=handler) as client:

        async def next_update() -> str:
            with anyio.fail_after(5):
                return await updates.receive()

        yield Peer(client, next_update)


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[MCPServer[Any]]:
    """One server over a fresh embedded database; every client connected to it shares the services."""
    database = await open_test_database("embedded-pymongo", request)
    await ensure_indexes(database)
    services = Services.over(database)

    @asynccontextmanager
    async def factory() -> AsyncIterator[Services]:
        yield services

    try:
        yield build_server(factory, toolsets=TOOLSETS)
    finally:
        await database.client.drop_database(database.db.name)
        await database.close()


def project(pid: str) -> str:
    return f"storyboard://projects/{pid}"


async def test_a_subscriber_hears_another_clients_write_and_after_unsubscribing_nothing_more(
    server: MCPServer[Any],
) -> None:
    async with peer(server) as a, peer(server) as b:
        pid = (await b.call("create_project", name="Night Drive"))["id"]
        other = (await b.call("create_project", name="Sunrise"))["id"]

        await a.client.subscribe_resource(project(pid))
        await b.call("update_project", project_id=pid, patch={"name": "Night Drive II"})
        assert await a.next_update() == project(pid)

        await a.client.unsubscribe_resource(project(pid))
        await b.call("update_project", project_id=pid, patch={"name": "Night Drive III"})
        await a.client.subscribe_resource(project(other))
        await b.call("update_project", project_id=other, patch={"name": "Sunset"})
        assert await a.next_update() == project(other)


async def test_a_project_subscription_hears_writes_to_its_scenes_and_clips(server: MCPServer[Any]) -> None:
    async with peer(server) as a, peer(server) as b:
        pid = (await b.call("create_project", name="P"))["id"]
        await a.client.subscribe_resource(project(pid))
        scene = await b.call("create_scene", project_id=pid, name="Intro")
        assert await a.next_update() == project(pid)
        await b.call("create_clip", scene_id=scene["id"], name="Street")
        assert await a.next_update() == project(pid)


async def test_parallel_writes_each_notify_the_subscriber(server: MCPServer[Any]) -> None:
    async with peer(server) as a, peer(server) as b:
        pid = (await b.call("create_project", name="P"))["id"]
        await a.client.subscribe_resource(project(pid))

        async def describe(n: int) -> None:
            await b.call("update_project", project_id=pid, patch={"description": f"v{n}"})

        async with anyio.create_task_group() as group:
            for n in range(5):
                group.start_soon(describe, n)
        assert [await a.next_update() for _ in range(5)] == [project(pid)] * 5
        await a.client.subscribe_resource("storyboard://projects")
        await b.call("create_project", name="Q")
        assert await a.next_update() == "storyboard://projects"  # five updates for five writes, not more
