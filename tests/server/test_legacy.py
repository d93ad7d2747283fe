"""2025-era clients get resources/subscribe, resources/unsubscribe and logging/setLevel (SDK 2.3 answers -32601).

The adapter's reach into the SDK is pinned first: these tests fail when an SDK upgrade moves what it relies on.
Subscription behaviour runs here over the stub services (two clients on one server); the same over the real tools
on the embedded database is in tests/tools/test_subscriptions.py.
"""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.connection import Connection
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp.types import INVALID_PARAMS, METHOD_NOT_FOUND, EmptyResult, SetLevelRequest, SetLevelRequestParams

from mcp_storyboard.server.legacy import SDKChangedError, connection_of, lowlevel_server
from mcp_storyboard.server.subscriptions import subscriptions_of
from tests.tools.conftest import updates_handler

from .probes import CONNECTIONS, probe_server

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")]

THING = "storyboard://things/{}"


@asynccontextmanager
async def legacy_client(server: MCPServer[Any]) -> AsyncIterator[tuple[Client, Callable[[], Awaitable[str]]]]:
    """A 2025-era client of ``server`` and ``next_update()``: the URI of its next resource-updated notification."""
    handler, updates = updates_handler()
    async with Client(server, mode="legacy", cache=None, message_handler=handler) as client:

        async def next_update() -> str:
            with anyio.fail_after(5):
                return await updates.receive()

        yield client, next_update


async def rename(client: Client, thing_id: str, name: str = "desk") -> None:
    result = await client.call_tool("rename_thing", {"thing_id": thing_id, "name": name})
    assert not result.is_error


async def connection(client: Client) -> Connection:
    result = await client.call_tool("which_connection", {})
    assert result.structured_content is not None
    return CONNECTIONS[result.structured_content["value"]]


# -- the adapter's pins ----------------------------------------------------------------------------------------------
def test_the_sdk_keeps_the_lowlevel_server_where_the_adapter_reaches_it() -> None:
    server: MCPServer[Any] = MCPServer("pinned")
    assert isinstance(server._lowlevel_server, Server)  # the private attribute the adapter reads
    assert lowlevel_server(server) is server._lowlevel_server
    assert callable(Server.add_request_handler) and callable(Server.get_request_handler)


def test_the_adapter_fails_loudly_when_the_sdk_moves_what_it_reaches() -> None:
    with pytest.raises(SDKChangedError, match="_lowlevel_server"):
        lowlevel_server(object())  # type: ignore[arg-type]
    with pytest.raises(SDKChangedError, match="_connection"):
        connection_of(object())  # type: ignore[arg-type]


async def test_the_adapter_finds_one_connection_per_client_across_its_requests() -> None:
    server = probe_server()
    async with legacy_client(server) as (a, _), legacy_client(server) as (b, _):
        first, second, other = await connection(a), await connection(a), await connection(b)
    assert first is second
    assert other is not first


def test_a_built_server_serves_the_2025_era_methods_on_its_lowlevel_server() -> None:
    lowlevel = lowlevel_server(probe_server())
    for method in ("resources/subscribe", "resources/unsubscribe", "logging/setLevel"):
        assert lowlevel.get_request_handler(method) is not None, method


# -- capabilities and eras -------------------------------------------------------------------------------------------
async def test_2025_era_clients_are_offered_subscriptions_and_logging() -> None:
    async with legacy_client(probe_server()) as (client, _):
        capabilities = client.server_capabilities
    assert capabilities.resources is not None and capabilities.resources.subscribe is True
    assert capabilities.logging is not None


async def test_2026_era_clients_still_get_method_not_found_for_the_removed_methods() -> None:
    async with Client(probe_server(), cache=None) as client:
        with pytest.raises(MCPError) as subscribe:
            await client.subscribe_resource(THING.format("t1"))
        with pytest.raises(MCPError) as set_level:
            await client.set_logging_level("info")
    assert subscribe.value.error.code == set_level.value.error.code == METHOD_NOT_FOUND


