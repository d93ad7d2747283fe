"""Tools are tested through a real MCP client over a real server built on the services.

Each test runs twice: memory:// with the 2026-era client (``mode="auto"``), and the embedded wire-protocol
database with the 2025-era client (``mode="legacy"``, initialize handshake over JSON-RPC streams).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from mcp import Client

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


@pytest.fixture(params=LEGS, ids=lambda leg: f"{leg[0]}-{leg[1]}")
async def tools(request: pytest.FixtureRequest) -> AsyncIterator[ToolClient]:
    backend, mode = request.param
    database: Database = await open_test_database(backend, request)
    await ensure_indexes(database)
    services = Services.over(database)

    @asynccontextmanager
    async def factory() -> AsyncIterator[Services]:
        yield services

    server = build_server(factory, toolsets=TOOLSETS)
    try:
        async with Client(server, mode=mode) as client:
            yield ToolClient(client=client, services=services, mode=mode)
    finally:
        if database.backend != "memory":
            await database.client.drop_database(database.db.name)
        await database.close()
