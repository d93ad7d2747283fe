"""A server lists its tools from the reviewed catalog and builds each on its first call (``tool_snapshot``): what it
lists is exactly what an eagerly built server lists, in every configuration, and calls still validate."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer

from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.catalog import no_services
from mcp_storyboard.server.dynamic_toolsets import META_SPECS
from mcp_storyboard.server.registry import discover, select_specs
from mcp_storyboard.server.taxonomy import DEFAULT_TOOLSETS, TOOLSETS
from mcp_storyboard.server.tool_snapshot import CATALOG_DIR, ListedTool, listed_tools

pytestmark = pytest.mark.anyio


async def wire(server: MCPServer[Any]) -> list[dict[str, Any]]:
    """``tools/list`` as the client receives it: every tool as its wire JSON, in order."""
    return [json.loads(tool.model_dump_json(by_alias=True, exclude_none=True)) for tool in await server.list_tools()]


def lean(**kwargs: Any) -> MCPServer[Any]:
    return build_server(no_services, prompts=[], completers=[], installers=[], **kwargs)


def listed(server: MCPServer[Any]) -> list[Any]:
    return server._tool_manager.list_tools()  # the SDK's registered tools (ours: ListedTool stand-ins)


async def test_the_default_server_lists_from_the_catalog_exactly_what_an_eager_build_lists() -> None:
    for options in ({}, {"read_only": True}, {"toolsets": TOOLSETS}, {"toolsets": TOOLSETS, "dynamic": "process"}):
        from_catalog = lean(**options)
        eager = lean(**options, from_catalog=False)
        assert all(isinstance(tool, ListedTool) for tool in listed(from_catalog)), options
        assert not any(isinstance(tool, ListedTool) for tool in listed(eager))
        assert await wire(from_catalog) == await wire(eager), options


async def test_every_toolset_and_read_only_combination_lists_exactly_the_eager_tools() -> None:
    eager = {tool["name"]: tool for tool in await wire(lean(toolsets=TOOLSETS, dynamic="process", from_catalog=False))}
    specs = discover().tools
    combinations = 0
    for size in range(len(TOOLSETS) + 1):
        for toolsets in itertools.combinations(TOOLSETS, size):
            for read_only in (False, True):
                expected = [eager[s.name] for s in select_specs(specs, toolsets=toolsets, read_only=read_only)]
                assert await wire(lean(toolsets=toolsets, read_only=read_only)) == expected, (toolsets, read_only)
                combinations += 1
    assert combinations == 2 ** (len(TOOLSETS) + 1)
    dynamic = await wire(lean(toolsets=DEFAULT_TOOLSETS, read_only=True, dynamic="session"))
    chosen = [*select_specs(specs, toolsets=DEFAULT_TOOLSETS, read_only=True), *META_SPECS]
    assert dynamic == [eager[name] for name in sorted(s.name for s in chosen)]


async def test_a_listed_tool_is_built_on_its_first_call_and_still_validates_arguments() -> None:
    server = lean()
    tool = next(t for t in listed(server) if t.name == "get_clip")
    async with Client(server) as client:
        await client.list_tools()
        assert tool._built is None  # listing built nothing
        refused = await client.call_tool("get_clip", {"clip_id": 42})
        assert refused.is_error
        assert refused.content[0].text.startswith("[invalid-argument] clip_id:")  # type: ignore[union-attr]
        assert tool._built is not None
        built = tool._built
        await client.call_tool("get_clip", {"clip_id": ""})
        assert tool._built is built  # built once


def test_a_tool_without_a_readable_catalog_file_is_built_at_start(tmp_path: Path) -> None:
    specs = [s for s in discover().tools if s.name in ("get_clip", "get_project", "get_scene")]
    (tmp_path / "get_clip.json").write_text((CATALOG_DIR / "get_clip.json").read_text(encoding="utf-8"), "utf-8")
    (tmp_path / "get_scene.json").write_text("{not json", encoding="utf-8")  # get_project has no file at all
    built: list[str] = []

    def build(spec: Any) -> Any:
        built.append(spec.name)
        return spec.name

    tools = listed_tools(specs, build, tmp_path)
    assert [t.name if isinstance(t, ListedTool) else t for t in tools] == ["get_clip", "get_project", "get_scene"]
    assert [type(t).__name__ for t in tools] == ["ListedTool", "str", "str"]
    assert built == ["get_project", "get_scene"]
