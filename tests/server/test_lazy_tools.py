"""The project's own server knows its tools from the catalog until a request needs a handler: selection and the
policy middleware read each tool's facts from its entry (``tool_snapshot.CatalogTool``), and the modules under
``server/tools/`` are imported once, on the first call or completion (``registry.DECLARATIONS``).

The subprocess test that a server built as ``serve`` builds it answers ``tools/list`` with no tool module imported
is in ``test_lazy_imports.py``."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from mcp import Client
from mcp.server.mcpserver import MCPServer
from mcp.types import PromptReference

from mcp_storyboard.server import registry
from mcp_storyboard.server.auth import is_admin_only
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.catalog import no_services
from mcp_storyboard.server.completions import CompleterSpec, install_completions
from mcp_storyboard.server.dynamic_toolsets import DynamicToolsets
from mcp_storyboard.server.registry import Declarations, LazyDeclarations, ToolSpec, discover, select_specs
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.server.tool_snapshot import CatalogTool, ListedTool, catalog_tools, load_catalog

pytestmark = pytest.mark.anyio


def facts(tool: ToolSpec | CatalogTool) -> tuple[Any, ...]:
    return tool.name, tool.title, tool.description, tool.toolset, tool.operation, tool.annotations


def test_every_catalog_entry_declares_the_facts_of_the_live_tool() -> None:
    # Selection, read-only mode, dynamic toolsets and the admin guard read these facts from the catalog at start:
    # they must be the declarations' own, for every tool, so the catalog can never select differently.
    specs = {spec.name: spec for spec in discover().tools}
    listed = {tool.name: tool for tool in catalog_tools(load_catalog())}
    assert sorted(listed) == sorted(specs)
    for name, spec in specs.items():
        assert facts(listed[name]) == facts(spec), name
    for read_only in (False, True):
        for toolset in TOOLSETS:
            chosen = [t.name for t in select_specs(listed.values(), toolsets=[toolset], read_only=read_only)]
            assert chosen == [s.name for s in select_specs(specs.values(), toolsets=[toolset], read_only=read_only)]
    assert {n for n, t in listed.items() if is_admin_only(n, t.toolset, t.operation)} == {
        n for n, s in specs.items() if is_admin_only(n, s.toolset, s.operation)}
    from_catalog = DynamicToolsets(listed.values(), scope="process")
    assert from_catalog.members == DynamicToolsets(specs.values(), scope="process").members


def test_an_entry_without_a_selectable_toolset_or_its_facts_is_no_catalog_tool() -> None:
    entry = load_catalog()["get_clip"]
    assert CatalogTool.of(entry) is not None
    assert CatalogTool.of({**entry, "toolset": "dynamic"}) is None  # the meta tools: declared in dynamic_toolsets
    assert CatalogTool.of({**entry, "operation": "erase"}) is None
    assert CatalogTool.of({k: v for k, v in entry.items() if k != "annotations"}) is None


def test_parallel_first_uses_discover_once(monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []
    found = Declarations(tools=tuple(discover().tools[:2]))

    def slow_discover(package: str) -> Declarations:
        calls.append(package)
        entered.set()
        release.wait()
        return found

    monkeypatch.setattr(registry, "discover", slow_discover)
    lazy = LazyDeclarations("some.package")
    assert not lazy.loaded
    results: list[Declarations] = []
    threads = [threading.Thread(target=lambda: results.append(lazy.get())) for _ in range(4)]
    threads[0].start()
    entered.wait()  # the first use is importing: the others arrive while it does
    for thread in threads[1:]:
        thread.start()
    release.set()
    for thread in threads:
        thread.join()
    assert calls == ["some.package"]
    assert results == [found] * 4 and all(r is found for r in results)
    assert lazy.spec(found.tools[0].name) is found.tools[0]
    assert lazy.spec("no_such_tool") is None


async def test_a_tool_whose_declaration_drifted_from_the_catalog_is_refused_and_not_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A stale catalog listing a write as a read would let read-only mode offer it: the call checks the declaration.
    real = registry.DECLARATIONS.spec("list_projects")
    assert real is not None
    ran: list[str] = []

    async def handler(**_: Any) -> Any:
        ran.append("list_projects")

    drifted = dataclasses.replace(real, operation="update", handler=handler)
    monkeypatch.setattr(registry.DECLARATIONS, "spec", lambda name: drifted if name == "list_projects" else None)
    server = build_server(no_services, read_only=True, prompts=[], completers=[], installers=[])
    async with Client(server) as client:
        assert "list_projects" in {t.name for t in (await client.list_tools()).tools}
        drift = await client.call_tool("list_projects", {})
        gone = await client.call_tool("get_clip", {"clip_id": "c1"})
    assert drift.is_error and gone.is_error
    assert drift.content[0].text == (  # type: ignore[union-attr]
        "tool 'list_projects' is listed from the catalog as storyboard/read but declared storyboard/update; "
        "the catalog is stale (regenerate tools/*.json)")
    assert "'get_clip' is listed from the catalog as storyboard/read but no module declares it" in (
        gone.content[0].text)  # type: ignore[union-attr]
    assert ran == []


async def test_a_listed_tool_resolves_its_spec_on_first_call_only(monkeypatch: pytest.MonkeyPatch) -> None:
    resolved: list[str] = []
    real_spec = registry.DECLARATIONS.spec

    def spec(name: str) -> ToolSpec | None:
        resolved.append(name)
        return real_spec(name)

    monkeypatch.setattr(registry.DECLARATIONS, "spec", spec)
    server = build_server(no_services, prompts=[], completers=[], installers=[])
    tool = next(t for t in server._tool_manager.list_tools() if t.name == "get_clip")
    assert isinstance(tool, ListedTool)
    async with Client(server) as client:
        await client.list_tools()
        assert resolved == []
        refused = await client.call_tool("get_clip", {"clip_id": 42})
        assert refused.content[0].text.startswith("[invalid-argument] clip_id:")  # type: ignore[union-attr]
        await client.call_tool("get_clip", {"clip_id": 43})
    assert resolved == ["get_clip"]


async def test_completers_given_as_a_callable_are_found_on_the_first_completion_once() -> None:
    asked: list[int] = []

    async def names(value: str, context: Any, services: Any) -> Sequence[str]:
        return [f"{value}-a", f"{value}-b"]

    def completers() -> list[CompleterSpec]:
        asked.append(1)
        return [CompleterSpec(kind="prompt", ref="*", argument="project_id", fn=names)]

    server: MCPServer[Any] = build_server(no_services, specs=[], completers=[], installers=[])
    install_completions(server, completers)  # the last handler registered answers
    prompt = next(p for p in await server.list_prompts() if any(a.name == "project_id" for a in p.arguments or []))
    assert asked == []
    async with Client(server) as client:
        ref = PromptReference(type="ref/prompt", name=prompt.name)
        first = await client.complete(ref, {"name": "project_id", "value": "p"})
        again = await client.complete(ref, {"name": "project_id", "value": "q"})
    assert first.completion.values == ["p-a", "p-b"] and again.completion.values == ["q-a", "q-b"]
    assert asked == [1]


def test_completers_given_as_a_sequence_are_checked_when_installed() -> None:
    async def none(value: str, context: Any, services: Any) -> Sequence[str]:
        return []

    twice = [CompleterSpec(kind="prompt", ref="*", argument="project_id", fn=none)] * 2
    with pytest.raises(ValueError, match="two completers"):
        build_server(no_services, specs=[], completers=twice, installers=[])
