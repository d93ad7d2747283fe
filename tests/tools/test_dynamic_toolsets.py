"""Dynamic toolsets over the real tools and services: memory:// with the 2026-era client, the embedded
wire-protocol database with the 2025-era client (as the ``tools`` fixture), each client's response cache on."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest
from mcp.shared.exceptions import MCPError

from mcp_storyboard.server.taxonomy import DEFAULT_TOOLSETS

from .conftest import LEGS, ToolClient, tool_client

pytestmark = pytest.mark.anyio


@pytest.fixture(params=LEGS, ids=lambda leg: f"{leg[0]}-{leg[1]}")
async def dynamic_tools(request: pytest.FixtureRequest) -> AsyncIterator[ToolClient]:
    """The ``tools`` fixture's client, on a server started with ``--dynamic-toolsets`` over stdio (process scope)."""
    async with tool_client(request, toolsets=DEFAULT_TOOLSETS, dynamic="process") as client:
        yield client


async def tool_names(tools: ToolClient) -> set[str]:
    return {tool.name for tool in (await tools.client.list_tools()).tools}


async def test_a_character_can_be_created_once_its_toolset_is_enabled(dynamic_tools: ToolClient) -> None:
    tools = dynamic_tools
    listed = await tools.call("list_toolsets")
    offered = {t["name"]: (t["tools"], t["enabled"]) for t in listed["toolsets"]}
    assert offered["storyboard"][1] and not offered["characters"][1] and not offered["styles"][1]
    assert len(await tool_names(tools)) == offered["storyboard"][0] + 2  # plus list_toolsets and enable_toolset
    project = await tools.call("create_project", name="Dynamic")

    before = await tools.snapshot()
    with pytest.raises(MCPError, match="toolset 'characters', which is not enabled"):
        await tools.client.call_tool("create_character", {"project_id": project["id"], "name": "Mara"})
    assert await tools.snapshot() == before  # the refusal wrote nothing

    enabled = await tools.call("enable_toolset", toolset="characters")
    assert len(enabled["added"]) == offered["characters"][0] and "create_character" in enabled["added"]
    assert set(enabled["added"]) <= await tool_names(tools)
    created = await tools.call("create_character", project_id=project["id"], name="Mara")
    stored = await tools.services.characters.get(created["id"])
    assert stored.name == "Mara" and stored.project_id == project["id"]
    assert "create_style_template" not in await tool_names(tools)  # styles stays off


async def test_parallel_enables_add_the_tools_once_and_each_reports_what_is_enabled(dynamic_tools: ToolClient) -> None:
    results: list[dict[str, Any]] = []

    async def enable(toolset: str) -> None:
        results.append(await dynamic_tools.call("enable_toolset", toolset=toolset))

    async with anyio.create_task_group() as group:
        for toolset in ("styles", "styles", "characters", "styles"):
            group.start_soon(enable, toolset)
    styles = [r for r in results if r["toolset"] == "styles"]
    assert sorted(len(r["added"]) > 0 for r in styles) == [False, False, True]  # exactly one call added them
    assert all({"storyboard", "styles"} <= set(r["enabled"]) for r in results)
    final = await dynamic_tools.call("list_toolsets")
    assert {t["name"] for t in final["toolsets"] if t["enabled"]} == {"storyboard", "characters", "styles"}
    names = await tool_names(dynamic_tools)
    assert {"create_character", "create_style_template"} <= names
