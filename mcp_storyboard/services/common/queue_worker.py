"""What every queue worker does whatever its jobs are: slots that claim, leases kept alive by heartbeats, idle
backoff, sweeps of expired leases, and a graceful stop that hands the running work back.

One worker runs ``concurrency`` slots; each slot claims one document at a time (one ``find_one_and_update`` in
queue order) under its own lease owner id, so a slot's writes are told apart from every other slot's and process's.
While a document is processed, a heartbeat extends its lease; when a heartbeat (or any lease-conditioned write)
finds the lease lost or the document cancelled, the run's cancel scope is cancelled and nothing more is written.
Idle slots poll with exponential backoff (at the slowest rate only one slot of a worker polls and wakes the others
when it finds work) and sweep expired leases back into the queue (``requeue_expired``), as does a periodic sweep.
``stop()`` stops claiming, cancels the running work and hands it back to the queue, the attempt not counted.

A subclass says how to claim and process one document (:meth:`QueueWorker._claim`, :meth:`QueueWorker._process`):
``FaceFusionWorker`` (a job's operations in order, with progress) and ``GenerationWorker`` (a batch's items at
once, across ComfyUI servers).
"""

from __future__ import annotations

import inspect
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import anyio

from mcp_storyboard.errors import NotFoundError, QueueError, ValidationError
from mcp_storyboard.repositories.queue import LeasedQueueRepository

log = logging.getLogger(__name__)

J = TypeVar("J", bound=Any)
IDLE_FIRST_SECONDS = 0.05
IDLE_MAX_SECONDS = 2.0
"""An idle slot polls after 50 ms, then twice as long each time the queue is still empty, up to 2 s."""
SWEEP_SECONDS = 5.0
"""How often expired leases are swept back into the queue (more often when the lease is shorter than two sweeps)."""
RELEASE_BUDGET_SECONDS = 10.0
"""How long a stopping worker tries to hand work back before it leaves it to the lease's expiry."""
MAX_CONCURRENCY = 64
LOST = (QueueError, NotFoundError)
"""What a lease-conditioned write raises when the worker no longer holds the document (or it was deleted)."""


@dataclass(eq=False)
class Run(Generic[J]):
    """One document being processed by one slot."""

    job: J
    owner: str
    scope: anyio.CancelScope = field(default_factory=anyio.CancelScope)
    lost: bool = False
    """The lease was lost or the document cancelled: stop and write nothing."""


