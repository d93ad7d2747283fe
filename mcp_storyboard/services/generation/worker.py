"""The generation worker: claims queued batches and runs their items on ComfyUI servers through a ``PromptRunner``.

Claims, leases, heartbeats, sweeps and a graceful stop follow ``services/common/queue_worker.py``. A claimed
batch runs its items at once, each on a server the :class:`ServerPool` chooses (online, active, spare capacity,
least loaded; only the pinned one for a pinned batch). Each submitted prompt is recorded in the batch's ``running``
(what a cancel interrupts) and leaves it with the item's result. Per item:

- the server did not answer (``ComfyUIUnreachable``): it is marked offline and the item moves to another server;
- ComfyUI refused the graph or the prompt failed (node errors, execution errors, no output, the runner's
  deadline): the item fails with ComfyUI's message, per node;
- success: the outputs land in the media store and the clip's gallery with the result (``completion``).

Items that find no server at all send the batch back to the queue, the attempt counted, while attempts remain
(this process's slots pause before claiming again); on the last attempt they fail, saying why. Then ``finish``
derives the status from the stored counters: completed, partial or failed. A cancelled batch is noticed by the
next lease-conditioned write or heartbeat: its running items are cancelled, which interrupts their prompts.
Servers are re-checked every ``check_seconds`` (``ComfyUIServerService.check_active``), and once more before an
item is declared without a server.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import anyio
import anyio.lowlevel

from mcp_storyboard.errors import ComfyUIError, NotFoundError, ValidationError
from mcp_storyboard.integrations.comfyui import ComfyUIUnreachable
from mcp_storyboard.models.generation import (
    ComfyUIServer,
    GenerationBatch,
    GenerationItem,
    RunningPrompt,
)
from mcp_storyboard.repositories.bundle import Repositories
from mcp_storyboard.repositories.comfyui_servers import ComfyUIServerRepository
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository
from mcp_storyboard.services.comfyui import ComfyUIServerService
from mcp_storyboard.services.common.queue_worker import LOST, QueueWorker, Run
from mcp_storyboard.services.generation.completion import record_failure, record_success
from mcp_storyboard.services.generation.dispatch import ServerPool
from mcp_storyboard.services.generation.ports import GeneratedFile, PromptRunner

log = logging.getLogger(__name__)

OnChange = Callable[[GenerationBatch], Awaitable[None] | None]
"""Called with the batch as stored after each write of this worker (claim, running prompts, results, the end)."""
CHECK_SECONDS = 60.0
HEARTBEAT_MAX_SECONDS = 10.0
"""A lease is renewed every third of its length, at least this often (a cancel is noticed within it)."""
NO_SERVER_PAUSE_SECONDS = 5.0
"""How long this process's slots wait before claiming again after sending a batch back for want of a server."""
NO_SERVER = "no active, online ComfyUI server could take it"


@dataclass(eq=False)
class BatchRun(Run[GenerationBatch]):
    reported: int = 0
    """Items with a recorded result, or found without a server."""
    unplaced: list[GenerationItem] = field(default_factory=list)
    """Items no server could take."""
    writes: anyio.Lock = field(default_factory=anyio.Lock)
    """Taken by each write of an item to the batch: the items' transactions would otherwise collide on the batch
    document and retry with backoff (measured: ``tests/benchmarks/bench_generation_worker.py``)."""


