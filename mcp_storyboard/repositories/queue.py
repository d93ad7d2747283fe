"""The claim/lease/retry rules shared by the job queues (``facefusion_jobs``, ``generation_batches``).

Every transition is one conditional atomic update on the expected status (and lease owner), so two workers never
both win; the loser gets a :class:`QueueError` or :class:`InvalidStateError` saying what happened instead. Every
write a worker makes is conditioned on its lease (``_owned``): a worker that lost its lease (expired and re-queued,
cancelled, taken by another) changes nothing. A claim starts the attempt from a clean slate (``claim_resets``),
so nothing a lost attempt wrote survives into the next one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar, NamedTuple

from pymongo import ReturnDocument

from mcp_storyboard.db.pagination import SortSpec
from mcp_storyboard.errors import InvalidStateError, QueueError, ValidationError
from mcp_storyboard.models.common import utc_now
from mcp_storyboard.repositories.base import NO_ID, D, Repository, Session, _s

# Served by the schema index {project_id: 1, created_at: -1}; id makes the order total.
NEWEST_FIRST = (("created_at", -1), ("id", 1))
MESSAGE_LIMIT = 5000
HAS_ATTEMPTS_LEFT = {"$lt": ["$attempts", "$max_attempts"]}
RELEASED = {"lease_owner": None, "lease_expires_at": None}


class ExpiredLeases(NamedTuple):
    """What ``requeue_expired`` did: jobs put back in the queue, and jobs failed for want of attempts."""

    requeued: int
    failed: int


def _lease_end(now: datetime, lease_seconds: float) -> datetime:
    if not lease_seconds > 0:
        raise ValidationError("lease_seconds", "must be more than 0", hint="pass the lease length in seconds, e.g. 300")
    return now + timedelta(seconds=lease_seconds)


def _check_worker(worker_id: str) -> None:
    if not 1 <= len(worker_id) <= 200:
        raise ValidationError("worker_id", "must be 1–200 characters")


class LeasedQueueRepository(Repository[D]):
    """A collection of documents with ``status``, ``attempts``/``max_attempts`` and a lease, used as a queue."""

    queue_order: ClassVar[SortSpec]
    started_field: ClassVar[str | None] = None
    """Set to the claim time on every claim, where the document has such a field."""
    finished_field: ClassVar[str | None] = None
    """Set when the document reaches a final status, where it has such a field."""
    claim_resets: ClassVar[Mapping[str, Any]] = {}
    """Fields a claim sets back to their initial values: what an earlier, lost attempt wrote (progress, counters,
    results, output) must not be mixed into this attempt's."""
    claim_pulls: ClassVar[Mapping[str, Any]] = {}
    """``$pull`` conditions a claim (and a release) applies: array entries of an earlier attempt to drop while
    others are kept (e.g. a batch's failed results, whose items run again, beside its successes, which do not)."""

    async def _transition(
        self,
        query: Mapping[str, Any],
        update: Mapping[str, Any] | list[Any],
        *,
        sort: SortSpec | None = None,
        session: Session = None,
    ) -> D | None:
        raw = await self.collection.find_one_and_update(
            dict(query), update if isinstance(update, list) else dict(update),
            projection=NO_ID, sort=list(sort) if sort else None, return_document=ReturnDocument.AFTER, **_s(session),
        )  # fmt: skip
        return None if raw is None else self.from_document(raw)

    def _finished(self, now: datetime) -> dict[str, Any]:
        return {self.finished_field: now} if self.finished_field else {}

    async def _claim(self, worker_id: str, lease_seconds: float, query: Mapping[str, Any], extra: Mapping[str, Any]) -> D | None:
        _check_worker(worker_id)
        now = utc_now()
        fields: dict[str, Any] = {
            "status": "processing", "lease_owner": worker_id, "lease_expires_at": _lease_end(now, lease_seconds),
            "updated_at": now, **self.claim_resets, **extra,
        }  # fmt: skip
        if self.started_field:
            fields[self.started_field] = now
        update: dict[str, Any] = {"$set": fields, "$inc": {"attempts": 1}}
        if self.claim_pulls:
            update["$pull"] = dict(self.claim_pulls)
        return await self._transition({**query, "status": "queued"}, update, sort=self.queue_order)

    async def _owned(
        self, key: str, worker_id: str, update: Mapping[str, Any] | list[Any], action: str, *, session: Session = None
    ) -> D:
        """Apply ``update`` only while ``worker_id`` holds the document's lease.

        Raises:
            NotFoundError: no such document.
            QueueError: the document is not processing under this worker (re-queued, taken, finished, cancelled).
        """
        query = {self.key: key, "status": "processing", "lease_owner": worker_id}
        changed = await self._transition(query, update, session=session)
        if changed is not None:
            return changed
        current = await self.get(key, session=session)
        status, owner = getattr(current, "status"), getattr(current, "lease_owner")
        held = f", leased to worker '{owner}'" if owner else ""
        raise QueueError(
            f"cannot {action} {self.kind} '{key}': worker '{worker_id}' does not hold it (it is {status}{held})",
            hint="stop working on it; its lease expired or it was finished, cancelled or taken by another worker",
        )

    async def heartbeat(self, key: str, worker_id: str, lease_seconds: float) -> D:
        """Extend the lease of a document this worker is processing.

        Raises:
            NotFoundError: no such document.
            QueueError: the worker no longer holds it.
        """
        now = utc_now()
        update = {"$set": {"lease_expires_at": _lease_end(now, lease_seconds), "updated_at": now}}
        return await self._owned(key, worker_id, update, "renew the lease of")

    async def fail(
        self,
        key: str,
        worker_id: str,
        error: str,
        *,
        final: bool = False,
        extra: Mapping[str, Any] | None = None,
        session: Session = None,
    ) -> D:
        """Give up one attempt: back to ``queued`` while attempts remain, else ``failed``; the lease is released.

        One pipeline update decides and writes both outcomes, so the choice is made on the stored counters.
        ``final``: fail for good whatever the attempts (a retry cannot help, e.g. unreadable input). ``extra``:
        more fields to store with the failure (values are stored as given, never read as expressions).

        Raises:
            NotFoundError: no such document.
            QueueError: the worker no longer holds it.
        """
        now = utc_now()
        retry: Any = False if final else HAS_ATTEMPTS_LEFT
        fields: dict[str, Any] = {
            "status": {"$cond": [retry, "queued", "failed"]},
            "error_message": {"$literal": error[:MESSAGE_LIMIT]}, "updated_at": now, **RELEASED,
            **{name: {"$literal": value} for name, value in (extra or {}).items()},
        }  # fmt: skip
        if self.finished_field:
            fields[self.finished_field] = {"$cond": [retry, f"${self.finished_field}", now]}
        return await self._owned(key, worker_id, [{"$set": fields}], "fail", session=session)

    async def update_progress(self, key: str, worker_id: str, progress: float) -> D:
        """Record the progress (0–100 %) of a document this worker holds, where it has a ``progress`` field.

        Raises:
            ValidationError: progress outside 0–100.
            NotFoundError: no such document.
            QueueError: the worker no longer holds it.
        """
        if not 0.0 <= progress <= 100.0:
            raise ValidationError("progress", f"must be between 0.0 and 100.0, not {progress}")
        update = {"$set": {"progress": float(progress), "updated_at": utc_now()}}
        return await self._owned(key, worker_id, update, "report progress on")

    async def release(self, key: str, worker_id: str) -> D:
        """Hand a document this worker holds back to the queue without counting the attempt (a graceful stop).

        Raises:
            NotFoundError: no such document.
            QueueError: the worker no longer holds it.
        """
        update: dict[str, Any] = {"$set": {"status": "queued", "updated_at": utc_now(), **RELEASED, **self.claim_resets},
                                  "$inc": {"attempts": -1}}  # fmt: skip
        if self.claim_pulls:
            update["$pull"] = dict(self.claim_pulls)
        return await self._owned(key, worker_id, update, "release")

    async def cancel(self, key: str) -> D:
        """Cancel a queued or processing document; a worker holding it learns on its next heartbeat.

        Raises:
            NotFoundError: no such document.
            InvalidStateError: it already completed, failed or was cancelled.
        """
        now = utc_now()
        update = {"$set": {"status": "cancelled", "updated_at": now, **RELEASED, **self._finished(now)}}
        changed = await self._transition({self.key: key, "status": {"$in": ["queued", "processing"]}}, update)
        if changed is not None:
            return changed
        current = await self.get(key)
        raise InvalidStateError(
            f"{self.kind} '{key}' is {getattr(current, 'status')} and cannot be cancelled",
            hint="only queued or processing ones can be cancelled",
        )

    async def requeue_expired(self, now: datetime | None = None) -> ExpiredLeases:
        """Recover documents whose worker stopped heartbeating: re-queue them, or fail those out of attempts.

        The two updates select disjoint documents (attempts left or not), each atomically per document.
        """
        now = now or utc_now()
        expired = {"status": "processing", "lease_expires_at": {"$lt": now}}
        requeued = await self.collection.update_many(
            {**expired, "$expr": HAS_ATTEMPTS_LEFT},
            {"$set": {"status": "queued", "error_message": "the worker's lease expired", "updated_at": now, **RELEASED}},
        )
        failed = await self.collection.update_many(
            {**expired, "$expr": {"$gte": ["$attempts", "$max_attempts"]}},
            {"$set": {
                "status": "failed", "error_message": "the worker's lease expired and no attempts are left",
                "updated_at": now, **RELEASED, **self._finished(now),
            }},
        )  # fmt: skip
        return ExpiredLeases(int(requeued.modified_count), int(failed.modified_count))
