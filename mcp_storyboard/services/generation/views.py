"""What the generation service returns: a batch as callers read it (per-clip status, results, counters), list
pages, queue and wait results. Produced files are ``storyboard://media/<id>`` URIs, never inline bytes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import WithJsonSchema

from mcp_storyboard.models.common import StoryboardModel, UtcDatetime
from mcp_storyboard.models.generation import (
    BatchResult,
    BatchStatus,
    GenerationBatch,
    GenerationKind,
)
from mcp_storyboard.models.media import MEDIA_URI_PREFIX

GENERATION_BATCHES_URI = "storyboard://generation-batches"
FINISHED: frozenset[str] = frozenset({"completed", "partial", "failed", "cancelled"})
"""Statuses a batch leaves only through retry (which queues a new batch)."""
RETRY_OF = "retry_of"
"""Key of ``prompt_data`` naming the batch a retry was made from."""
RETRIED_BY = "retried_by"
"""Key of ``prompt_data`` naming the batch that retries this one (set once)."""
PINNED = "server_id"
"""Key of ``prompt_data`` naming the server the caller pinned (``comfyui_server_id`` is also set by a claim)."""

ClipStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


def batch_uri(batch_id: str) -> str:
    return f"{GENERATION_BATCHES_URI}/{batch_id}"


class ClipGeneration(StoryboardModel):
    """One clip of a batch: what runs and what came of it."""

    clip_id: str
    kind: GenerationKind
    status: ClipStatus
    prompt: str
    negative_prompt: str
    checkpoint: str | None
    model_id: str | None
    loras: list[str]
    seed: int | None
    params: dict[str, int | float | str | None]
    server_id: str | None = None
    """The server running it (while running)."""
    url: str | None = None
    """The output (storyboard://media/...) once it succeeded."""
    gallery_entry_id: str | None = None
    error: str | None = None


_CLIPS_SCHEMA = WithJsonSchema({"type": "array", "items": {"type": "object", "description": (
    "clip_id, kind, status (queued|running|succeeded|failed|cancelled), prompt, negative_prompt, checkpoint, "
    "model_id, loras, seed, params, server_id, url (storyboard://media/...), gallery_entry_id, error")}})


class BatchSummary(StoryboardModel):
    """A batch in a list: its state and counters."""

    id: str
    uri: str
    project_id: str
    status: BatchStatus
    total_jobs: int
    completed_jobs: int
    failed_jobs: int
    retry_of: str | None = None
    """The batch this one retries."""
    created_at: UtcDatetime

    @classmethod
    def fields_of(cls, batch: GenerationBatch) -> dict[str, object]:
        retry_of = batch.prompt_data.get(RETRY_OF)
        return {
            "id": batch.id, "uri": batch_uri(batch.id), "project_id": batch.project_id, "status": batch.status,
            "total_jobs": batch.total_jobs, "completed_jobs": batch.completed_jobs, "failed_jobs": batch.failed_jobs,
            "retry_of": retry_of if isinstance(retry_of, str) else None, "created_at": batch.created_at,
        }  # fmt: skip

    @classmethod
    def of(cls, batch: GenerationBatch) -> BatchSummary:
        return cls.model_validate(cls.fields_of(batch))


class BatchView(BatchSummary):
    """A batch: its state, counters, and each clip's status and result."""

    retried_by: str | None = None
    """The batch that retries this one."""
    attempts: int
    max_attempts: int
    comfyui_server_id: str | None
    error_message: str | None
    updated_at: UtcDatetime
    clips: Annotated[list[ClipGeneration], _CLIPS_SCHEMA]

    @classmethod
    def of(cls, batch: GenerationBatch) -> BatchView:
        return cls.model_validate({
            **BatchSummary.fields_of(batch), "attempts": batch.attempts, "max_attempts": batch.max_attempts,
            "comfyui_server_id": batch.comfyui_server_id, "error_message": batch.error_message,
            "updated_at": batch.updated_at, "clips": clip_generations(batch),
            "retried_by": _text(batch.prompt_data.get(RETRIED_BY)),
        })  # fmt: skip

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    def resource_links(self) -> list[tuple[str, str]]:
        """``(uri, name)`` of each file the batch produced (tools return them as resource links)."""
        return [(c.url, f"{c.kind} for clip {c.clip_id}") for c in self.clips
                if c.status == "succeeded" and c.url and c.url.startswith(MEDIA_URI_PREFIX)]


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def clip_generations(batch: GenerationBatch) -> list[ClipGeneration]:
    """Each item's clip with its status: its result (the last one reported) decides, else whether a prompt of it is
    running, else the batch's state."""
    results: dict[str, BatchResult] = {r.clip_id: r for r in batch.results if r.clip_id is not None}
    running = {r.clip_id: r.server_id for r in batch.running}
    clips: list[ClipGeneration] = []
    for item in batch.items:
        result = results.pop(item.clip_id, None)
        status: ClipStatus
        error = None
        if result is not None:
            status, error = ("succeeded" if result.success else "failed"), result.error
        elif item.clip_id in running:
            status = "running"
        elif batch.status == "cancelled":
            status = "cancelled"
        elif batch.status in FINISHED:
            status, error = "failed", batch.error_message or "no result was reported"
        else:
            status = "queued"
        params = item.params.model_dump(mode="json", exclude_none=True)
        clips.append(ClipGeneration(
            clip_id=item.clip_id, kind=item.kind, status=status, prompt=item.prompt,
            negative_prompt=item.negative_prompt, checkpoint=item.checkpoint, model_id=item.model_id,
            loras=[f"{lora.name}:{lora.strength:g}" for lora in item.loras], seed=item.params.seed, params=params,
            server_id=running.get(item.clip_id) if status == "running" else result.server_id if result else None,
            url=result.url if result is not None else None,
            gallery_entry_id=result.gallery_entry_id if result is not None else None, error=error,
        ))  # fmt: skip
    for clip_id, result in results.items():  # a legacy batch: results without items
        clips.append(ClipGeneration(
            clip_id=clip_id, kind="image", status="succeeded" if result.success else "failed", prompt="",
            negative_prompt="", checkpoint=None, model_id=None, loras=[], seed=None, params={}, url=result.url,
            gallery_entry_id=result.gallery_entry_id, error=result.error,
        ))  # fmt: skip
    return clips


class QueuedClip(StoryboardModel):
    clip_id: str
    seed: int


class QueuedBatch(StoryboardModel):
    """A batch just queued: get_generation_batch shows the resolved prompts and parameters."""

    id: str
    uri: str
    status: BatchStatus
    total_jobs: int
    position: int
    """Queued batches a worker takes before this one."""
    retry_of: str | None = None
    clips: Annotated[list[QueuedClip], WithJsonSchema({"type": "array", "items": {
        "type": "object", "description": "clip_id, seed (stored: a retry repeats it)"}})]

    @classmethod
    def of(cls, batch: GenerationBatch, position: int) -> QueuedBatch:
        retry_of = batch.prompt_data.get(RETRY_OF)
        return cls(id=batch.id, uri=batch_uri(batch.id), status=batch.status, total_jobs=batch.total_jobs,
                   position=position, retry_of=retry_of if isinstance(retry_of, str) else None,
                   clips=[QueuedClip(clip_id=i.clip_id, seed=i.params.seed) for i in batch.items])


class CancelledBatch(BatchView):
    """A cancelled batch, and the prompts the servers were asked to stop."""

    interrupted: int
    """Running or queued ComfyUI prompts of it the servers were told to interrupt or drop."""


class BatchPage(StoryboardModel):
    """One page of batches, newest first; pass ``next_cursor`` back for the next page."""

    items: list[BatchSummary]
    next_cursor: str | None = None


class WaitResult(StoryboardModel):
    """A batch after waiting for it."""

    finished: bool
    """Whether it completed, partially completed, failed or was cancelled before the timeout."""
    batch: BatchView

    def resource_links(self) -> list[tuple[str, str]]:
        return self.batch.resource_links()
