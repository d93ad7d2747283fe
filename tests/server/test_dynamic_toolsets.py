"""Dynamic toolsets through real clients with their response cache on, in both protocol eras, over the example
toolset (storyboard: 4 tools, characters: 1 update, users: 1 read)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.client.session import IncomingMessage
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.shared.subscriptions import ToolsListChanged
from mcp.types import INVALID_PARAMS, ToolListChangedNotification

from mcp_storyboard import cli
from mcp_storyboard.config import Settings
from mcp_storyboard.errors import ConfigError
from mcp_storyboard.server import app
from mcp_storyboard.server.dynamic_toolsets import DynamicToolsets, dynamic_toolsets_of
from mcp_storyboard.server.taxonomy import TOOLSETS

from .conftest import EXAMPLE, example_server

pytestmark = pytest.mark.anyio

STORYBOARD = ["delete_thing", "get_thing", "list_many_things", "rename_thing"]
META = ["enable_toolset", "list_toolsets"]


async def names(client: Client) -> list[str]:
    return [tool.name for tool in (await client.list_tools()).tools]


@asynccontextmanager
async def dynamic_client(mode: str, server: MCPServer[Any]) -> AsyncIterator[tuple[Client, Callable[[], Awaitable[None]]]]:
    """A client with its cache on, and ``changed()``: wait for the next tools list-changed notice the way the era
    delivers it (``subscriptions/listen`` at 2026-07-28, a notification on the connection at 2025-11-25)."""
    send, receive = anyio.create_memory_object_stream[str](max_buffer_size=10)

    async def on_message(message: IncomingMessage) -> None:
        if isinstance(message, ToolListChangedNotification):
            send.send_nowait(message.method)

    async with Client(server, mode=mode, message_handler=on_message) as client:
        if mode == "legacy":

            async def changed() -> None:
                with anyio.fail_after(5):
                    await receive.receive()

            yield client, changed
            return
        async with client.listen(tools_list_changed=True) as subscription:

            async def heard() -> None:
                with anyio.fail_after(5):
                    assert isinstance(await subscription.__anext__(), ToolsListChanged)

            yield client, heard


async def test_a_session_starts_with_the_storyboard_toolset_and_enables_another(mode: str) -> None:
    async with dynamic_client(mode, example_server(dynamic="process", toolsets=TOOLSETS)) as (client, changed):
        assert await names(client) == sorted(STORYBOARD + META)
        listed = (await client.call_tool("list_toolsets", {})).structured_content
        assert listed == {"toolsets": [
            {"name": "storyboard", "description": listed["toolsets"][0]["description"], "tools": 4, "enabled": True},
            {"name": "characters", "description": listed["toolsets"][1]["description"], "tools": 1, "enabled": False},
            {"name": "users", "description": listed["toolsets"][2]["description"], "tools": 1, "enabled": False},
        ]}
        with pytest.raises(MCPError) as hidden:
            await client.call_tool("set_character_mood", {"character_id": "c1", "mood": "calm", "confirm": True})
        assert hidden.value.error.code == INVALID_PARAMS
        assert "toolset 'characters', which is not enabled; call enable_toolset" in hidden.value.error.message

        enabled = await client.call_tool("enable_toolset", {"toolset": "characters"})
        assert enabled.structured_content == {
            "toolset": "characters", "added": ["set_character_mood"], "enabled": ["characters", "storyboard"]
        }
        await changed()
        assert await names(client) == sorted(STORYBOARD + META + ["set_character_mood"])  # the cache did not hold it
        called = await client.call_tool("set_character_mood", {"character_id": "c1", "mood": "calm", "confirm": True})
        assert not called.is_error and called.structured_content == {"id": "c1", "name": "calm"}

        again = await client.call_tool("enable_toolset", {"toolset": "characters"})
        assert again.structured_content == {"toolset": "characters", "added": [], "enabled": ["characters", "storyboard"]}
        listed = (await client.call_tool("list_toolsets", {})).structured_content
        assert [t["enabled"] for t in listed["toolsets"]] == [True, True, False]


async def test_the_tool_list_carries_no_cache_hint_and_list_changed_is_advertised(mode: str) -> None:
    async with Client(example_server(dynamic="process"), mode=mode) as client:  # cache on, nothing listening
        tools = await client.list_tools()
        prompts = await client.list_prompts()
        capabilities = client.server_capabilities
        await client.call_tool("enable_toolset", {"toolset": "characters"})
        assert "set_character_mood" in await names(client)  # not a cached copy of the first list
    async with Client(example_server(), mode=mode) as static_client:
        static_tools = await static_client.list_tools()
        static_capabilities = static_client.server_capabilities
    assert capabilities.tools is not None and capabilities.tools.list_changed is True
    if mode == "legacy":  # a static server does not announce changes it never makes
        assert static_capabilities.tools is not None and not static_capabilities.tools.list_changed
    else:  # 2026-era hints: the dynamic list is not cacheable, the static one and the prompts still are
        assert (tools.ttl_ms, tools.cache_scope) == (0, "private")  # the spec's defaults: immediately stale
        assert static_tools.ttl_ms == prompts.ttl_ms == 600_000


async def test_read_only_mode_offers_only_toolsets_with_read_tools_and_enables_only_reads(mode: str) -> None:
    server = example_server(dynamic="process", toolsets=TOOLSETS, read_only=True)
    async with dynamic_client(mode, server) as (client, changed):
        assert await names(client) == sorted(["get_thing", "list_many_things"] + META)
        listed = (await client.call_tool("list_toolsets", {})).structured_content
        assert [(t["name"], t["tools"]) for t in listed["toolsets"]] == [("storyboard", 2), ("users", 1)]
        refused = await client.call_tool("enable_toolset", {"toolset": "characters"})
        assert refused.is_error
        text = refused.content[0].text  # type: ignore[union-attr]
        assert text == "[invalid-argument] toolset: 'characters' is not offered by this server. " \
            "Allowed values: storyboard, users"
        assert await names(client) == sorted(["get_thing", "list_many_things"] + META)
        with pytest.raises(MCPError, match="Unknown tool"):
            await client.call_tool("set_character_mood", {"character_id": "c1", "mood": "calm", "confirm": True})

        enabled = await client.call_tool("enable_toolset", {"toolset": "users"})
        assert enabled.structured_content == {"toolset": "users", "added": ["list_users"], "enabled": ["storyboard", "users"]}
        await changed()
        assert await names(client) == sorted(["get_thing", "list_many_things", "list_users"] + META)


async def test_a_toolset_outside_the_filter_cannot_be_enabled_and_the_start_set_respects_it(mode: str) -> None:
    server = example_server(dynamic="process", toolsets=["characters"])
    async with Client(server, mode=mode) as client:
        assert await names(client) == META  # storyboard is outside --toolsets: only the meta tools
        for toolset in ("users", "storyboard"):
            refused = await client.call_tool("enable_toolset", {"toolset": toolset})
            assert refused.is_error and "Allowed values: characters" in refused.content[0].text  # type: ignore[union-attr]
        unknown = await client.call_tool("enable_toolset", {"toolset": "everything"})
        assert unknown.is_error and unknown.content[0].text.startswith("[invalid-argument] toolset:")  # type: ignore[union-attr]
        assert "'characters'" in unknown.content[0].text  # type: ignore[union-attr]
        assert await names(client) == META


async def test_process_scope_is_shared_by_every_connection_of_the_server(mode: str) -> None:
    server = example_server(dynamic="process")
    async with Client(server, mode=mode) as first, Client(server, mode=mode) as second:
        await first.call_tool("enable_toolset", {"toolset": "characters"})
        assert "set_character_mood" in await names(second)


async def test_session_scope_keeps_each_connection_apart_and_forgets_a_closed_one() -> None:
    server = example_server(dynamic="session")
    state = dynamic_toolsets_of(server)
    assert state is not None and dynamic_toolsets_of(example_server()) is None
    async with Client(server, mode="legacy") as first:
        async with Client(server, mode="legacy") as second:
            await first.call_tool("enable_toolset", {"toolset": "characters"})
            assert "set_character_mood" in await names(first)
            assert "set_character_mood" not in await names(second)
            with pytest.raises(MCPError, match="not enabled"):
                await second.call_tool("set_character_mood", {"character_id": "c1", "mood": "calm", "confirm": True})
            assert state.sessions == 2
        assert state.sessions == 1
    assert state.sessions == 0


def test_the_state_groups_the_registered_tools_by_toolset() -> None:
    state = DynamicToolsets(EXAMPLE.tools, scope="session")
    assert list(state.members) == ["storyboard", "characters", "users"]
    assert state.toolset_of["list_users"] == "users"
    with pytest.raises(ValueError, match="scope 'http'"):
        DynamicToolsets(EXAMPLE.tools, scope="http")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("env", "argv", "expected"),
    [
        ({}, [], False),
        ({"STORYBOARD_DYNAMIC_TOOLSETS": "1"}, [], True),
        ({"STORYBOARD_DYNAMIC_TOOLSETS": "off"}, [], False),
        ({"STORYBOARD_DYNAMIC_TOOLSETS": "0"}, ["--dynamic-toolsets"], True),
    ],
)
def test_the_flag_or_the_environment_turns_dynamic_toolsets_on(
    env: dict[str, str], argv: list[str], expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("MONGODB_URI", "MONGO_URL", "STORYBOARD_DYNAMIC_TOOLSETS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = cli.settings_from_args(cli.build_parser().parse_args(["serve", "--mongodb-uri", "memory://", *argv]))
    assert settings.dynamic_toolsets is expected


def test_a_bad_environment_value_names_the_variable_and_the_fix() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"STORYBOARD_DYNAMIC_TOOLSETS": "sometimes"})
    assert str(raised.value) == "STORYBOARD_DYNAMIC_TOOLSETS 'sometimes' is not a yes/no value. Set it to 1 or 0"


@pytest.mark.parametrize(("transport", "scope"), [("stdio", "process"), ("http", "session")])
def test_the_transport_decides_the_scope(transport: app.Transport, scope: str) -> None:
    dynamic = Settings.from_env({"MONGODB_URI": "memory://", "STORYBOARD_DYNAMIC_TOOLSETS": "1"})
    state = dynamic_toolsets_of(app.create_server(dynamic, transport=transport))
    assert state is not None and state.scope == scope
    assert dynamic_toolsets_of(app.create_server(dynamic.with_(dynamic_toolsets=False), transport=transport)) is None
