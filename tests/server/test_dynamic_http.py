"""Dynamic toolsets over Streamable HTTP: enabled per 2025-era session; 2026-era requests, which have no session,
are refused with -32022 naming the handshake versions (a client speaking both falls back to the handshake)."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client
from mcp.client.session import IncomingMessage
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import ToolListChangedNotification
from mcp_types import UNSUPPORTED_PROTOCOL_VERSION

from mcp_storyboard.config import Settings
from mcp_storyboard.server import app
from tests.server.conftest import served_over_http


pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")]


def http_server_as_configured() -> MCPServer[Any]:
    """What ``serve --transport http`` builds with STORYBOARD_DYNAMIC_TOOLSETS=1 (on a throwaway database)."""
    settings = Settings.from_env({"STORYBOARD_DYNAMIC_TOOLSETS": "1", "MONGODB_URI": "memory://", "DB_NAME": "dyn_http"})
    return app.create_server(settings, transport="http")


async def names(client: Client) -> set[str]:
    return {tool.name for tool in (await client.list_tools()).tools}


async def test_enabling_a_toolset_in_one_http_session_leaves_another_session_alone() -> None:
    notices: list[str] = []

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, ToolListChangedNotification):
            notices.append(message.method)

    async with served_over_http(http_server_as_configured()) as url:
        async with Client(url, mode="legacy", message_handler=on_message) as first, \
                Client(url, mode="auto") as second:
            assert second.session.initialize_result is not None  # auto mode fell back to the 2025-era handshake
            assert first.server_capabilities.tools is not None and first.server_capabilities.tools.list_changed
            enabled = await first.call_tool("enable_toolset", {"toolset": "characters"})
            assert enabled.structured_content is not None and "create_character" in enabled.structured_content["added"]
            assert notices == ["notifications/tools/list_changed"]  # on the call's own stream, before its result
            assert "create_character" in await names(first)
            assert "create_character" not in await names(second) and "create_project" in await names(second)
            project = await second.call_tool("create_project", {"name": "Over HTTP"})
            assert project.structured_content is not None
            arguments = {"project_id": project.structured_content["id"], "name": "Mara"}
            with pytest.raises(MCPError, match="not enabled; call enable_toolset with toolset: 'characters'"):
                await second.call_tool("create_character", arguments)
            created = await first.call_tool("create_character", arguments)
            assert not created.is_error and created.structured_content is not None
            got = await first.call_tool("get_character", {"character_id": created.structured_content["id"]})
            assert got.structured_content is not None and got.structured_content["name"] == "Mara"


async def test_a_2026_era_request_over_http_is_refused_with_the_versions_to_use() -> None:
    async with served_over_http(http_server_as_configured()) as url:
        with pytest.raises(BaseException) as raised:
            async with Client(url, mode="2026-07-28") as client:
                await client.list_tools()
    error = raised.value
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    assert isinstance(error, MCPError) and error.error.code == UNSUPPORTED_PROTOCOL_VERSION
    assert "enables toolsets per session" in error.error.message
    assert "connect with protocol 2025-11-25" in error.error.message
    assert error.error.data["supported"][-1] == "2025-11-25"


async def test_a_static_http_server_still_serves_the_2026_era() -> None:
    settings = Settings.from_env({"MONGODB_URI": "memory://", "DB_NAME": "static_http"})
    async with served_over_http(app.create_server(settings, transport="http")) as url:
        async with Client(url, mode="2026-07-28") as client:
            assert "create_character" in await names(client)
