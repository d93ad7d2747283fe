"""The real command with dynamic toolsets over stdio (the process is the scope), in both protocol eras: the flag
for the 2025-era client, the environment variable for the 2026-era one."""

from __future__ import annotations

import sys

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.session import IncomingMessage
from mcp.shared.subscriptions import ToolsListChanged
from mcp.types import ToolListChangedNotification

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_serve_command_starts_small_and_enables_a_toolset(mode: str, tmp_path: object) -> None:
    flag, env = (["--dynamic-toolsets"], {}) if mode == "legacy" else ([], {"STORYBOARD_DYNAMIC_TOOLSETS": "1"})
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_storyboard", "serve", "--mongodb-uri", "memory://", "--db-name", "stdio_dynamic", *flag],
        env={"STORYBOARD_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1", **env},
    )
    send, notices = anyio.create_memory_object_stream[str](max_buffer_size=10)

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, ToolListChangedNotification):
            send.send_nowait(message.method)

    with anyio.fail_after(60):
        async with Client(params, mode=mode, message_handler=on_message) as client:
            capabilities = client.server_capabilities
            before = {t.name for t in (await client.list_tools()).tools}
            if mode == "legacy":
                enabled = await client.call_tool("enable_toolset", {"toolset": "styles"})
                assert await notices.receive() == "notifications/tools/list_changed"
            else:
                async with client.listen(tools_list_changed=True) as subscription:
                    enabled = await client.call_tool("enable_toolset", {"toolset": "styles"})
                    assert isinstance(await subscription.__anext__(), ToolsListChanged)
            after = {t.name for t in (await client.list_tools()).tools}
    assert capabilities.tools is not None and capabilities.tools.list_changed is True
    assert {"create_project", "list_toolsets", "enable_toolset"} <= before
    assert not any("style" in name for name in before) and "create_character" not in before
    assert enabled.structured_content is not None and "create_style_template" in enabled.structured_content["added"]
    assert after == before | set(enabled.structured_content["added"])
