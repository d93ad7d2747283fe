"""Start-up leaves the heavy optional libraries unimported (``mcp_storyboard/lazy_import.py``): a server built as
``serve`` builds it answers ``initialize`` and ``tools/list`` without OpenTimelineIO, Pillow, PyAV or bcrypt, and
a library named lazily is imported on its first use. Behaviour, not timing: ``tests/benchmarks/bench_startup.py``
has the figures."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

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

    server = app.create_server(Settings.from_env(mongodb_uri="memory://"), toolsets=TOOLSETS)

    async def main() -> int:
        async with Client(server) as client:
            return len((await client.list_tools()).tools)

    tools = anyio.run(main)
    print(json.dumps({"tools": tools, "modules": sorted(sys.modules)}))
    """
)


def test_the_server_starts_and_lists_its_tools_without_the_heavy_libraries() -> None:
    done = subprocess.run([sys.executable, "-c", START], cwd=ROOT, capture_output=True, text=True, check=False,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    modules = set(answer["modules"])
    assert answer["tools"] > 100
    # The modules that name these libraries were imported (every tool is declared): laziness keeps them out.
    for named in ("mcp_storyboard.services.export.service", "mcp_storyboard.services.sheets.draw",
                  "mcp_storyboard.services.users.passwords"):  # fmt: skip
        assert named in modules
    loaded = sorted(m for m in modules for heavy in HEAVY if m == heavy or m.startswith(heavy + "."))
    assert loaded == []


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
