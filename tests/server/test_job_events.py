"""Job notifications follow the database: a job changed by another process reaches a running server's subscribers
of both protocol eras (embedded: the change stream); without a change stream (memory://) the in-process worker's
hook publishes; either way each change is announced once; the watcher outlives a failed stream and ends with the
server."""

from __future__ import annotations

import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.subscriptions import ResourceUpdated
from pydantic import BaseModel
from pymongo.errors import AutoReconnect

from mcp_storyboard.db.connection import Database
from mcp_storyboard.models.facefusion import FaceFusionJob, FaceFusionJobPatch
from mcp_storyboard.repositories import job_changes
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.server.build import build_server
from mcp_storyboard.server.job_events import (
    ResourceEvents,
    character_facefusion_uri,
    events_of,
    facefusion_job_uri,
)
from mcp_storyboard.server.notify import notify_changed
from mcp_storyboard.server.registry import ToolRegistry, collect, get_services
from mcp_storyboard.server.resources import character_uri, register_resources
from mcp_storyboard.services.container import Services
from tests.tools.conftest import ToolClient, updates_handler

from .conftest import served_over_http

pytestmark = pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")

ROOT = Path(__file__).resolve().parents[2]
CHARACTER = "0000000c-0000-4000-8000-000000000001"
PROJECT = "0000000a-0000-4000-8000-000000000001"
TEMPLATES = (facefusion_job_uri("{job_id}"), character_facefusion_uri("{character_id}"))
"""Served by the FaceFusion resources; stand-ins are registered where they are not there yet."""

jobs_tools = ToolRegistry("facefusion")


class Touched(BaseModel):
    id: str


@jobs_tools(title="Touch a job", operation="update")
async def touch_job(job_id: str, max_attempts: int, ctx: Context) -> Touched:
    """Change a job's attempt limit and announce it the way the job tools do."""
    services = get_services(ctx)
    await FaceFusionJobRepository(services.database).apply_patch(job_id, FaceFusionJobPatch(max_attempts=max_attempts))
    await notify_changed(ctx, [facefusion_job_uri(job_id)])
    return Touched(id=job_id)


TOOLS = collect([sys.modules[__name__]])


def new_job(**fields: Any) -> FaceFusionJob:
    return FaceFusionJob.model_validate({"project_id": PROJECT, "job_type": "enhance", **fields})


async def job_server(database: Database) -> MCPServer[Any]:
    """A server over ``database`` with the job tool above, the storyboard resources and the job resources (where
    the resource module does not serve them yet)."""
    services = Services.over(database)

    @asynccontextmanager
    async def factory() -> AsyncIterator[Services]:
        yield services

    server = build_server(factory, specs=TOOLS.tools, completers=[], prompts=[], installers=[register_resources])
    served = {t.uri_template for t in await server.list_resource_templates()}
    if TEMPLATES[0] not in served:

        @server.resource(TEMPLATES[0], name="facefusion_job", mime_type="application/json")
        async def job_resource(job_id: str) -> str:
            return "{}"

    if TEMPLATES[1] not in served:

        @server.resource(TEMPLATES[1], name="character_facefusion", mime_type="application/json")
        async def character_facefusion_resource(character_id: str) -> str:
            return "{}"

    return server


def watched(events: ResourceEvents | None) -> ResourceEvents:
    assert events is not None, "build_server gives every server its notifier"
    return events


async def updates_through(next_update: Callable[[], Awaitable[str]], last: str, skip: str = "") -> list[str]:
    """The updates up to and including ``last``, leaving out ``skip`` (the warm-up's URI)."""
    found: list[str] = []
    with anyio.fail_after(20):
        while not found or found[-1] != last:
            if (uri := await next_update()) != skip:
                found.append(uri)
    return found


