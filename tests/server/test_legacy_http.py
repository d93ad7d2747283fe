"""2025-era subscriptions over Streamable HTTP: each HTTP session is its own connection on one shared server."""

from __future__ import annotations


import anyio
import pytest
from mcp import Client

from tests.tools.conftest import updates_handler

from .conftest import example_server, served_over_http

pytestmark = [pytest.mark.anyio, pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")]

THING = "storyboard://things/{}"


async def test_over_http_a_session_hears_another_sessions_writes_until_it_unsubscribes() -> None:
    handler, updates = updates_handler()

    async def next_update() -> str:
        """The next update, skipping the warm-up's."""
        with anyio.fail_after(5):
            while (uri := await updates.receive()) == THING.format("warm-up"):
                pass
        return uri

    async with served_over_http(example_server()) as url:
        async with Client(url, mode="legacy", cache=None, message_handler=handler) as a, \
                Client(url, mode="legacy", cache=None) as b:

            async def rename(thing_id: str) -> None:
                assert not (await b.call_tool("rename_thing", {"thing_id": thing_id, "name": "desk"})).is_error

            # The client opens its GET stream (where notifications go) in the background after the handshake, and
            # the server drops what it sends before then: wait until one update made it through.
            await a.subscribe_resource(THING.format("warm-up"))
            with anyio.fail_after(10):
                while True:
                    await rename("warm-up")
                    with anyio.move_on_after(0.5):
                        await updates.receive()
                        break
            await a.unsubscribe_resource(THING.format("warm-up"))

            await a.subscribe_resource(THING.format("t1"))
            await rename("t1")
            assert await next_update() == THING.format("t1")
            await a.unsubscribe_resource(THING.format("t1"))
            await rename("t1")
            await a.subscribe_resource(THING.format("t2"))
            await rename("t2")
            assert await next_update() == THING.format("t2")
