"""Start-up leaves the heavy optional libraries unimported (``mcp_storyboard/lazy_import.py``): a server built as
``serve`` builds it answers ``initialize`` and ``tools/list`` without OpenTimelineIO, Pillow, PyAV or bcrypt, and
a library named lazily is imported on its first use. It answers them without importing its tool modules either
(``server/tools/``, imported on the first call: ``registry.DECLARATIONS``). Behaviour, not timing: ``tests/benchmarks/bench_startup.py``
has the figures."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from mcp_storyboard.lazy_import import lazy_module

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("opentimelineio", "PIL", "av", "bcrypt")

START = textwrap.dedent(
    """
    import json, sys
    import anyio
    from mcp import Client
    from mcp_storyboard.config import Settings
    from mcp_storyboard.server import app
    from mcp_storyboard.server.taxonomy import TOOLSETS

    TOOLS = "mcp_storyboard.server.tools"
    settings = Settings.from_env(mongodb_uri="memory://", dynamic_toolsets=sys.argv[1] == "dynamic")
    server = app.create_server(settings, toolsets=TOOLSETS)

    def tool_modules() -> list[str]:
        return sorted(m for m in sys.modules if m == TOOLS or m.startswith(TOOLS + "."))

    async def main() -> dict:
        async with Client(server) as client:
            tools = [t.name for t in (await client.list_tools()).tools]
            listed = {"tools": tools, "modules": sorted(sys.modules), "tool_modules": tool_modules()}
            refused = await client.call_tool("get_project", {"project_id": 42})
            created = await client.call_tool("create_project", {"name": "Lazy"})
            found = await client.call_tool("list_projects", {})
            return {**listed, "refused": refused.content[0].text, "created": created.structured_content,
                    "found": found.structured_content, "after_call": tool_modules()}

    print(json.dumps(anyio.run(main)))
    """
)


def start(mode: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", START, mode], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def test_the_server_starts_and_lists_its_tools_without_the_heavy_libraries() -> None:
    answer = start("static")
    modules = set(answer["modules"])
    assert len(answer["tools"]) > 100
    # The modules that name these libraries were imported (the services the resources read): laziness keeps the
    # libraries out.
    for named in ("mcp_storyboard.services.export.service", "mcp_storyboard.services.sheets.draw",
                  "mcp_storyboard.services.users.passwords"):  # fmt: skip
        assert named in modules
    loaded = sorted(m for m in modules for heavy in HEAVY if m == heavy or m.startswith(heavy + "."))
    assert loaded == []


@pytest.mark.parametrize("mode", ["static", "dynamic"])
def test_the_tool_modules_are_imported_on_the_first_call_not_to_list_the_tools(mode: str) -> None:
    answer = start(mode)
    assert answer["tool_modules"] == []  # initialize and tools/list answered from the catalog
    assert ("enable_toolset" in answer["tools"]) == (mode == "dynamic")
    assert "get_project" in answer["tools"]
    assert answer["refused"].startswith("[invalid-argument] project_id:")  # the first call validates as before
    assert [(p["id"], p["name"]) for p in answer["found"]["items"]] == [(answer["created"]["id"], "Lazy")]
    assert "mcp_storyboard.server.tools.projects" in answer["after_call"]


def test_a_lazy_module_is_imported_on_first_use() -> None:
    code = textwrap.dedent(
        """
        import sys
        from mcp_storyboard.lazy_import import lazy_module
        image = lazy_module("PIL.Image")
        before = "PIL.Image" in sys.modules
        print(before, image.new("RGB", (2, 3)).size, "PIL.Image" in sys.modules)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "(2,", "3)", "True"]


def test_a_lazy_module_reads_through_to_the_module() -> None:
    json_module = lazy_module("json")
    assert json_module.dumps([1]) == "[1]"
    assert json_module.JSONDecodeError is json.JSONDecodeError
    assert repr(json_module) == "<lazy module 'json'>"