class GenerationWorker(QueueWorker[GenerationBatch]):
    """Runs queued generation batches until :meth:`stop`."""

    kind = "generation batch"

    def __init__(
        self,
        repos: Repositories,
        runner: PromptRunner,
        *,
        concurrency: int = 1,
        lease_seconds: float = 300.0,
        worker_name: str,
        on_change: OnChange | None = None,
        sweep_seconds: float | None = None,
        check_seconds: float | None = CHECK_SECONDS,
        servers: ComfyUIServerService | None = None,
        no_server_pause_seconds: float = NO_SERVER_PAUSE_SECONDS,
    ) -> None:
        """``concurrency`` is how many batches run at once (their items share the servers' capacity);
        ``check_seconds`` None turns the periodic server checks off (the servers' stored status is then trusted).

        Raises:
            ValidationError: see :class:`QueueWorker`; or a check period that is not positive.
        """
        super().__init__(concurrency=concurrency, lease_seconds=lease_seconds, worker_name=worker_name,
                         on_change=on_change, sweep_seconds=sweep_seconds)
        if check_seconds is not None and not check_seconds > 0:
            raise ValidationError("check_seconds", f"must be more than 0, not {check_seconds}")
        self.repos = repos
        self.batches = self.queue = batches = GenerationBatchRepository(repos.database)
        self.runner = runner
        self.servers = servers or ComfyUIServerService(repos)
        self.pool = ServerPool(ComfyUIServerRepository(repos.database), batches)
        self.check_seconds = check_seconds
        self.no_server_pause_seconds = no_server_pause_seconds
        self._checked_at = float("-inf")
        self._check_lock = anyio.Lock()

    async def _claim(self, owner: str) -> GenerationBatch | None:
        return await self.batches.claim_next(owner, self.lease_seconds)

    # -- servers ------------------------------------------------------------------------------------------------
    async def _background(self) -> None:
        if self.check_seconds is None:
            return
        while True:
            await self._check_servers()
            await anyio.sleep(self.check_seconds)

    async def _check_servers(self, *, newer_than: float = float("-inf")) -> None:
        """Check every active server, unless a check started after ``newer_than`` (items asking at once share one)."""
        async with self._check_lock:
            if self._checked_at > newer_than:
                return
            self._checked_at = anyio.current_time()
            try:
                await self.servers.check_active()
            except Exception:
                log.exception("worker %s could not check the ComfyUI servers", self.id)

    async def _mark_offline(self, server: ComfyUIServer, error: ComfyUIUnreachable) -> None:
        try:
            await self.pool.servers.set_status(server.id, "offline", error=error.message, probed_url=server.url)
        except NotFoundError:  # deleted or moved meanwhile: nothing to say about it
            pass
        except Exception:
            log.exception("worker %s could not mark server %s offline", self.id, server.id)

    # -- one batch ----------------------------------------------------------------------------------------------
    async def _process(self, job: GenerationBatch, owner: str) -> None:
        if not job.items:  # a legacy batch: nothing says what to generate
            await self._write(self.batches.fail(job.id, owner, "the batch has no items to generate", final=True))
            return
        done = {result.clip_id for result in job.results if result.success}
        todo = [item for item in job.items if item.clip_id not in done]
        run = BatchRun(job, owner)
        items_at_once = anyio.CapacityLimiter(await self._capacity(job))
        self._runs.add(run)
        try:
            with run.scope:
                if self._stopping:
                    run.scope.cancel()
                async with anyio.create_task_group() as beats:
                    period = min(self.lease_seconds / 3, HEARTBEAT_MAX_SECONDS)
                    beats.start_soon(self._heartbeat, run, period)
                    async with anyio.create_task_group() as items:
                        for item in todo:
                            items.start_soon(self._run_item, run, item, items_at_once)
                    beats.cancel_scope.cancel()
        finally:
            self._runs.discard(run)
            interrupted = not run.lost and run.reported < len(todo)
            if interrupted:  # stop() (or the worker's own cancellation) came mid-batch
                await self._release(job, owner)
        if run.lost:
            log.info("worker %s dropped batch %s: its lease was lost or it was cancelled", owner, job.id)
        elif not interrupted:
            await self._close(run)

    async def _capacity(self, batch: GenerationBatch) -> int:
        """How many of the batch's items may look for a server at once: what its servers can run together (items
        beyond that would only poll for a slot)."""
        try:
            eligible = await self.pool.eligible(pinned=batch.comfyui_server_id)
        except Exception:
            log.exception("worker %s could not list the ComfyUI servers", self.id)
            eligible = []
        return max(1, sum(server.max_concurrent for server in eligible))

    async def _close(self, run: BatchRun) -> None:
        batch, owner = run.job, run.owner
        if run.unplaced and batch.attempts < batch.max_attempts:
            error = f"{len(run.unplaced)} item(s) found no server ({NO_SERVER}); the batch is queued again"
            await self._write(self.batches.fail(batch.id, owner, error, extra={"running": []}))
            if not self._stopping:  # this slot lets servers come back before it claims again (stop() wakes it)
                await self._idle(self.no_server_pause_seconds)
            return
        for item in run.unplaced:
            if await self._write(record_failure(self.batches, batch, owner, item, f"{NO_SERVER} (last attempt)")) is None:
                return
        await self._write(self.batches.finish(batch.id, owner))

    async def _run_item(self, run: BatchRun, item: GenerationItem, items_at_once: anyio.CapacityLimiter) -> None:
        async with items_at_once:
            tried: set[str] = set()
            asked_at = anyio.current_time()
            while True:
                server = await self.pool.acquire(pinned=run.job.comfyui_server_id, exclude=tried)
                if server is None and self.check_seconds is not None and self._checked_at < asked_at:
                    await self._check_servers(newer_than=asked_at)  # servers may have come back since the last check
                    continue
                if server is None:
                    run.unplaced.append(item)
                    run.reported += 1
                    return
                outcome = await self._attempt(run, item, server)
                if outcome is None:  # the server went away: another one may take the item
                    tried.add(server.id)
                    continue
                if isinstance(outcome, str):
                    write = record_failure(self.batches, run.job, run.owner, item, outcome)
                else:
                    write = record_success(self.repos, self.batches, run.job, run.owner, item, server, outcome)
                async with run.writes:
                    stored = await self._write(write)
                if stored is None:
                    self._lose(run)
                else:
                    run.reported += 1
                return

    async def _attempt(self, run: BatchRun, item: GenerationItem, server: ComfyUIServer) -> list[GeneratedFile] | str | None:
        """Run ``item`` on ``server`` (a slot reserved for it): its files, the error it failed with, or None when
        the server did not answer."""
        recorded = False

        async def submitted(prompt_id: str) -> None:
            nonlocal recorded
            self.pool.submitted(server.id)
            recorded = True
            prompt = RunningPrompt(clip_id=item.clip_id, server_id=server.id, prompt_id=prompt_id)
            try:
                async with run.writes:
                    stored = await self.batches.add_running(run.job.id, run.owner, prompt)
            except LOST:
                self._lose(run)  # cancelled or taken: the runner's cancellation interrupts the prompt
                await anyio.lowlevel.checkpoint()
                return
            await self._notify(stored)

        try:
            return await self.runner.run(server, item, client_id=self.id, on_submitted=submitted)
        except ComfyUIUnreachable as exc:
            log.warning("ComfyUI server %s (%s) did not answer; item %s moves on", server.name, server.id, item.clip_id)
            await self._mark_offline(server, exc)
            if recorded:
                await self._write(self.batches.drop_running(run.job.id, run.owner, item.clip_id))
            return None
        except ComfyUIError as exc:
            return str(exc)
        except TimeoutError as exc:
            return f"ComfyUI did not finish the prompt in time ({exc or 'the runner gave up waiting'})"
        except Exception as exc:  # a fault of ours in the runner: this item failed, the batch goes on
            log.exception("the runner failed on clip %s of batch %s", item.clip_id, run.job.id)
            return f"the runner failed: {type(exc).__name__}: {exc}"
        finally:
            self.pool.release(server.id, recorded=recorded)
