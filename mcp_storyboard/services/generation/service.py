"""Generation batches: queue them (one clip, or many clips of a project), read, list, cancel, retry and wait.

Queueing resolves every item (``resolve``) before the one insert, so a refused request writes nothing. Workers
(``worker``) run the batches. A cancel marks the batch cancelled first (the worker stops its items on its next
heartbeat), then asks the servers to interrupt the batch's running prompts — best effort, bounded in time, never
failing the cancel. A retry queues a new batch of the items that did not succeed, with their stored prompts,
parameters and seeds, linked to the old one (``retry_of``); the old batch stays as it was, as history.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from mcp_storyboard.errors import InvalidStateError, NotFoundError, ValidationError
from mcp_storyboard.integrations.comfyui.client import ComfyUIClient
from mcp_storyboard.models.common import Page
from mcp_storyboard.models.generation import (
    BatchStatus,
    GenerationBatch,
    GenerationItem,
    RunningPrompt,
)
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.services.common.waiting import poll_until_finished
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository
from mcp_storyboard.services.generation.requests import ClipRequest, GenerationSettings
from mcp_storyboard.services.generation.resolve import ItemResolver
from mcp_storyboard.services.generation.views import (
    FINISHED,
    PINNED,
    RETRY_OF,
    BatchPage,
    BatchSummary,
    BatchView,
    CancelledBatch,
    QueuedBatch,
    WaitResult,
)

logger = logging.getLogger("mcp_storyboard.generation")

BATCH_HINT = "list_generation_batches shows a project's batches"
INTERRUPT_SECONDS = 5.0
"""How long a cancel waits, at most, for the servers to take its interrupts."""

ClientFactory = Callable[..., ComfyUIClient]
"""``(url, api_key=...) -> client``; tests may inject one."""
ProgressCallback = Callable[[GenerationBatch], Awaitable[None]]


class GenerationService:
    def __init__(self, repos: Repositories, *, client: ClientFactory = ComfyUIClient) -> None:
        self.repos = repos
        self.batches = GenerationBatchRepository(repos.database)
        self.resolver = ItemResolver(repos)
        self.client_factory = client

    # -- queueing ----------------------------------------------------------------------------------------------
    async def generate_clip(self, request: ClipRequest, settings: GenerationSettings) -> QueuedBatch:
        """Queue one clip's generation.

        Raises:
            NotFoundError: no such clip, model or server.
            ValidationError: no prompt, a model that is no checkpoint, a disabled server, a bad workflow, ...
        """
        server = await self.resolver.server(settings.server_id)
        items = await self.resolver.items(settings, [request], project_id=None, batch=False)
        clip = await self.repos.clips.get(request.clip_id)
        return await self._queue(clip.project_id, items, settings, server_id=server.id if server else None,
                                 clip_id=clip.id)

    async def generate_batch(
        self, project_id: str, requests: Sequence[ClipRequest], settings: GenerationSettings
    ) -> QueuedBatch:
        """Queue many clips of one project as one batch (one item per clip, in order).

        Raises:
            NotFoundError: no such project, clip, model or server.
            ValidationError: as ``generate_clip``, naming ``clips[n]``; a clip of another project or listed twice.
        """
        if not requests:
            raise ValidationError("clips", "is empty", hint="list at least one clip")
        if not await self.repos.projects.exists(project_id):
            raise NotFoundError("project", project_id, hint="list_projects shows the projects")
        server = await self.resolver.server(settings.server_id)
        items = await self.resolver.items(settings, requests, project_id=project_id, batch=True)
        return await self._queue(project_id, items, settings, server_id=server.id if server else None)

    async def _queue(self, project_id: str, items: list[GenerationItem], settings: GenerationSettings, *,
                     server_id: str | None, clip_id: str | None = None, retry_of: str | None = None,
                     max_attempts: int | None = None) -> QueuedBatch:
        """Insert the batch; a retry first marks the old batch as retried by it (or is refused)."""
        prompt_data: dict[str, Any] = {"kind": settings.kind}
        for key, value in (("model_id", settings.model_id), ("preset", settings.preset), (PINNED, server_id),
                           (RETRY_OF, retry_of)):
            if value is not None:
                prompt_data[key] = value
        batch = GenerationBatch(
            project_id=project_id, clip_id=clip_id, total_jobs=len(items), comfyui_server_id=server_id,
            prompt_data=prompt_data, items=items, max_attempts=max_attempts or settings.max_attempts,
        )  # fmt: skip
        if retry_of is not None:
            holder = await self.batches.mark_retried(retry_of, batch.id)
            if holder is not None:
                raise InvalidStateError(f"generation batch '{retry_of}' was already retried by batch '{holder}'",
                                        hint=f"retry_generation_batch with batch_id {holder} if that one failed too")
        try:
            await self.batches.insert(batch)
        except BaseException:
            if retry_of is not None:
                await self.batches.unmark_retried(retry_of, batch.id)
            raise
        return QueuedBatch.of(batch, await self.batches.queue_position(batch))

    # -- reads -------------------------------------------------------------------------------------------------
    async def get(self, batch_id: str) -> GenerationBatch:
        """Raises: NotFoundError."""
        batch = await self.batches.find(batch_id)
        if batch is None:
            raise NotFoundError("generation batch", batch_id, hint=BATCH_HINT)
        return batch

    async def view(self, batch_id: str) -> BatchView:
        """Raises: NotFoundError."""
        return BatchView.of(await self.get(batch_id))

    async def list_page(self, project_id: str, *, status: BatchStatus | None = None, limit: int | None = None,
                        cursor: str | None = None) -> Page[GenerationBatch]:
        """A project's batches, newest first."""
        return await self.batches.page_for_project(project_id, status=status, limit=limit, cursor=cursor)

    async def list_views(self, project_id: str, *, status: BatchStatus | None = None, limit: int | None = None,
                         cursor: str | None = None) -> BatchPage:
        """A project's batches as summaries, newest first.

        Raises:
            NotFoundError: no such project.
        """
        if not await self.repos.projects.exists(project_id):
            raise NotFoundError("project", project_id, hint="list_projects shows the projects")
        page = await self.list_page(project_id, status=status, limit=limit, cursor=cursor)
        return BatchPage(items=[BatchSummary.of(b) for b in page.items], next_cursor=page.next_cursor)

    async def complete_ids(self, value: str, *, limit: int) -> list[str]:
        return await self.batches.ids_starting_with(value, limit=limit)

    # -- cancel, retry, wait -----------------------------------------------------------------------------------
    async def cancel(self, batch_id: str) -> CancelledBatch:
        """Cancel a queued or processing batch, then ask its servers to stop its running prompts.

        Raises:
            NotFoundError: no such batch.
            InvalidStateError: it already finished.
        """
        await self.get(batch_id)
        batch = await self.batches.cancel(batch_id)
        interrupted = await self._interrupt(batch.running)
        return CancelledBatch.model_validate({**BatchView.of(batch).model_dump(), "interrupted": interrupted})

    async def _interrupt(self, running: Sequence[RunningPrompt]) -> int:
        """Interrupt (if running) and drop (if still queued) each prompt on its server; how many were sent.
        Never raises: a server that does not answer in time keeps its prompt, which then only wastes its time."""
        by_server: dict[str, list[str]] = defaultdict(list)
        for prompt in running:
            by_server[prompt.server_id].append(prompt.prompt_id)

        async def stop(server_id: str, prompt_ids: list[str]) -> int:
            server = await self.resolver.servers.find(server_id)
            if server is None:
                return 0
            try:
                async with asyncio.timeout(INTERRUPT_SECONDS):
                    async with self.client_factory(server.url, api_key=server.api_key) as comfy:
                        await comfy.delete_queued(prompt_ids)
                        for prompt_id in prompt_ids:
                            await comfy.interrupt(prompt_id)
            except Exception as exc:  # noqa: BLE001 - the cancel stands whatever the server does
                logger.warning("could not interrupt %d prompt(s) on ComfyUI server %s: %s", len(prompt_ids),
                               server_id, type(exc).__name__)
                return 0
            return len(prompt_ids)

        sent = await asyncio.gather(*(stop(s, ids) for s, ids in by_server.items()))
        return sum(sent)

    async def retry(self, batch_id: str) -> QueuedBatch:
        """Queue a new batch of the items of a finished batch that did not succeed (same prompts, parameters and
        seeds; the same pinned server), linked to it by ``retry_of``. Items whose clip was deleted are left out.

        Raises:
            NotFoundError: no such batch; its pinned server is gone.
            InvalidStateError: it is still queued or processing, every item succeeded, or no clip is left.
            ValidationError: its pinned server is disabled.
        """
        old = await self.get(batch_id)
        if old.status not in FINISHED:
            raise InvalidStateError(f"generation batch '{batch_id}' is {old.status} and cannot be retried",
                                    hint="wait for it to finish, or cancel it first")
        succeeded = {r.clip_id for r in old.results if r.success}
        items = [i for i in old.items if i.clip_id not in succeeded]
        if not items:
            raise InvalidStateError(f"generation batch '{batch_id}' has nothing to retry: every item succeeded",
                                    hint="generate_clip_media or generate_batch generates again")
        existing = {c.id for c in await self.repos.clips.get_many(i.clip_id for i in items)}
        items = [i for i in items if i.clip_id in existing]
        if not items:
            raise InvalidStateError(f"generation batch '{batch_id}' has nothing to retry: its clips were deleted")
        pinned = old.prompt_data.get(PINNED)
        server = await self.resolver.server(pinned if isinstance(pinned, str) else None, "server_id of the batch")
        kind = items[0].kind
        settings = GenerationSettings.model_validate({
            "kind": kind, **{k: old.prompt_data[k] for k in ("model_id", "preset") if k in old.prompt_data}})
        clip_id = old.clip_id if len(items) == 1 and old.clip_id == items[0].clip_id else None
        return await self._queue(old.project_id, items, settings, server_id=server.id if server else None,
                                 clip_id=clip_id, retry_of=old.id, max_attempts=old.max_attempts)

    async def wait(self, batch_id: str, timeout: float, on_progress: ProgressCallback | None = None) -> WaitResult:
        """Poll a batch (with backoff) until it finishes or ``timeout`` seconds pass; ``on_progress`` is called with
        the batch each time its status or counters changed.

        Raises:
            NotFoundError: no such batch.
            ValidationError: ``timeout`` outside 0–300.
        """
        batch, finished = await poll_until_finished(
            lambda: self.get(batch_id), finished=lambda b: b.status in FINISHED,
            state=lambda b: (b.status, b.completed_jobs, b.failed_jobs), timeout=timeout, on_progress=on_progress)
        return WaitResult(finished=finished, batch=BatchView.of(batch))
