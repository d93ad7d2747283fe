"""Animatic render jobs: a queue claimed oldest first, with leases, progress and a result
(rules in :mod:`mcp_storyboard.repositories.queue`)."""

from __future__ import annotations

from typing import Any

from mcp_storyboard.errors import ValidationError
from mcp_storyboard.models.common import Page, utc_now
from mcp_storyboard.models.render_jobs import RenderJob, RenderResult, RenderStatus
from mcp_storyboard.repositories.base import Session
from mcp_storyboard.repositories.queue import NEWEST_FIRST, RELEASED, LeasedQueueRepository

CLAIM_ORDER = (("created_at", 1),)
"""The claim sorts on the {status: 1, created_at: 1} index's key alone, so the index provides the order."""


class RenderJobRepository(LeasedQueueRepository[RenderJob]):
    document = RenderJob
    kind = "render job"
    queue_order = CLAIM_ORDER
    started_field = "started_at"
    finished_field = "completed_at"
    claim_resets = {"progress": 0.0, "result": None, "error_message": None}

    async def page_where(
        self, *, project_id: str | None = None, status: RenderStatus | None = None,
        limit: int | None = None, cursor: str | None = None,
    ) -> Page[RenderJob]:
        """Jobs newest first, of a project and/or a status (all jobs when neither is given)."""
        query: dict[str, Any] = {}
        if project_id is not None:
            query["project_id"] = project_id
        if status is not None:
            query["status"] = status
        return await self._page(query, NEWEST_FIRST, limit=limit, cursor=cursor)

    async def claim_next(self, worker_id: str, lease_seconds: float) -> RenderJob | None:
        """Take the oldest queued job for ``worker_id``, or None; one ``find_one_and_update``.

        Raises:
            ValidationError: ``lease_seconds`` is not positive, or ``worker_id`` is empty or too long.
        """
        return await self._claim(worker_id, lease_seconds, {}, {})

    async def complete(self, job_id: str, worker_id: str, result: RenderResult) -> RenderJob:
        """Finish a job this worker holds with its MP4.

        Raises:
            NotFoundError: no such job.
            QueueError: the worker no longer holds the job (the result is not recorded).
        """
        now = utc_now()
        fields = {
            "status": "completed", "result": result.model_dump(mode="python"), "progress": 100.0,
            "error_message": None, "completed_at": now, "updated_at": now, **RELEASED,
        }  # fmt: skip
        return await self._owned(job_id, worker_id, {"$set": fields}, "complete")

    async def queue_position(self, job: RenderJob) -> int:
        """How many queued jobs a worker takes before ``job``."""
        ahead = [{"created_at": {"$lt": job.created_at}}, {"created_at": job.created_at, "id": {"$lt": job.id}}]
        return await self.count({"status": "queued", "$or": ahead})

    async def delete_for_project(self, project_id: str, *, session: Session = None) -> int:
        return await self._delete_where({"project_id": project_id}, session=session)
