"""Follow a job collection (``facefusion_jobs``, ``generation_batches``) through the database's change stream: every insert, update, replace and delete, by
any process (a worker on another host included), as typed :class:`JobChange` values.

Only where the backend has change streams (``database.capabilities.change_streams``: the embedded server and
MongoDB replica sets; not memory://). :meth:`JobChangeFeed.follow` never ends by itself: after an error it reopens
the stream after the last change it delivered (the resume token), after a pause that doubles up to a cap, so no
change is lost or delivered twice; only cancellation stops it.

A delete event names only the document's ``_id`` (the embedded server keeps no pre-images), so the feed remembers
the job of the last :data:`REMEMBERED` documents it saw; a delete of a job it never saw is skipped (a project's
delete, the only way jobs go, announces the project itself).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, get_args

import anyio
import anyio.lowlevel
from pymongo.errors import OperationFailure

from mcp_storyboard.db import driver as shim
from mcp_storyboard.db.connection import Database
from mcp_storyboard.models.facefusion import FaceFusionJob

logger = logging.getLogger("mcp_storyboard.changes")

JobOperation = Literal["insert", "update", "replace", "delete"]
REMEMBERED = 10_000
"""Documents whose job id the feed keeps for their delete events (an entry is a few hundred bytes)."""
HISTORY_LOST = frozenset({260, 280, 286})
"""InvalidResumeToken, ChangeStreamFatalError, ChangeStreamHistoryLost: the token cannot be resumed from."""
_PIPELINE: list[dict[str, Any]] = [
    {"$match": {"operationType": {"$in": list(get_args(JobOperation))}}},
    # Only what the notifications need travels: never a job's inputs, and of its results only which clips got one.
    {"$project": {
        "operationType": 1, "documentKey": 1, "updateDescription.updatedFields.status": 1,
        "fullDocument.id": 1, "fullDocument.status": 1, "fullDocument.character_id": 1, "fullDocument.project_id": 1,
        "fullDocument.results.clip_id": 1, "fullDocument.results.success": 1,
    }},
]  # fmt: skip


@dataclass(frozen=True)
class JobChange:
    """One change to one job, as stored after it (before it, for a delete)."""

    operation: JobOperation
    job_id: str
    status: str | None
    """The status this change wrote, else the job's when the change was read; None when the job is gone."""
    character_id: str | None
    project_id: str | None
    status_changed: bool
    """The change wrote the status: an insert, a replace, or an update that set ``status``."""
    event_id: str
    """The change's resume token: the same change seen by two streams has the same id."""
    clip_ids: tuple[str, ...] = ()
    """The clips the job's successful results went to (generation batches), as the looked-up job shows them;
    empty when the event carried no document."""


@dataclass(frozen=True)
class Backoff:
    """How long to wait before reopening a failed stream: ``first``, doubling up to ``most`` (seconds)."""

    first: float = 0.2
    most: float = 30.0