async def nothing_before(next_update: Callable[[], Awaitable[str]], marker: str) -> None:
    """Every update up to ``marker`` is ``marker``: no other notification was waiting before it."""
    with anyio.fail_after(20):
        while (uri := await next_update()) != marker:
            raise AssertionError(f"an extra notification arrived: {uri}")


@pytest.mark.requires_change_streams
async def test_a_job_worked_in_another_process_reaches_both_eras_subscribers_once(
    database: Database, embedded_uri: str
) -> None:
    jobs = FaceFusionJobRepository(database)
    job = await jobs.insert(new_job(character_id=CHARACTER))
    warm = await jobs.insert(new_job(status="cancelled"))  # touched to warm the streams up; never claimed
    expected = [facefusion_job_uri(job.id)] * 2 + [character_facefusion_uri(CHARACTER), character_uri(CHARACTER)]
    uris = sorted(set(expected)) + [facefusion_job_uri(warm.id)]
    handler, legacy_updates = updates_handler()
    async with served_over_http(await job_server(database)) as url, AsyncExitStack() as stack:
        old = await stack.enter_async_context(Client(url, mode="legacy", cache=None, message_handler=handler))
        new = await stack.enter_async_context(Client(url, mode="auto", cache=None))
        for uri in uris:
            await old.subscribe_resource(uri)
        listened = await stack.enter_async_context(new.listen(resource_subscriptions=uris))

        async def next_listened() -> str:
            event = await listened.__anext__()
            assert isinstance(event, ResourceUpdated)
            return event.uri

        eras = {"2025-11-25": legacy_updates.receive, "2026-07-28": next_listened}
        touches = 0

        async def touch_warm() -> None:
            nonlocal touches
            touches += 1
            await jobs.apply_patch(warm.id, FaceFusionJobPatch(max_attempts=1 + touches % 9))

        # The 2025-era client opens its notification stream after the handshake, and what the server sends before
        # that is dropped: touch the warm-up job until each era has heard of it.
        for next_update in eras.values():
            with anyio.fail_after(20):
                while True:
                    await touch_warm()
                    with anyio.move_on_after(0.5):
                        if await next_update() == facefusion_job_uri(warm.id):
                            break

        done = await anyio.run_process(
            [sys.executable, "-m", "tests.server.job_writer", embedded_uri, database.db.name,
             database.driver],
            cwd=ROOT,
        )  # fmt: skip
        assert done.stdout.decode().strip() == job.id
        await touch_warm()  # a marker after the other process's changes
        found = {era: await updates_through(next_update, character_uri(CHARACTER), skip=facefusion_job_uri(warm.id))
                 for era, next_update in eras.items()}
        assert found["2025-11-25"] == expected
        # A 2026-era client folds an update into an identical one it has not read yet.
        assert list(dict.fromkeys(found["2026-07-28"])) == list(dict.fromkeys(expected))
        for next_update in eras.values():
            await touch_warm()
            await nothing_before(next_update, facefusion_job_uri(warm.id))


@dataclass
class Subscribed:
    """An in-process client of a job server, subscribed to some URIs."""

    server: MCPServer[Any]
    events: ResourceEvents
    client: ToolClient
    next_update: Callable[[], Awaitable[str]]


