"""Writing the outcome of one item: its files in the media store, its entries in the clip's gallery, its result.

A success stores every output file (the media store is outside transactions), then records the batch result and
appends the gallery entries in one transaction where the backend has them. The result comes first and is
conditioned on the worker's lease, so a worker that lost its lease (the batch cancelled, re-queued or taken) adds
nothing to the gallery: inside a transaction its refusal aborts the whole write; without transactions (memory://)
the gallery writes never start. Files stored for a write that did not happen are deleted again.

A result and its gallery entries being written together is what lets a re-claimed batch skip the items that
already succeeded (``GenerationBatchRepository.claim_pulls``): their files are in the galleries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio

from mcp_storyboard.db.media import MediaInfo
from mcp_storyboard.errors import NotFoundError, ValidationError
from mcp_storyboard.models.clips import GeneratedMedia
from mcp_storyboard.models.generation import (
    BatchResult,
    ComfyUIServer,
    GenerationBatch,
    GenerationItem,
)
from mcp_storyboard.models.values import JsonScalar
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository
from mcp_storyboard.services.generation.ports import GeneratedFile

ERROR_LIMIT = 5000


def failure(item: GenerationItem, error: str) -> BatchResult:
    return BatchResult(clip_id=item.clip_id, success=False, error=error[:ERROR_LIMIT])


def gallery_params(item: GenerationItem) -> dict[str, JsonScalar]:
    """What a gallery entry keeps of the item's generation: the sampling parameters (seed included, so it can be
    repeated), the LoRAs as "name:strength" and whether a custom workflow ran."""
    params: dict[str, JsonScalar] = {
        key: value for key, value in item.params.model_dump(mode="json").items() if value is not None
    }
    if item.loras:
        params["loras"] = ", ".join(f"{lora.name}:{lora.strength:g}" for lora in item.loras)
    if item.workflow is not None:
        params["workflow"] = "custom"
    return params


def gallery_entry(item: GenerationItem, info: MediaInfo, server: ComfyUIServer) -> GeneratedMedia:
    return GeneratedMedia(
        url=info.uri, media_id=info.id, prompt=item.prompt, negative_prompt=item.negative_prompt,
        params=gallery_params(item), server_id=server.id, model=item.model_id or item.checkpoint,
    )  # fmt: skip


async def record_failure(batches: GenerationBatchRepository, batch: GenerationBatch, worker_id: str,
                         item: GenerationItem, error: str) -> GenerationBatch:
    """Count the item failed with ``error``.

    Raises:
        QueueError, NotFoundError: the worker no longer holds the batch (or it is gone); nothing changed.
    """
    return await batches.record_result(batch.id, worker_id, failure(item, error))


async def record_success(
    repos: Repositories,
    batches: GenerationBatchRepository,
    batch: GenerationBatch,
    worker_id: str,
    item: GenerationItem,
    server: ComfyUIServer,
    files: Sequence[GeneratedFile],
) -> GenerationBatch:
    """Store ``files`` and land them in the item's clip gallery with the item's result (see the module notes).

    An output the media store refuses (too large, not a media type), no output at all, or a clip deleted meanwhile
    makes the item fail instead, saying why.

    Raises:
        QueueError, NotFoundError: the worker no longer holds the batch (or it is gone); nothing changed.
    """
    if not files:
        return await record_failure(batches, batch, worker_id, item, "ComfyUI finished the prompt without output")
    media = repos.database.media
    stored: list[MediaInfo] = []
    try:
        for file in files:
            stored.append(await media.put(
                file.data, content_type=file.content_type, filename=file.filename, project_id=batch.project_id,
                metadata={"generation_batch_id": batch.id, "clip_id": item.clip_id},
            ))  # fmt: skip
    except ValidationError as exc:
        await _forget(repos, stored)
        return await record_failure(batches, batch, worker_id, item, f"an output could not be stored: {exc}")
    entries = [(file.kind, gallery_entry(item, info, server)) for file, info in zip(files, stored, strict=True)]
    _, first = entries[0]
    result = BatchResult(clip_id=item.clip_id, url=first.url, media_id=first.media_id, gallery_entry_id=first.id,
                         server_id=server.id)

    async def write(session: Any) -> GenerationBatch:
        if await repos.clips.find(item.clip_id, session=session) is None:
            raise _ClipGone()
        recorded = await batches.record_result(batch.id, worker_id, result, session=session)
        try:
            for kind, entry in entries:
                await repos.clips.add_media(item.clip_id, kind, entry, session=session)
        except NotFoundError:  # deleted since the check: the transaction (where there is one) aborts
            raise _ClipGone() from None
        return recorded

    try:
        return await repos.database.run_transaction(write)
    except _ClipGone:
        await _forget(repos, stored)
        return await record_failure(batches, batch, worker_id, item,
                                    f"clip '{item.clip_id}' was deleted while it was generated")
    except BaseException:
        with anyio.CancelScope(shield=True):
            await _forget(repos, stored)
        raise


class _ClipGone(Exception):
    """The item's clip no longer exists (checked inside the write, so the transaction sees it)."""


async def _forget(repos: Repositories, stored: Sequence[MediaInfo]) -> None:
    for info in stored:
        try:
            await repos.database.media.delete(info.id)
        except NotFoundError:
            pass
