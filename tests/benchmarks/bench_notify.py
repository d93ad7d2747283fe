"""Issue-6 figures: what 2025-era resource subscriptions cost a write.

1. update_project through a 2025-era client while 0, 1, 10 and 50 other 2025-era clients of the same server are
   subscribed to the project's URI, on memory:// (so the database does not hide the fan-out). In process, the
   subscribers' own receive work runs on the same event loop, so this is an upper bound.
2. The server's share alone: ``LegacySubscriptions.publish`` of a write's three URIs to N connections whose channel
   takes a notification and does nothing more.
Prints medians and ratios; asserts nothing (shared machines are noisy).

    .venv/bin/python tests/benchmarks/bench_notify.py [--rounds 300] [--subscribers 0,1,10,50]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import anyio
from mcp import Client
from mcp.client.session import IncomingMessage
from mcp.server.connection import Connection
from mcp.server.session import ServerSession

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import open_database
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.subscriptions import LegacySubscriptions
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.services.container import Services


async def write_median_us(subscribers: int, rounds: int) -> tuple[float, int]:
    """Median µs of one update_project, and how many updates the subscribers received in all."""
    database = await open_database(Settings(mongodb_uri="memory://", db_name=f"bench_notify_{subscribers}"))
    services = Services.over(database)

    @asynccontextmanager
    async def factory() -> AsyncIterator[Services]:
        yield services

    server = build_server(factory, toolsets=TOOLSETS)
    received = 0

    async def count(message: IncomingMessage) -> None:
        nonlocal received
        received += 1

    async with AsyncExitStack() as stack:
        writer = await stack.enter_async_context(Client(server, mode="legacy", cache=None))
        created = await writer.call_tool("create_project", {"name": "Bench"})
        assert created.structured_content is not None
        pid = created.structured_content["id"]
        for _ in range(subscribers):
            listener = await stack.enter_async_context(Client(server, mode="legacy", cache=None, message_handler=count))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                await listener.subscribe_resource(f"storyboard://projects/{pid}")
        samples = []
        for n in range(rounds + 20):
            start = time.perf_counter()
            result = await writer.call_tool("update_project", {"project_id": pid, "patch": {"description": f"v{n}"}})
            if n >= 20:  # the first calls warm caches
                samples.append(time.perf_counter() - start)
            assert not result.is_error
    await database.close()
    return statistics.median(samples) * 1e6, received


class SinkOutbound:
    """A connection channel that accepts every notification and sends nothing."""

    async def notify(self, method: str, params: object, opts: object = None) -> None:
        return None

    async def send_raw_request(self, method: str, params: object, opts: object = None) -> dict[str, object]:
        raise NotImplementedError


async def publish_median_us(subscribers: int, rounds: int) -> float:
    registry = LegacySubscriptions()
    uris = ["storyboard://projects/p1", "storyboard://projects/p1/storyboard.md", "storyboard://projects"]
    for _ in range(subscribers):
        connection = Connection(SinkOutbound(), protocol_version="2025-11-25")  # type: ignore[arg-type]
        registry.add(connection, ServerSession(None, connection), uris[0])  # type: ignore[arg-type]
    samples = []
    for n in range(rounds + 20):
        start = time.perf_counter()
        await registry.publish(uris)
        if n >= 20:
            samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1e6


async def main(rounds: int, counts: list[int]) -> None:
    print(f"update_project through a 2025-era client, memory://, median of {rounds} calls")
    base: float | None = None
    for subscribers in counts:
        median, received = await write_median_us(subscribers, rounds)
        base = median if base is None else base
        print(f"  {subscribers:>3} subscribed clients: {median:8.0f} µs  x{median / base:5.2f}  "
              f"({received} updates received, {subscribers * (rounds + 20)} expected)")
    print(f"LegacySubscriptions.publish of a write's 3 URIs, median of {rounds} calls")
    for subscribers in counts:
        median = await publish_median_us(subscribers, rounds)
        print(f"  {subscribers:>3} subscribed connections: {median:8.1f} µs"
              + (f"  ({median / subscribers:.1f} µs each)" if subscribers else ""))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--subscribers", default="0,1,10,50")
    args = parser.parse_args()
    anyio.run(main, args.rounds, [int(x) for x in args.subscribers.split(",")])
