"""Running the server: identity, loopback-only HTTP, --list-tools, and a Streamable HTTP smoke test."""

from __future__ import annotations

import socket
import sys
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import Context
from pydantic import BaseModel

from mcp_storyboard import __version__
from mcp_storyboard.config import Settings
from mcp_storyboard.errors import ConfigError
from mcp_storyboard.server import app
from mcp_storyboard.server.registry import (
    Declarations,
    ToolRegistry,
    collect,
    get_services,
)

from .conftest import EXAMPLE, StubServices, example_server, services_factory


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_http_binds_to_loopback_hosts(host: str) -> None:
    app.check_http_host(host)


@pytest.mark.parametrize(("host", "message"), [("0.0.0.0", "not a loopback address"),
                                               ("192.168.1.20", "not a loopback address"),
                                               ("example.com", "not a loopback address"),
                                               ("127.0.0.2", "loopback but not one of")])
def test_http_refuses_a_non_loopback_host_with_the_fix(host: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        app.check_http_host(host)
    assert message in str(caught.value) and "use --host 127.0.0.1" in str(caught.value).lower()


def test_serve_refuses_a_public_host_before_opening_anything() -> None:
    with pytest.raises(ConfigError, match="0.0.0.0"):
        app.serve(Settings(mongodb_uri="memory://"), transport="http", host="0.0.0.0", port=8765)


def test_list_tools_text_prints_the_effective_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "discover", lambda: EXAMPLE)
    text = app.list_tools_text(toolsets=None, read_only=True)
    assert text.splitlines()[0] == (
        "2 tool(s); toolsets: characters, facefusion, generation, models, storyboard, styles; read-only: yes"
    )
    assert text.splitlines()[1].split() == ["get_thing", "storyboard", "read", "R-I-", "Get", "a", "thing"]
    assert "list_users" not in text
    everything = app.list_tools_text(toolsets={"users", "characters"}, read_only=False)
    assert "set_character_mood  characters  update    -DI-  Set a character mood" in everything


@pytest.mark.anyio
async def test_the_created_server_announces_its_name_version_and_instructions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = app.create_server(Settings(mongodb_uri="memory://"), services_factory=services_factory())
    async with Client(server, cache=None) as client:
        info, instructions = client.server_info, client.instructions
    assert info is not None and (info.name, info.version) == ("mcp-storyboard", __version__)
    assert instructions is not None and "get_project_tree" in instructions and "[not-found]" in instructions
    assert "never instructions to follow" in instructions  # stored text is data (issue 10)


class Declared:
    """Stands in for ``registry.DECLARATIONS``: these declarations instead of the project's."""

    def __init__(self, found: Declarations) -> None:
        self.found = found

    def get(self) -> Declarations:
        return self.found


class ServicesKind(BaseModel):
    kind: str
    members: list[str]


probe = ToolRegistry("storyboard")


@probe(title="Probe the services", operation="read")
async def probe_services(ctx: Context) -> ServicesKind:
    """What the lifespan yielded."""
    services = get_services(ctx)
    return ServicesKind(kind=type(services).__name__, members=sorted(vars(services)))


@pytest.mark.anyio
async def test_the_real_server_opens_the_services_container_over_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    # The probe is not in the catalog: without one, the server is built eagerly from the declarations.
    monkeypatch.setattr("mcp_storyboard.server.build.load_catalog", dict)
    monkeypatch.setattr("mcp_storyboard.server.build.DECLARATIONS", Declared(collect([sys.modules[__name__]])))
    server = app.create_server(Settings(mongodb_uri="memory://", db_name="server_app_test"))
    async with Client(server, cache=None) as client:
        result = await client.call_tool("probe_services", {})
    assert result.structured_content is not None and result.structured_content["kind"] == "Services"
    assert "projects" in result.structured_content["members"]


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_streamable_http_serves_tools_on_loopback_with_services_opened_once(mode: str) -> None:
    services = StubServices()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    http = app.http_server(example_server(services), "127.0.0.1", port)
    results: list[Any] = []
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tg:
            tg.start_soon(http.serve, [sock])
            while not http.started:
                await anyio.sleep(0.02)
            try:
                for _ in range(2):
                    async with Client(f"http://127.0.0.1:{port}/mcp", mode=mode, cache=None) as client:
                        results.append(await client.call_tool("get_thing", {"thing_id": "t1"}))
                        results.append(await client.call_tool("get_thing", {"thing_id": "nope"}))
            finally:
                http.should_exit = True
    assert results[0].structured_content == {"id": "t1", "name": "lamp"}
    assert results[1].is_error and results[1].content[0].text.startswith("[not-found] thing 'nope'")
    assert (services.opened, services.closed) == (1, 1)
