"""Start-up imports what answering ``initialize`` and ``tools/list`` needs, and no more.

- Importing the server imports no service module and no driver (pymongo, bson): the service packages export their
  services lazily (``lazy_import.lazy_exports``), and the services open after the handshake (``server/scope.py``).
- The heavy optional libraries (OpenTimelineIO, Pillow, PyAV, bcrypt) stay unimported until used, even once the
  services are open (``lazy_import.lazy_module``).
- The tool modules (``server/tools/``) are imported on the first call (``registry.DECLARATIONS``).

Behaviour, not timing: ``tests/benchmarks/bench_startup.py`` has the figures."""

from __future__ import annotations

import importlib
import json
import pkgutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import mcp_storyboard.services
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
                    "found": found.structured_content, "after_call": tool_modules(),
                    "modules_after_call": sorted(sys.modules)}

    print(json.dumps(anyio.run(main)))
    """
)


def start(mode: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", START, mode], cwd=ROOT, capture_output=True, text=True,
                          check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def heavy_in(modules: list[str]) -> list[str]:
    return sorted(m for m in modules for heavy in HEAVY if m == heavy or m.startswith(heavy + "."))


def test_the_server_starts_and_lists_its_tools_without_the_heavy_libraries() -> None:
    answer = start("static")
    assert len(answer["tools"]) > 100
    assert heavy_in(answer["modules"]) == []
    # The first calls opened the services, which imported the modules that name these libraries: laziness keeps the
    # libraries out until a tool draws, exports, renders or hashes a password.
    after_call = set(answer["modules_after_call"])
    for named in ("mcp_storyboard.services.export.service", "mcp_storyboard.services.sheets.draw",
                  "mcp_storyboard.services.users.passwords"):  # fmt: skip
        assert named in after_call
    assert heavy_in(answer["modules_after_call"]) == []


def imported_by(code: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
                          cwd=ROOT, capture_output=True, text=True, check=False, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
    return modules


def test_importing_the_server_imports_no_service_and_no_driver() -> None:
    modules = imported_by("import mcp_storyboard.server.app")
    assert "mcp_storyboard.server.resources" in modules and "mcp_storyboard.services.render.views" in modules
    driver = [m for m in modules if m.split(".")[0] in ("pymongo", "bson", "gridfs", "motor", "mongomock")]
    assert driver == []
    services = [m for m in modules if m.startswith("mcp_storyboard.services.")
                and (m.endswith(".service") or m == "mcp_storyboard.services.container")]  # fmt: skip
    assert services == []


def test_a_service_package_imports_its_service_when_it_is_first_named() -> None:
    modules = imported_by("from mcp_storyboard.services.users import views")
    assert "mcp_storyboard.services.users.views" in modules and "mcp_storyboard.services.users.service" not in modules
    named = imported_by("from mcp_storyboard.services.users import UserService")
    assert {"mcp_storyboard.services.users.service", "pymongo"} <= set(named)


def service_packages() -> list[str]:
    found = pkgutil.iter_modules(mcp_storyboard.services.__path__, "mcp_storyboard.services.")
    return sorted(info.name for info in found if info.ispkg and info.name != "mcp_storyboard.services.common")


@pytest.mark.parametrize("name", service_packages())
def test_every_export_of_a_service_package_is_the_object_its_module_defines(name: str) -> None:
    package = importlib.import_module(name)
    exports: list[str] = package.__all__
    assert exports and set(exports) <= set(dir(package))
    for export in exports:
        value = getattr(package, export)
        home = importlib.import_module(value.__module__) if hasattr(value, "__module__") else package
        assert getattr(home, export, value) is value
    with pytest.raises(AttributeError, match=f"module '{name}' has no attribute 'NoSuchService'"):
        package.NoSuchService  # noqa: B018


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
