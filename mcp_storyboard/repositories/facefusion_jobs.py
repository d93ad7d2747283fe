"""FaceFusion jobs: a queue claimed in (priority, age) order, with leases, heartbeats and retries
(rules in :mod:`mcp_storyboard.repositories.queue`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import JsonValue

from mcp_storyboard.errors import InvalidStateError, ValidationError
from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.models.facefusion import FaceFusionJob, JobStatus
from mcp_storyboard.repositories.base import Session
from mcp_storyboard.repositories.queue import (
    NEWEST_FIRST,
    RELEASED,
    LeasedQueueRepository,
)

# The schema's queue index {status: 1, priority: -1, created_at: 1}; id makes the order total for lists.
QUEUE_ORDER = (("priority", -1), ("created_at", 1), ("id", 1))
# A claim sorts on exactly the index's keys: with the id tiebreaker the index no longer provides the order, and
# every claim sorted all queued jobs in memory (MongoDB's blocking SORT; 3.5x slower on the embedded server with
# 500 queued jobs). Jobs queued in the same millisecond go in index order.
CLAIM_ORDER = (("priority", -1), ("created_at", 1))


class FaceFusionJobRepository(LeasedQueueRepository[FaceFusionJob]):
    document = FaceFusionJob
    kind = "facefusion job"
    queue_order = CLAIM_ORDER
    started_field = "started_at"
    finished_field = "completed_at"
    claim_resets = {"progress": 0.0, "output_data": None, "error_message": None}

    # -- lists --------------------------------------------------------------------------------------------
    async def page_for_project(
        self, project_id: str, *, status: JobStatus | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Page[FaceFusionJob]:
        """A project's jobs, newest first, optionally of one status."""
        query: dict[str, Any] = {"project_id": project_id}
        if status is not None:
            query["status"] = status
        return await self._page(query, NEWEST_FIRST, limit=limit, cursor=cursor)

    async def page_for_character(
        self, character_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> Page[FaceFusionJob]:
        """A character's jobs, newest first (filtered on the {character_id: 1} index)."""
        return await self._page({"character_id": character_id}, NEWEST_FIRST, limit=limit, cursor=cursor)

    async def page_by_status(self, status: JobStatus, *, limit: int | None = None, cursor: str | None = None) -> Page[FaceFusionJob]:
        """Jobs of one status in queue order (the order workers claim queued jobs in)."""
        return await self._page({"status": status}, QUEUE_ORDER, limit=limit, cursor=cursor)

    # -- the queue ----------------------------------------------------------------------------------------
    async def claim_next(self, worker_id: str, lease_seconds: float) -> FaceFusionJob | None:
        """Take the highest-priority, oldest queued job for ``worker_id``, or None when the queue is empty.

        One ``find_one_and_update`` in queue order: concurrent workers always get distinct jobs.

        Raises:
            ValidationError: ``lease_seconds`` is not positive, or ``worker_id`` is empty or too long.
        """
        return await self._claim(worker_id, lease_seconds, {}, {})

    async def complete(
        self, job_id: str, worker_id: str, output_data: Mapping[str, JsonValue], *, session: Session = None
    ) -> FaceFusionJob:
        """Finish a job this worker holds with its results (``session``: inside the completion's transaction).

        Raises:
            NotFoundError: no such job.
            QueueError: the worker no longer holds the job (its result is not recorded).
        """
        now = utc_now()
        fields = {
            "status": "completed", "output_data": dict(output_data), "progress": 100.0, "error_message": None,
            "completed_at": now, "updated_at": now, **RELEASED,
        }  # fmt: skip
        return await self._owned(job_id, worker_id, {"$set": fields}, "complete", session=session)

    async def delete_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"project_id": project_id}, session=session)

    # -- additions for the FaceFusion tools: filtered lists, queue position, retry -----------------------------
    async def page_where(
        self, *, character_id: str | None = None, project_id: str | None = None, status: JobStatus | None = None,
        limit: int | None = None, cursor: str | None = None,
    ) -> Page[FaceFusionJob]:
        """Jobs newest first, of a character, a project and/or a status (all jobs when none is given)."""
        query: dict[str, Any] = {}
        for field, value in (("character_id", character_id), ("project_id", project_id), ("status", status)):
            if value is not None:
                query[field] = value
        return await self._page(query, NEWEST_FIRST, limit=limit, cursor=cursor)

    async def queue_position(self, job: FaceFusionJob) -> int:
        """How many queued jobs a worker takes before ``job`` (those before it in queue order)."""
        ahead = [
            {"priority": {"$gt": job.priority}},
            {"priority": job.priority, "created_at": {"$lt": job.created_at}},
            {"priority": job.priority, "created_at": job.created_at, "id": {"$lt": job.id}},
        ]
        return await self.count({"status": "queued", "$or": ahead})

    async def retry(self, job_id: str) -> FaceFusionJob:
        """Put a failed or cancelled job back in the queue: attempts 0, output, error, progress and times cleared.

        Raises:
            NotFoundError: no such job.
            InvalidStateError: it is queued, processing or completed.
        """
        now = utc_now()
        fields = {
            "status": "queued", "attempts": 0, "output_data": None, "error_message": None, "progress": 0.0,
            "started_at": None, "completed_at": None, "updated_at": now, **RELEASED,
        }  # fmt: skip
        changed = await self._transition({"id": job_id, "status": {"$in": ["failed", "cancelled"]}}, {"$set": fields})
        if changed is not None:
            return changed
        current = await self.get(job_id)
        raise InvalidStateError(
            f"facefusion job '{job_id}' is {current.status} and cannot be retried",
            hint="only failed or cancelled jobs can be retried",
        )

