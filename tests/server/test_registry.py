"""Tool declarations: conventions checked at import time, discovery, and the fail-closed selection."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from mcp_storyboard.server import registry
from mcp_storyboard.server.registry import (
    ToolRegistry,
    ToolSpec,
    collect,
    discover,
    select_specs,
)

from .conftest import EXAMPLE


class Out(BaseModel):
    ok: bool


def test_a_declared_tool_carries_its_toolset_operation_and_docstring() -> None:
    tool = ToolRegistry("styles")

    @tool(title="Get a style", operation="read")
    async def get_style(style_id: str, ctx: Context) -> Out:
        """One style.

        With details.
        """
        return Out(ok=True)

    (spec,) = tool.specs
    assert (spec.name, spec.toolset, spec.operation, spec.context_param) == ("get_style", "styles", "read", "ctx")
    assert spec.description == "One style.\n\nWith details."
    assert spec.annotations.read_only_hint is True


async def _handler(ctx: Context) -> Out:
    """Doc."""
    return Out(ok=True)


def _sync_handler(ctx: Context) -> Out:
    """Doc."""
    return Out(ok=True)


async def _no_context(x: int) -> Out:
    """Doc."""
    return Out(ok=True)


async def _returns_dict(ctx: Context) -> dict[str, Any]:
    """Doc."""
    return {}


async def _no_doc(ctx: Context) -> Out:
    return Out(ok=True)


@pytest.mark.parametrize(
    ("handler", "options", "message"),
    [
        (_handler, {"name": "Thing"}, "verb_noun snake case"),
        (_handler, {"name": "get"}, "verb_noun snake case"),
        (_handler, {"name": "get_thing", "title": " "}, "title is empty"),
        (_handler, {"name": "get_thing", "operation": "write"}, "operation 'write'"),
        (_sync_handler, {"name": "get_thing"}, "must be an async def"),
        (_no_context, {"name": "get_thing"}, "ctx: Context"),
        (_returns_dict, {"name": "get_thing"}, "pydantic model"),
        (_no_doc, {"name": "get_thing"}, "docstring"),
        (_handler, {"name": "get_thing", "destructive": True}, "cannot be destructive"),
    ],
)
def test_a_declaration_that_breaks_a_convention_fails_at_import(handler: Any, options: dict[str, Any],
                                                                message: str) -> None:
    tool = ToolRegistry("storyboard")
    options = {"title": "T", "operation": "read", **options}
    with pytest.raises((ValueError, TypeError), match=message):
        tool(**options)(handler)


def test_a_tool_declared_twice_is_refused() -> None:
    tool = ToolRegistry("storyboard")
    tool(title="T", operation="read", name="get_thing")(_handler)
    with pytest.raises(ValueError, match="declared twice"):
        tool(title="T", operation="read", name="get_thing")(_handler)


def test_an_unknown_toolset_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown toolset 'scenes'"):
        ToolRegistry("scenes")  # type: ignore[arg-type]


def test_collect_refuses_a_name_declared_in_two_modules_and_a_mismatched_toolset() -> None:
    first, second = ToolRegistry("storyboard"), ToolRegistry("styles")
    first(title="T", operation="read", name="get_thing")(_handler)
    second(title="T", operation="read", name="get_thing")(_handler)
    a, b = ModuleType("a"), ModuleType("b")
    a.tool, b.tool = first, second  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="declared in two modules"):
        collect([a, b])
    b.TOOLSET = "storyboard"  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="TOOLSET is 'storyboard'"):
        collect([b])


def test_selection_filters_before_registration_by_toolset_and_read_only() -> None:
    def names(specs: list[ToolSpec]) -> list[str]:
        return [s.name for s in specs]

    assert names(select_specs(EXAMPLE.tools, toolsets={"storyboard"}, read_only=True)) == [
        "get_thing", "list_many_things",
    ]
    assert names(select_specs(EXAMPLE.tools, toolsets={"users", "characters"}, read_only=False)) == [
        "list_users", "set_character_mood",
    ]
    assert select_specs(EXAMPLE.tools, toolsets=set(), read_only=False) == []


def test_every_tool_module_under_server_tools_declares_valid_tools() -> None:
    found = discover()
    assert len({s.name for s in found.tools}) == len(found.tools)


TOOL_MODULES = sorted(p for p in (Path(registry.__file__).parent / "tools").glob("*.py") if not p.name.startswith("_"))


@pytest.mark.parametrize("path", TOOL_MODULES, ids=lambda p: p.name)
def test_every_tool_module_declares_its_toolset_at_the_top(path: Path) -> None:
    assigned: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Assign):
            assigned.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            assigned.add(node.target.id)
    assert "TOOLSET" in assigned, f"{path.name}: declare `TOOLSET: Toolset = \"...\"` at the top"
