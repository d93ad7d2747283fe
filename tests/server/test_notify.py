"""Resource-change notifications reach 2026-era clients subscribed through subscriptions/listen."""

from __future__ import annotations

import anyio
import pytest
from mcp import Client
from mcp.client.subscriptions import ResourcesListChanged, ResourceUpdated
from mcp.server.mcpserver import Context

from mcp_storyboard.server.notify import notify_changed

from .conftest import example_server

pytestmark = pytest.mark.anyio


async def test_a_write_notifies_a_client_listening_to_the_changed_resource() -> None:
    async with Client(example_server(), cache=None) as client:
        async with client.listen(resource_subscriptions=["storyboard://things/t1"]) as subscription:
            result = await client.call_tool("rename_thing", {"thing_id": "t1", "name": "desk"})
            assert not result.is_error
            with anyio.fail_after(5):
                event = await subscription.__anext__()
    assert event == ResourceUpdated(uri="storyboard://things/t1")


async def test_a_write_without_listeners_succeeds_in_both_eras(mode: str) -> None:
    async with Client(example_server(), mode=mode, cache=None) as client:
        result = await client.call_tool("rename_thing", {"thing_id": "t1", "name": "desk"})
    assert not result.is_error


async def test_notify_changed_publishes_each_distinct_uri_once_then_the_list_change() -> None:
    events: list[object] = []

    class RecordingBus:
        async def publish(self, event: object) -> None:
            events.append(event)

        def subscribe(self, listener: object) -> object:
            return lambda: None

    ctx = Context(subscriptions=RecordingBus())  # type: ignore[arg-type]
    await notify_changed(ctx, ["storyboard://a", "storyboard://b", "storyboard://a"], list_changed=True)
    assert events == [ResourceUpdated(uri="storyboard://a"), ResourceUpdated(uri="storyboard://b"),
                      ResourcesListChanged()]


async def test_a_failing_subscription_bus_never_fails_the_write(caplog: pytest.LogCaptureFixture) -> None:
    class BrokenBus:
        async def publish(self, event: object) -> None:
            raise ConnectionError("bus down")

        def subscribe(self, listener: object) -> object:
            return lambda: None

    ctx = Context(subscriptions=BrokenBus())  # type: ignore[arg-type]
    await notify_changed(ctx, ["storyboard://things/t1"], list_changed=True)
    assert "could not publish resource-change notifications" in caplog.text