@asynccontextmanager
async def subscribed(database: Database, mode: str, uris: list[str]) -> AsyncIterator[Subscribed]:
    server = await job_server(database)
    handler, updates = updates_handler()
    async with Client(server, mode=mode, cache=None, message_handler=handler) as client:
        tool_client = ToolClient(client=client, services=Services.over(database), mode=mode, updates=updates)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            async with tool_client.watch(uris) as next_update:
                yield Subscribed(server, watched(events_of(server)), tool_client, next_update)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_in_process_worker_hook_publishes_where_there_is_no_change_stream_and_never_twice(
    database: Database, mode: str
) -> None:
    jobs = FaceFusionJobRepository(database)
    job = await jobs.insert(new_job(character_id=CHARACTER))
    marker = await jobs.insert(new_job(status="cancelled"))
    uris = [facefusion_job_uri(job.id), character_facefusion_uri(CHARACTER), character_uri(CHARACTER),
            facefusion_job_uri(marker.id)]  # fmt: skip
    async with subscribed(database, mode, uris) as sub:
        events, next_update = sub.events, sub.next_update
        assert events.streaming is (database.backend != "memory")
        # What the in-process worker does: write, then call its on_change hook.
        claimed = await jobs.claim_next("in-process-worker", 60)
        assert claimed is not None
        await events.on_change(claimed)
        await events.on_change(await jobs.complete(job.id, "in-process-worker", {"results": []}))
        found = await updates_through(next_update, character_uri(CHARACTER))
        # Both writes, each once (a 2026-era client folds an update into an identical one it has not read yet).
        assert found[-2:] == [character_facefusion_uri(CHARACTER), character_uri(CHARACTER)]
        heard = found[:-2]
        assert set(heard) == {facefusion_job_uri(job.id)}
        assert len(heard) == 2 if mode == "legacy" else 1 <= len(heard) <= 2
        await events.on_change(await jobs.apply_patch(marker.id, FaceFusionJobPatch(priority=5)))
        await nothing_before(next_update, facefusion_job_uri(marker.id))


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_tools_own_notification_of_a_job_is_sent_once(database: Database, mode: str) -> None:
    jobs = FaceFusionJobRepository(database)
    job, marker = await jobs.insert(new_job()), await jobs.insert(new_job())
    async with subscribed(database, mode, [facefusion_job_uri(job.id), facefusion_job_uri(marker.id)]) as sub:
        client, next_update = sub.client, sub.next_update
        await client.call("touch_job", job_id=job.id, max_attempts=7)
        assert await next_update() == facefusion_job_uri(job.id)
        await client.call("touch_job", job_id=marker.id, max_attempts=7)
        await nothing_before(next_update, facefusion_job_uri(marker.id))


@pytest.mark.requires_change_streams
async def test_each_change_is_announced_once_when_several_connections_each_started_a_watcher(
    database: Database,
) -> None:
    """In process, the lifespan (and so a watcher) runs once per client connection."""
    jobs = FaceFusionJobRepository(database)
    job, marker = await jobs.insert(new_job()), await jobs.insert(new_job(status="cancelled"))
    async with subscribed(database, "legacy", [facefusion_job_uri(job.id), facefusion_job_uri(marker.id)]) as sub:
        next_update = sub.next_update
        async with Client(sub.server, mode="auto") as second:
            await second.list_resources()  # a request that needs the services opens them, and so the watcher
            assert sub.events.following == 2
            await jobs.claim_next("w", 60)
            assert await next_update() == facefusion_job_uri(job.id)
            await jobs.apply_patch(marker.id, FaceFusionJobPatch(priority=1))
            await nothing_before(next_update, facefusion_job_uri(marker.id))


@pytest.mark.requires_change_streams
async def test_a_stream_that_fails_to_open_is_retried_and_ends_with_the_server(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_watch = job_changes.shim.watch
    failures = [AutoReconnect("connection refused (test)")] * 2

    @asynccontextmanager
    async def failing_first(collection: Any, pipeline: Any, **options: Any) -> AsyncIterator[Any]:
        if failures:
            raise failures.pop()
        async with real_watch(collection, pipeline, **options) as stream:
            yield stream

    monkeypatch.setattr(job_changes.shim, "watch", failing_first)
    monkeypatch.setattr(job_changes.Backoff, "first", 0.01)
    jobs = FaceFusionJobRepository(database)
    job = await jobs.insert(new_job())
    async with subscribed(database, "legacy", [facefusion_job_uri(job.id)]) as sub:
        assert sub.events.following == 1 and not failures
        await jobs.claim_next("w", 60)
        assert await sub.next_update() == facefusion_job_uri(job.id)
    assert sub.events.following == 0
