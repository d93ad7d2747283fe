"""The real command over stdio: a subprocess speaking MCP on stdout, both protocol eras."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.types import ResourceUpdatedNotification

from mcp_storyboard.db.embedded import find_executable
from mcp_storyboard.db.embedded_process import processes_using, send_signal

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_serve_command_answers_over_stdio(mode: str, tmp_path: object) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_storyboard", "serve", "--mongodb-uri", "memory://", "--db-name", "stdio_smoke"],
        env={"STORYBOARD_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"},
    )
    with anyio.fail_after(60):
        async with Client(params, mode=mode, cache=None) as client:
            info = client.server_info
            prompts = [p.name for p in (await client.list_prompts()).prompts]
            await client.list_tools()
            rendered = await client.get_prompt("review_continuity", {"project_id": "p-{1}"})
    assert info is not None and info.name == "mcp-storyboard"
    assert prompts == ["plan_storyboard", "prepare_for_edit", "review_continuity", "write_clip_prompts"]
    assert "project p-{1}" in rendered.messages[0].content.text  # type: ignore[union-attr]


@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
async def test_a_2025_era_client_over_stdio_subscribes_and_sets_its_log_level(tmp_path: object) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_storyboard", "serve", "--mongodb-uri", "memory://", "--db-name", "stdio_subscribe"],
        env={"STORYBOARD_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"},
    )
    send, updates = anyio.create_memory_object_stream[str](max_buffer_size=10)

    async def on_message(message: object) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            send.send_nowait(message.params.uri)

    with anyio.fail_after(60):
        async with Client(params, mode="legacy", cache=None, message_handler=on_message) as client:
            capabilities = client.server_capabilities
            await client.set_logging_level("info")
            await client.subscribe_resource("storyboard://projects")
            created = await client.call_tool("create_project", {"name": "Over stdio"})
            uri = await updates.receive()
    assert capabilities.resources is not None and capabilities.resources.subscribe is True
    assert capabilities.logging is not None
    assert not created.is_error
    assert uri == "storyboard://projects"


@pytest.mark.skipif(find_executable() is None, reason="secantusd-py is not installed")
async def test_the_serve_command_on_the_embedded_database_releases_it_after_the_client_leaves(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "mcp_storyboard", "serve"],
        env={"STORYBOARD_DATA_DIR": str(tmp_path), "PYTHONUNBUFFERED": "1"},
    )
    storage = tmp_path / "embedded" / "db"
    try:
        with anyio.fail_after(120):
            async with Client(params, mode="legacy", cache=None) as client:
                created = await client.call_tool("create_project", {"name": "Embedded over stdio"})
                listed = await client.call_tool("list_projects", {})
            assert not created.is_error and not listed.is_error
            assert "Embedded over stdio" in str(listed.structured_content)
            # The server exits without waiting for the database server; the detached helper sees its stop through.
            while processes_using(storage) or (tmp_path / "embedded" / "server.json").exists():
                await anyio.sleep(0.05)
    finally:
        for pid in processes_using(storage):
            send_signal(pid, signal.SIGKILL)