class QueueWorker(Generic[J]):
    """Processes the documents of one leased queue until :meth:`stop`."""

    kind = "job"
    queue: LeasedQueueRepository[J]
    """The queue, set by the subclass once the settings passed the checks here."""

    def __init__(
        self,
        *,
        concurrency: int,
        lease_seconds: float,
        worker_name: str,
        on_change: Callable[[J], Awaitable[None] | None] | None,
        sweep_seconds: float | None,
    ) -> None:
        """``worker_name`` names the worker in leases (e.g. host:pid); a random suffix keeps two workers given
        the same name apart.

        Raises:
            ValidationError: concurrency outside 1–64, a lease or sweep period that is not positive, or a name
                that is empty or longer than 150 characters.
        """
        if not 1 <= concurrency <= MAX_CONCURRENCY:
            raise ValidationError("concurrency", f"must be between 1 and {MAX_CONCURRENCY}, not {concurrency}")
        if not lease_seconds > 0:
            raise ValidationError("lease_seconds", f"must be more than 0, not {lease_seconds}")
        sweep_seconds = min(SWEEP_SECONDS, lease_seconds / 2) if sweep_seconds is None else sweep_seconds
        if not sweep_seconds > 0:
            raise ValidationError("sweep_seconds", f"must be more than 0, not {sweep_seconds}")
        if not 1 <= len(worker_name) <= 150:
            raise ValidationError("worker_name", "must be 1–150 characters")
        self.concurrency = concurrency
        self.lease_seconds = float(lease_seconds)
        self.sweep_seconds = float(sweep_seconds)
        self.id = f"{worker_name}.{secrets.token_hex(2)}"
        self.slot_ids = [f"{self.id}/{slot}" for slot in range(concurrency)]
        self.on_change = on_change
        self._stopping = False
        self._running = False
        self._runs: set[Run[J]] = set()
        self._wake: anyio.Event | None = None
        self._last_sweep = float("-inf")
        self._pollers = 0
        """Idle slots polling now; once one polls at the slowest rate, the other idle slots wait to be woken."""

    # -- what a subclass provides ------------------------------------------------------------------------------
    async def _claim(self, owner: str) -> J | None:
        """Claim the next document for ``owner`` (the queue's ``claim_next``), or None when there is none."""
        raise NotImplementedError

    async def _process(self, job: J, owner: str) -> None:
        """Process one claimed document (the slot's lease owner id is ``owner``)."""
        raise NotImplementedError

    async def _background(self) -> None:
        """Work beside the slots for as long as the worker runs (none by default)."""

    # -- life cycle -----------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Work until :meth:`stop` (or until cancelled: running work is then handed back too)."""
        if self._running:
            raise RuntimeError("this worker is already running")
        self._running = True
        self._wake = anyio.Event()
        try:
            async with anyio.create_task_group() as helpers:
                helpers.start_soon(self._sweep_periodically)
                helpers.start_soon(self._background)
                async with anyio.create_task_group() as slots:
                    for owner in self.slot_ids:
                        slots.start_soon(self._slot, owner)
                helpers.cancel_scope.cancel()
        finally:
            self._running = False

    def stop(self) -> None:
        """Stop claiming, cancel the running work and hand it back to the queue; :meth:`run` returns once that is
        done. Safe to call from a signal handler running in the event loop."""
        self._stopping = True
        for run in list(self._runs):
            run.scope.cancel()
        self.wake()

    def wake(self) -> None:
        """Make idle slots poll now (e.g. work was just queued in this process)."""
        if self._wake is not None:
            woken, self._wake = self._wake, anyio.Event()
            woken.set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    # -- slots ------------------------------------------------------------------------------------------------
    async def _slot(self, owner: str) -> None:
        delay = IDLE_FIRST_SECONDS
        while not self._stopping:
            try:
                job = await self._claim(owner)
            except Exception:  # the database is unreachable for a moment: back off and try again
                log.exception("worker %s could not claim a %s", owner, self.kind)
                job = None
            if job is None:
                # Becoming idle, and then every sweep period: expired leases go back to the queue first.
                if await self._sweep(force=delay == IDLE_FIRST_SECONDS):
                    continue
                if self._pollers and delay >= IDLE_MAX_SECONDS:
                    await self._idle(None)  # another slot polls for all: it wakes this one when it finds work
                    continue
                self._pollers += 1
                try:
                    await self._idle(delay)
                finally:
                    self._pollers -= 1
                delay = min(delay * 2, IDLE_MAX_SECONDS)
                continue
            delay = IDLE_FIRST_SECONDS
            self.wake()  # there was work: sleeping slots look for more
            if self._stopping:
                await self._release(job, owner)
                return
            await self._notify(job)
            await self._process(job, owner)

    async def _idle(self, delay: float | None) -> None:
        """Wait ``delay`` seconds (None: until woken) or until :meth:`wake`."""
        assert self._wake is not None
        with anyio.move_on_after(float("inf") if delay is None else delay):
            await self._wake.wait()

    async def _sweep(self, *, force: bool = False) -> int:
        """Requeue expired leases when forced or when a sweep period has passed; how many it requeued."""
        now = anyio.current_time()
        if not force and now - self._last_sweep < self.sweep_seconds:
            return 0
        self._last_sweep = now
        try:
            swept = await self.queue.requeue_expired()
        except Exception:
            log.exception("worker %s could not sweep expired leases", self.id)
            return 0
        if swept.requeued or swept.failed:
            log.info("worker %s: %d %s(es) with expired leases requeued, %d failed", self.id, swept.requeued,
                     self.kind, swept.failed)
        return swept.requeued

    async def _sweep_periodically(self) -> None:
        while True:
            await anyio.sleep(self.sweep_seconds)
            await self._sweep()

    # -- leases -------------------------------------------------------------------------------------------------
    async def _heartbeat(self, run: Run[J], period: float) -> None:
        while await self._renew(run, sleep=period):
            pass

    async def _renew(self, run: Run[J], *, sleep: float = 0.0) -> bool:
        """Extend the lease (after ``sleep``); False, with the run cancelled, when the document is no longer ours."""
        if sleep:
            await anyio.sleep(sleep)
        try:
            await self.queue.heartbeat(run.job.id, run.owner, self.lease_seconds)
        except LOST:
            self._lose(run)
            return False
        except Exception:  # a database hiccup: the lease has time left; the next beat tries again
            log.exception("worker %s could not renew the lease of %s %s", run.owner, self.kind, run.job.id)
        return True

    def _lose(self, run: Run[J]) -> None:
        run.lost = True
        run.scope.cancel()

    async def _release(self, job: J, owner: str) -> None:
        with anyio.move_on_after(RELEASE_BUDGET_SECONDS, shield=True):
            await self._write(self.queue.release(job.id, owner))

    async def _write(self, write: Awaitable[J]) -> J | None:
        """Await a lease-conditioned write and notify; a refusal means another worker or a cancel took the
        document over, which is normal and only logged. The document as stored, or None when refused or failed."""
        try:
            stored = await write
        except LOST as exc:
            log.info("a %s write was refused: %s", self.kind, exc)
            return None
        except Exception:
            log.exception("a %s write failed", self.kind)
            return None
        await self._notify(stored)
        return stored

    async def _notify(self, job: J) -> None:
        if self.on_change is None:
            return
        try:
            outcome = self.on_change(job)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:  # a listener's fault never stops the worker
            log.exception("on_change failed for %s %s", self.kind, job.id)
