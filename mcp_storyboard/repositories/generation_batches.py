"""Generation batches: a queue claimed oldest first, with leases, atomic per-item counters and results."""

from __future__ import annotations

from typing import Any

from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.models.generation import BatchResult, BatchStatus, GenerationBatch, RunningPrompt
from mcp_storyboard.repositories.base import Session
from mcp_storyboard.repositories.queue import NEWEST_FIRST, RELEASED, LeasedQueueRepository

# The added index {status: 1, created_at: 1}: the batch queue claims the oldest queued batch.
OLDEST_FIRST = (("created_at", 1), ("id", 1))
CLAIM_ORDER = (("created_at", 1),)
"""A claim sorts on the index's key alone, so the index provides the order (see ``facefusion_jobs.CLAIM_ORDER``)."""
NO_RESULTS_ERROR = "the batch finished with no results: no item reported success or failure"


class GenerationBatchRepository(LeasedQueueRepository[GenerationBatch]):
    document = GenerationBatch
    kind = "generation batch"
    queue_order = CLAIM_ORDER
    # A claim keeps the successes of an earlier, lost attempt: their files are already in the clips' galleries
    # (each success is written with its gallery entry), so only the items without one run again. ``completed_jobs``
    # always counts exactly the stored successes (both move in one update), so it stays as it is.
    claim_resets = {"failed_jobs": 0, "running": []}
    claim_pulls = {"results": {"success": False}}

    # -- lists --------------------------------------------------------------------------------------------
    async def page_for_project(
        self, project_id: str, *, status: BatchStatus | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Page[GenerationBatch]:
        """A project's batches, newest first (the {project_id: 1, created_at: -1} index), optionally of one status."""
        query: dict[str, Any] = {"project_id": project_id}
        if status is not None:
            query["status"] = status
        return await self._page(query, NEWEST_FIRST, limit=limit, cursor=cursor)

    async def page_by_status(self, status: BatchStatus, *, limit: int | None = None, cursor: str | None = None) -> Page[GenerationBatch]:
        """Batches of one status, oldest first (the order workers claim queued batches in)."""
        return await self._page({"status": status}, OLDEST_FIRST, limit=limit, cursor=cursor)

    # -- the queue ----------------------------------------------------------------------------------------
    async def claim_next(self, worker_id: str, lease_seconds: float, *, server_id: str | None = None) -> GenerationBatch | None:
        """Take the oldest queued batch for ``worker_id``, or None when there is none it may take.

        With ``server_id`` (the ComfyUI server this worker drives) it takes batches pinned to that server or to
        none, and pins the one it takes; without, any batch. One ``find_one_and_update``: concurrent workers
        always get distinct batches.

        Raises:
            ValidationError: ``lease_seconds`` is not positive, or ``worker_id`` is empty or too long.
        """
        if server_id is None:
            return await self._claim(worker_id, lease_seconds, {}, {})
        query = {"comfyui_server_id": {"$in": [server_id, None]}}
        return await self._claim(worker_id, lease_seconds, query, {"comfyui_server_id": server_id})

    async def record_result(
        self, batch_id: str, worker_id: str, result: BatchResult, *, session: Session = None
    ) -> GenerationBatch:
        """Append one item's outcome and count it (``completed_jobs`` or ``failed_jobs``) in one atomic update,
        only while ``worker_id`` holds the batch: a late report from a worker whose lease expired (the batch
        re-queued or re-claimed since) is refused and changes nothing. The item's entry in ``running`` goes in the
        same update.

        Raises:
            NotFoundError: no such batch.
            QueueError: the worker does not hold the batch (results arrive only from the worker processing it).
        """
        counter = "completed_jobs" if result.success else "failed_jobs"
        update: dict[str, Any] = {
            "$inc": {counter: 1},
            "$push": {"results": result.model_dump(mode="python")},
            "$set": {"updated_at": utc_now()},
        }
        if result.clip_id is not None:  # the item's prompt is done: nothing of it is left to interrupt
            update["$pull"] = {"running": {"clip_id": result.clip_id}}
        return await self._owned(batch_id, worker_id, update, "record a result on", session=session)

    async def finish(self, batch_id: str, worker_id: str) -> GenerationBatch:
        """Close a batch this worker holds: completed (no failures), failed (no successes) or partial; a batch
        with no results at all failed, with an error saying so.

        The outcome is computed from the stored counters inside one pipeline update, so a result recorded
        concurrently is never missed.

        Raises:
            NotFoundError: no such batch.
            QueueError: the worker no longer holds the batch.
        """
        no_results = {"$eq": [{"$add": ["$completed_jobs", "$failed_jobs"]}, 0]}
        status = {
            "$cond": [
                {"$eq": ["$failed_jobs", 0]}, {"$cond": [no_results, "failed", "completed"]},
                {"$cond": [{"$eq": ["$completed_jobs", 0]}, "failed", "partial"]},
            ]
        }  # fmt: skip
        error = {"$cond": [no_results, {"$literal": NO_RESULTS_ERROR}, "$error_message"]}
        fields: dict[str, Any] = {"status": status, "error_message": error, "running": {"$literal": []}, **RELEASED,
                  "updated_at": utc_now()}
        return await self._owned(batch_id, worker_id, [{"$set": fields}], "finish")

    # -- the worker's writes on running prompts (lease-conditioned) -----------------------------------------------
    async def add_running(self, batch_id: str, worker_id: str, prompt: RunningPrompt) -> GenerationBatch:
        """Record a prompt submitted for one item (what a cancel interrupts); the item's result, or
        :meth:`drop_running` when it moves to another server, removes it.

        Raises:
            NotFoundError: no such batch.
            QueueError: the worker no longer holds the batch.
        """
        update = {"$push": {"running": prompt.model_dump(mode="python")}, "$set": {"updated_at": utc_now()}}
        return await self._owned(batch_id, worker_id, update, "record a running prompt on")

    async def drop_running(self, batch_id: str, worker_id: str, clip_id: str) -> GenerationBatch:
        """Forget the running prompt of one item (its server failed it or went away; the item may move on).

        Raises:
            NotFoundError: no such batch.
            QueueError: the worker no longer holds the batch.
        """
        update = {"$pull": {"running": {"clip_id": clip_id}}, "$set": {"updated_at": utc_now()}}
        return await self._owned(batch_id, worker_id, update, "forget a running prompt of")

    async def running_per_server(self) -> dict[str, int]:
        """Prompts running now on each server, over every processing batch (every worker's): the load a
        dispatcher weighs against a server's ``max_concurrent``. Servers with none are left out."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"status": "processing", "running.0": {"$exists": True}}},
            {"$unwind": "$running"},
            {"$group": {"_id": "$running.server_id", "n": {"$sum": 1}}},
        ]
        return {str(row["_id"]): int(row["n"]) for row in await self.database.aggregate(self.name, pipeline)}

    async def delete_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"project_id": project_id}, session=session)

    # -- additions for the generation tools (genapi): queue position, id completion --------------------------
    async def queue_position(self, batch: GenerationBatch) -> int:
        """How many queued batches a worker takes before ``batch`` (those before it in claim order)."""
        ahead = [
            {"created_at": {"$lt": batch.created_at}},
            {"created_at": batch.created_at, "id": {"$lt": batch.id}},
        ]
        return await self.count({"status": "queued", "$or": ahead})

    async def ids_starting_with(self, value: str, *, limit: int) -> list[str]:
        """Batch ids starting with ``value``, by id (a range on the unique id index, never a regex)."""
        query = {"id": {"$gte": value, "$lt": value + "\U0010ffff"}}
        raws = await self.collection.find(query, {"_id": 0, "id": 1}).sort("id", 1).limit(limit).to_list(None)
        return [str(r["id"]) for r in raws]

    async def mark_retried(self, batch_id: str, retry_id: str) -> str | None:
        """Record that ``retry_id`` retries ``batch_id`` (``prompt_data.retried_by``), only if nothing retried it
        yet: one conditional update, so two parallel retries of one batch queue one new batch. Returns None when
        it was marked, else the id of the batch that already retries it."""
        query = {"id": batch_id, "prompt_data.retried_by": None}
        update = {"$set": {"prompt_data.retried_by": retry_id, "updated_at": utc_now()}}
        if await self._transition(query, update) is not None:
            return None
        current = await self.get(batch_id)
        return str(current.prompt_data.get("retried_by"))

    async def unmark_retried(self, batch_id: str, retry_id: str) -> None:
        """Undo :meth:`mark_retried` (the new batch could not be stored)."""
        await self.collection.update_one({"id": batch_id, "prompt_data.retried_by": retry_id},
                                         {"$unset": {"prompt_data.retried_by": ""}})