class JobChangeFeed:
    """The change stream of a job collection (default ``facefusion_jobs``) as an endless, resumable iterator of
    :class:`JobChange`."""

    def __init__(self, database: Database, *, backoff: Backoff = Backoff(), max_await_ms: int = 1000,
                 collection: str = FaceFusionJob.collection) -> None:
        self.database = database
        self.collection_name = collection
        self.backoff = backoff
        self.max_await_ms = max_await_ms
        """How long one server round trip waits for a change (the stream's token advances at least this often)."""
        self.resume_token: Mapping[str, Any] | None = None
        """Where the next (re)opened stream starts: after the last change delivered."""
        self.reopened = 0
        """Streams opened after the first one ended or failed (observable by tests and benchmarks)."""
        self.opened = anyio.Event()
        """Set once the first stream is open: every change from then on will be delivered."""
        self._known: OrderedDict[Any, tuple[str, str | None, str | None]] = OrderedDict()

    @property
    def available(self) -> bool:
        """The backend has change streams."""
        return self.database.capabilities.change_streams

    async def follow(self) -> AsyncIterator[JobChange]:
        """Every job change from now on, across errors; ends only when cancelled (or closed by the caller)."""
        pause = self.backoff.first
        while True:
            try:
                async with self._stream() as stream:
                    while stream.alive:
                        raw = await stream.try_next()
                        pause = self.backoff.first  # the stream works again
                        if raw is None:
                            await anyio.lowlevel.checkpoint()  # a closed stream answers at once: never spin
                        elif (change := self._parse(raw)) is not None:
                            yield change
                        # After the yield: a change the caller did not take is read again on resume.
                        self.resume_token = stream.resume_token
                # The collection or the database was dropped (or renamed): the stream cannot resume past that.
                self.resume_token = None
                logger.info("the job change stream ended (the collection was dropped); following anew")
            except OperationFailure as exc:
                if exc.code in HISTORY_LOST:
                    self.resume_token = None
                    logger.warning("the job change stream cannot resume (code %s): following from now on; "
                                   "changes in between were not announced", exc.code)
                else:
                    logger.warning("the job change stream failed (code %s); reopening in %.1f s", exc.code, pause)
            except Exception as exc:  # noqa: BLE001 - a dropped connection, a server restart: keep following
                # The type only: a driver message may name hosts from the connection string.
                logger.warning("the job change stream failed (%s); reopening in %.1f s", type(exc).__name__, pause)
            await anyio.sleep(pause)
            pause = min(pause * 2, self.backoff.most)

    @asynccontextmanager
    async def _stream(self) -> AsyncIterator[Any]:
        options: dict[str, Any] = {"full_document": "updateLookup", "max_await_time_ms": self.max_await_ms}
        if self.resume_token is not None:
            options["resume_after"] = self.resume_token
        collection = self.database.collection(self.collection_name)
        async with shim.watch(collection, _PIPELINE, **options) as stream:
            if self.resume_token is None:
                self.resume_token = stream.resume_token  # changes from here on survive a failure before the first
            if self.opened.is_set():
                self.reopened += 1
            self.opened.set()
            yield stream

    def _parse(self, raw: Mapping[str, Any]) -> JobChange | None:
        """The change of one event, or None when it cannot be tied to a job."""
        try:
            operation: JobOperation = raw["operationType"]
            event_id = str(raw["_id"]["_data"])
            key = (raw.get("documentKey") or {}).get("_id")
            written = (raw.get("updateDescription") or {}).get("updatedFields") or {}
            document = raw.get("fullDocument")
            job = self._known.pop(key, None) if operation == "delete" else self._known.get(key)
            status = None
            clip_ids: tuple[str, ...] = ()
            if isinstance(document, Mapping) and isinstance(document.get("id"), str):
                clip_ids = _result_clips(document.get("results"))
                job = (document["id"], document.get("character_id"), document.get("project_id"))
                self._remember(key, job)
                status = document.get("status")
            if job is None:
                return None
            # The looked-up document is the job as it is when the event is read, perhaps changed again since; the
            # status this change wrote is in the event itself.
            status = written.get("status", status)
            return JobChange(operation, job[0], status, job[1], job[2],
                             status_changed=operation in ("insert", "replace") or "status" in written,
                             event_id=event_id, clip_ids=clip_ids)
        except (KeyError, TypeError, AttributeError):
            logger.warning("skipped a job change event of an unexpected shape")
            return None

    def _remember(self, key: Any, job: tuple[str, str | None, str | None]) -> None:
        self._known[key] = job
        self._known.move_to_end(key)
        while len(self._known) > REMEMBERED:
            self._known.popitem(last=False)


def _result_clips(results: Any) -> tuple[str, ...]:
    """The distinct clip ids of a batch's successful results (a legacy plain-URL result names no clip)."""
    if not isinstance(results, list):
        return ()
    clips = (r.get("clip_id") for r in results if isinstance(r, Mapping) and r.get("success", True))
    return tuple(dict.fromkeys(c for c in clips if isinstance(c, str)))
