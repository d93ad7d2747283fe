"""FaceFusion job notifications that follow the database, so a worker in another process or on another host reaches
this server's subscribers.

Each change to a job publishes ``notifications/resources/updated`` for ``storyboard://facefusion-jobs/{id}``, and
when the job reaches ``completed`` or ``failed`` (the outcomes that write the character's history and gallery) also
for ``storyboard://characters/{character_id}/facefusion`` and ``storyboard://characters/{character_id}``. Both
protocol eras hear it: 2026-era ``subscriptions/listen`` streams through the server's subscription bus (what
``ctx.notify_resource_updated`` publishes to, here without a request), 2025-era ``resources/subscribe`` connections
through ``LegacySubscriptions``.

Where the database has change streams (the embedded server, MongoDB replica sets), a task started with the server
(:meth:`ResourceEvents.following_database`, entered by ``build_server``'s lifespan) follows ``facefusion_jobs``
(``repositories/job_changes.py``: resumes after errors, stops on shutdown) and is the one source of job
notifications: the in-process worker's hook :meth:`ResourceEvents.on_change` does nothing, and
``notify_changed`` leaves job URIs to it. Elsewhere (memory://) the worker runs in this process and its hook
publishes. ``generation_batches`` is followed the same way: each change publishes
``storyboard://generation-batches/{id}``, and a batch that finished with images also the clips that got them and
the project's views (the project, shot list, timeline and contact sheet: the images landed in the clips' galleries);
the worker's in-process hook is :meth:`ResourceEvents.on_batch_change` (or :func:`announce_batch_in_process`). ``render_jobs`` too: each
change publishes ``storyboard://render-jobs/{id}`` (hooks :meth:`ResourceEvents.on_render_change`,
:func:`announce_render_in_process`). Other collections are not followed yet: their tools already notify
in-process (see ``notify``), and following them too would announce every local write twice.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from weakref import WeakKeyDictionary, ref

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.subscriptions import ResourceUpdated, SubscriptionBus

from mcp_storyboard.models.facefusion import FaceFusionJob
from mcp_storyboard.models.generation import GenerationBatch
from mcp_storyboard.models.render_jobs import RenderJob
from mcp_storyboard.server.resources import character_uri, clip_uri, project_view_uris
from mcp_storyboard.server.subscriptions import subscriptions_of
from mcp_storyboard.services.facefusion.views import (
    FACEFUSION_JOBS_URI,
    character_facefusion_uri,
)
from mcp_storyboard.services.facefusion.views import job_uri as facefusion_job_uri
from mcp_storyboard.services.generation.views import GENERATION_BATCHES_URI, batch_uri
from mcp_storyboard.services.render.views import RENDER_JOBS_URI, render_job_uri

if TYPE_CHECKING:  # the feed (and the driver) is imported when the services open, not to start the server
    from mcp_storyboard.repositories.job_changes import JobChange, JobChangeFeed

logger = logging.getLogger("mcp_storyboard.server")

OUTCOMES = frozenset({"completed", "failed"})
"""Final statuses that changed the character (history entries, gallery); a cancel leaves it as it was."""
GALLERY_OUTCOMES = frozenset({"completed", "partial"})
"""Final statuses of a generation batch whose images are in its clips' galleries."""
SEEN_EVENTS = 1000
"""Change ids remembered to publish each change once when several streams of one server see it."""
RESTART_PAUSE_S = 1.0
OPEN_WAIT_S = 5.0
"""How long serving waits for the stream to open (so a change right after start-up is announced); after that the
server serves anyway and the watcher keeps trying."""

_EVENTS: WeakKeyDictionary[MCPServer[Any], ResourceEvents] = WeakKeyDictionary()


def job_change_uris(job_id: str, character_id: str | None, status: str | None, *, status_changed: bool) -> list[str]:
    """The resources one job change touches: the job; the character too when the change finished the job."""
    uris = [facefusion_job_uri(job_id)]
    if character_id and status_changed and status in OUTCOMES:
        uris += [character_facefusion_uri(character_id), character_uri(character_id)]
    return uris


def batch_change_uris(batch_id: str, project_id: str | None, status: str | None, *, status_changed: bool,
                      clip_ids: Iterable[str] = ()) -> list[str]:
    """The resources one batch change touches: the batch; when the change finished it with images, which landed in
    its clips' galleries (a clip's first image becomes its selected one), also those clips (``clip_ids``: the
    clips of its successful results) and the project's views."""
    uris = [batch_uri(batch_id)]
    if project_id and status_changed and status in GALLERY_OUTCOMES:
        uris += [clip_uri(clip_id) for clip_id in clip_ids]
        uris += project_view_uris(project_id)
    return uris


def _batch_change_uris(change: JobChange) -> list[str]:
    return batch_change_uris(change.job_id, change.project_id, change.status, status_changed=change.status_changed,
                             clip_ids=change.clip_ids)


def _render_change_uris(change: JobChange) -> list[str]:
    return [render_job_uri(change.job_id)]


def _job_change_uris(change: JobChange) -> list[str]:
    return job_change_uris(change.job_id, change.character_id, change.status, status_changed=change.status_changed)


ChangeUris = Callable[["JobChange"], list[str]]
FOLLOWED: tuple[tuple[str, ChangeUris], ...] = (
    (FaceFusionJob.collection, _job_change_uris),
    (GenerationBatch.collection, _batch_change_uris),
    (RenderJob.collection, _render_change_uris),
)
"""The collections followed, and the resources a change to one of their documents touches."""


