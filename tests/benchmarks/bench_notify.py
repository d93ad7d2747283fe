"""Issue-6 figures: what 2025-era resource subscriptions cost a write.

1. update_project through a 2025-era client while 0, 1, 10 and 50 other 2025-era clients of the same server are
   subscribed to the project's URI, on memory:// (so the database does not hide the fan-out). In process, the
   subscribers' own receive work runs on the same event loop, so this is an upper bound.
2. The server's share alone: ``LegacySubscriptions.publish`` of a write's three URIs to N connections whose channel
   takes a notification and does nothing more.
3. Issue 8: from a FaceFusion job update to a 2025-era subscriber's notification: made by another process and
   announced through the change stream (embedded), made in the server's process (the same stream), and made on
   memory:// and announced by the in-process worker's hook (no stream).
Prints medians and ratios; asserts nothing (shared machines are noisy).

    .venv/bin/python -m tests.benchmarks.bench_notify [--rounds 300] [--subscribers 0,1,10,50] [--job-rounds 100]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import anyio
from anyio.streams.buffered import BufferedByteReceiveStream
from mcp import Client
from mcp.client.session import IncomingMessage
from mcp.server.connection import Connection
from mcp.server.session import ServerSession
from mcp.types import ResourceUpdatedNotification

from mcp_storyboard.config import Settings
from mcp_storyboard.db.connection import Database, open_database
from mcp_storyboard.db.embedded import EmbeddedServer
from mcp_storyboard.models.facefusion import FaceFusionJob, FaceFusionJobPatch
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.job_events import (
    ResourceEvents,
    events_of,
    facefusion_job_uri,
)
from mcp_storyboard.server.subscriptions import LegacySubscriptions
from mcp_storyboard.server.taxonomy import TOOLSETS
from mcp_storyboard.services.container import Services
from tests.server.test_job_events import job_server

ROOT = Path(__file__).resolve().parents[2]


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


Timed = Callable[[int], Awaitable[float]]
"""Makes the n-th job change and returns the wall-clock time it started at."""


Change = Callable[[str, ResourceEvents], Timed]
"""Given the job's id and the server's notifier, how to change the job."""


async def job_update_latencies_ms(database: Database, rounds: int, change: Change) -> list[float]:
    """Milliseconds from each change ``change`` makes to a subscribed 2025-era client hearing of it."""
    job = await FaceFusionJobRepository(database).insert(FaceFusionJob(project_id="p", job_type="enhance"))
    send, receive = anyio.create_memory_object_stream[float](100)

    async def record(message: IncomingMessage) -> None:
        if isinstance(message, ResourceUpdatedNotification):
            send.send_nowait(time.time())

    samples = []
    server = await job_server(database)
    events = events_of(server)
    assert events is not None
    async with Client(server, mode="legacy", cache=None, message_handler=record) as client:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            await client.subscribe_resource(facefusion_job_uri(job.id))
        make = change(job.id, events)
        for n in range(rounds + 10):
            started = await make(n)
            with anyio.fail_after(10):
                arrived = await receive.receive()
            if n >= 10:  # the first changes warm caches
                samples.append((arrived - started) * 1000)
    return samples


async def job_latency_figures(rounds: int) -> None:
    print(f"FaceFusion job update → 2025-era subscriber's notification, median (p90) of {rounds} updates")
    with tempfile.TemporaryDirectory() as data_dir:
        embedded = EmbeddedServer(Path(data_dir))
        uri = await anyio.to_thread.run_sync(embedded.start)
        try:
            settings = Settings(mongodb_uri=uri, db_name="bench_job_events", data_dir=Path(data_dir))
            database = await open_database(settings, uri=uri, backend="embedded")

            def in_this_process(job_id: str, _: ResourceEvents) -> Timed:
                jobs = FaceFusionJobRepository(database)

                async def make(n: int) -> float:
                    started = time.time()
                    await jobs.apply_patch(job_id, FaceFusionJobPatch(max_attempts=1 + n % 9))
                    return started

                return make

            async with await anyio.open_process(
                [sys.executable, "-m", "tests.server.job_writer", uri, settings.db_name, "--on-request"], cwd=ROOT
            ) as writer:
                assert writer.stdin is not None and writer.stdout is not None
                lines = BufferedByteReceiveStream(writer.stdout)

                def in_another_process(job_id: str, _: ResourceEvents) -> Timed:
                    async def make(n: int) -> float:
                        await writer.stdin.send(f"{job_id}\n".encode())  # type: ignore[union-attr]
                        return float(await lines.receive_until(b"\n", 100))

                    return make

                other = await job_update_latencies_ms(database, rounds, in_another_process)
                await writer.stdin.aclose()
            same = await job_update_latencies_ms(database, rounds, in_this_process)
            await database.client.drop_database(settings.db_name)
            await database.close()
        finally:
            await anyio.to_thread.run_sync(embedded.stop)
    memory = await open_database(Settings(mongodb_uri="memory://", db_name="bench_job_hook"))

    def hooked(job_id: str, events: ResourceEvents) -> Timed:
        jobs = FaceFusionJobRepository(memory)

        async def make(n: int) -> float:
            started = time.time()
            await events.on_change(await jobs.apply_patch(job_id, FaceFusionJobPatch(max_attempts=1 + n % 9)))
            return started

        return make

    hook = await job_update_latencies_ms(memory, rounds, hooked)
    base = statistics.median(hook)
    for label, samples in (("another process, change stream (embedded)", other),
                           ("the server's process, change stream (embedded)", same),
                           ("in-process worker hook (memory://, no stream)", hook)):
        median, p90 = statistics.median(samples), statistics.quantiles(samples, n=10)[-1]
        print(f"  {label:<48} {median:7.2f} ms  ({p90:6.2f})  x{median / base:6.1f}")


async def main(rounds: int, counts: list[int], job_rounds: int) -> None:
    await job_latency_figures(job_rounds)
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
    parser.add_argument("--job-rounds", type=int, default=100)
    args = parser.parse_args()
    anyio.run(main, args.rounds, [int(x) for x in args.subscribers.split(",")], args.job_rounds)