# -- subscriptions ---------------------------------------------------------------------------------------------------
async def test_a_client_hears_of_another_clients_writes_until_it_unsubscribes() -> None:
    server = probe_server()
    async with legacy_client(server) as (a, next_update), legacy_client(server) as (b, _):
        await a.subscribe_resource(THING.format("t1"))
        await rename(b, "t1")
        assert await next_update() == THING.format("t1")

        await a.unsubscribe_resource(THING.format("t1"))
        await rename(b, "t1", "chair")
        # Notifications on one connection arrive in order: if the t1 write had notified A, it would come first.
        await a.subscribe_resource(THING.format("t2"))
        await rename(b, "t2")
        assert await next_update() == THING.format("t2")


async def test_a_2026_era_write_reaches_a_2025_era_subscriber() -> None:
    server = probe_server()
    async with legacy_client(server) as (a, next_update), Client(server, cache=None) as modern:
        await a.subscribe_resource(THING.format("t1"))
        await rename(modern, "t1")
        assert await next_update() == THING.format("t1")


async def test_each_subscriber_gets_each_changed_uri_once() -> None:
    server = probe_server()
    async with legacy_client(server) as (a, next_a), legacy_client(server) as (b, next_b):
        await a.subscribe_resource(THING.format("t1"))
        await a.subscribe_resource(THING.format("t1"))  # subscribing twice is still one subscription
        await b.subscribe_resource(THING.format("t1"))
        await rename(b, "t1")  # rename_thing names t1 twice in its notify call
        assert (await next_a(), await next_b()) == (THING.format("t1"), THING.format("t1"))
        await a.subscribe_resource(THING.format("t9"))
        await rename(b, "t9")
        assert await next_a() == THING.format("t9")  # not a second t1


async def test_subscribing_to_a_uri_the_server_does_not_serve_is_refused_naming_the_ones_it_does() -> None:
    server = probe_server()
    async with legacy_client(server) as (client, _):
        with pytest.raises(MCPError) as refused:
            await client.subscribe_resource("file:///etc/passwd")
        mine = await connection(client)
        registry = subscriptions_of(server)
        assert registry is not None and registry.uris_of(mine) == set()
    assert refused.value.error.code == INVALID_PARAMS
    assert refused.value.error.message == (
        "[invalid-argument] uri: 'file:///etc/passwd' is not a resource of this server; "
        "subscribe to one of: storyboard://things, storyboard://things/{thing_id}"
    )


async def test_a_bad_log_level_is_refused_naming_the_field_and_the_levels() -> None:
    async with legacy_client(probe_server()) as (client, _):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # pydantic warns while dumping the deliberately bad value
            bad = SetLevelRequestParams.model_construct(level="loud")  # type: ignore[arg-type]
            request = SetLevelRequest(params=bad)
            with pytest.raises(MCPError) as refused:
                await client.session.send_request(request, EmptyResult)
    assert refused.value.error.code == INVALID_PARAMS
    assert refused.value.error.message == (
        "[invalid-argument] level: Input should be 'debug', 'info', 'notice', 'warning', 'error', 'critical', "
        "'alert' or 'emergency'"
    )


async def test_unsubscribing_from_nothing_is_not_an_error() -> None:
    async with legacy_client(probe_server()) as (client, _):
        assert isinstance(await client.unsubscribe_resource(THING.format("t1")), EmptyResult)


async def test_a_closed_connection_leaves_no_subscription_behind() -> None:
    server = probe_server()
    async with legacy_client(server) as (client, _):
        await client.subscribe_resource(THING.format("t1"))
        gone = await connection(client)
        registry = subscriptions_of(server)
        assert registry is not None and registry.uris_of(gone) == {THING.format("t1")}
    assert registry.uris_of(gone) == set()
    async with legacy_client(server) as (b, _):
        await rename(b, "t1")  # nobody left to notify: the write still succeeds



async def test_a_connection_over_the_subscription_cap_is_told_how_to_go_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("mcp_storyboard.server.subscriptions.MAX_PER_CONNECTION", 1)
    async with legacy_client(probe_server()) as (client, _):
        await client.subscribe_resource(THING.format("t1"))
        with pytest.raises(MCPError) as refused:
            await client.subscribe_resource(THING.format("t2"))
    assert refused.value.error.code == INVALID_PARAMS
    assert refused.value.error.message.startswith("[invalid-state] this connection already holds 1 subscriptions;")