class ResourceEvents:
    """Resource-change notifications of one server, published with or without a request."""

    def __init__(self, server: MCPServer[Any], bus: SubscriptionBus) -> None:
        self._server = ref(server)  # the server holds this object (``_EVENTS``): no cycle that outlives it
        self._bus = bus
        self.following = 0
        """Change-stream watchers running (one per serving lifetime; in-process test clients each start one)."""
        self._seen: OrderedDict[str, None] = OrderedDict()

    @property
    def streaming(self) -> bool:
        """Job changes reach subscribers through the change stream (so not through the in-process hook)."""
        return self.following > 0

    def covers(self, uri: str) -> bool:
        """``uri`` is announced by the change stream, so a tool's own notification of it would be a second one."""
        return self.streaming and uri.startswith(
            (FACEFUSION_JOBS_URI + "/", GENERATION_BATCHES_URI + "/", RENDER_JOBS_URI + "/"))

    async def publish(self, uris: Iterable[str]) -> None:
        """Send ``resources/updated`` for each distinct URI to both eras' subscribers. Never raises."""
        distinct = list(dict.fromkeys(uris))
        try:
            for uri in distinct:
                await self._bus.publish(ResourceUpdated(uri=uri))
        except Exception:  # a custom bus may do network I/O; a notification is a courtesy
            logger.warning("could not publish resource-change notifications", exc_info=True)
        server = self._server()
        registry = None if server is None else subscriptions_of(server)
        if registry is not None:
            await registry.publish(distinct)

    async def on_change(self, job: FaceFusionJob) -> None:
        """The in-process worker's hook after each status or progress write of ``job``.

        Publishes the job's URIs where the database has no change stream; with one, the stream announces the write
        (from this process or any other) and this does nothing.
        """
        if not self.streaming:
            await self.publish(job_change_uris(job.id, job.character_id, job.status, status_changed=True))

    async def on_batch_change(self, batch: GenerationBatch) -> None:
        """The in-process generation worker's hook after each write of ``batch`` (as :meth:`on_change`)."""
        if not self.streaming:
            clips = [result.clip_id for result in batch.results if result.success and result.clip_id]
            await self.publish(batch_change_uris(batch.id, batch.project_id, batch.status, status_changed=True,
                                                 clip_ids=clips))

    async def on_render_change(self, job: RenderJob) -> None:
        """The in-process render worker's hook after each status or progress write of ``job`` (as :meth:`on_change`)."""
        if not self.streaming:
            await self.publish([render_job_uri(job.id)])

    @asynccontextmanager
    async def following_database(self, services: Any) -> AsyncIterator[None]:
        """Follow the job changes of ``services``' database for the block, where it has change streams.

        ``services`` without a ``database`` (a stub container) or a database without change streams: nothing runs,
        and :meth:`on_change` publishes.
        """
        database = getattr(services, "database", None)
        if database is None or not database.capabilities.change_streams:
            yield
            return
        from mcp_storyboard.repositories.job_changes import JobChangeFeed

        feeds = [(JobChangeFeed(database, collection=name), uris) for name, uris in FOLLOWED]
        async with anyio.create_task_group() as group:
            self.following += 1
            try:
                for feed, uris in feeds:
                    group.start_soon(self._follow, feed, uris)
                with anyio.move_on_after(OPEN_WAIT_S):
                    for feed, _ in feeds:
                        await feed.opened.wait()
                logger.info("following %s through the change stream of %s", ", ".join(n for n, _ in FOLLOWED),
                            database.uri_for_display)
                yield
            finally:
                self.following -= 1
                group.cancel_scope.cancel()

    async def _follow(self, feed: JobChangeFeed, uris: ChangeUris) -> None:
        while True:
            try:
                async for change in feed.follow():
                    if self._first_sight(change):
                        await self.publish(uris(change))
            except Exception:  # a defect of ours; the server keeps serving and the watcher starts over
                logger.exception("the job change watcher failed; restarting it")
            await anyio.sleep(RESTART_PAUSE_S)

    def _first_sight(self, change: JobChange) -> bool:
        if change.event_id in self._seen:
            return False
        self._seen[change.event_id] = None
        while len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        return True


def attach_events(server: MCPServer[Any], bus: SubscriptionBus) -> ResourceEvents:
    """Give ``server`` its notifier over ``bus`` (the subscription bus it was built with)."""
    events = _EVENTS[server] = ResourceEvents(server, bus)
    return events


def events_of(server: MCPServer[Any]) -> ResourceEvents | None:
    """The notifier of ``server`` (see :func:`attach_events`), if it has one.

    A worker running beside the server takes ``events_of(server).on_change`` as its ``on_change`` hook.
    """
    return _EVENTS.get(server)


async def announce_in_process(job: FaceFusionJob) -> None:
    """The ``on_change`` hook of a worker running beside this process's servers (``serve --worker``): each server
    publishes the job's URIs unless its change stream already does. The worker is built before the server, so it
    reaches the server through this lookup rather than holding it."""
    for events in list(_EVENTS.values()):
        await events.on_change(job)


async def announce_batch_in_process(batch: GenerationBatch) -> None:
    """The generation worker's ``on_change`` hook beside this process's servers (as :func:`announce_in_process`)."""
    for events in list(_EVENTS.values()):
        await events.on_batch_change(batch)


async def announce_render_in_process(job: RenderJob) -> None:
    """The render worker's ``on_change`` hook beside this process's servers (as :func:`announce_in_process`)."""
    for events in list(_EVENTS.values()):
        await events.on_render_change(job)
