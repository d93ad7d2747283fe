"""The ``worker`` command and ``serve --worker``: the queue workers against the configured database.

``mcp-storyboard worker`` runs a generation worker (ComfyUI batches) and a FaceFusion worker, each with
``--concurrency`` slots, until SIGTERM or SIGINT, then stops them gracefully: running work is cancelled and handed
back to the queue, the attempt not counted. One worker process per GPU host against a shared MongoDB scales out.
``serve --worker`` runs them beside the server, in its process, for single-machine use.

``--queue facefusion`` / ``--queue generation`` / ``--queue render`` (repeatable) choose the queues; without it
the worker runs generation, FaceFusion too where it is configured (FACEFUSION_PATH; unconfigured, it says so in the
log), and animatic renders where PyAV is installed (the ``render`` extra). Asked for explicitly, an unconfigured FaceFusion is an error naming FACEFUSION_PATH.

The runners are imported when a worker starts: ``integrations.facefusion.build.build_runner(settings, services)``
and ``integrations.comfyui.runner.ComfyUIPromptRunner``.
"""

from __future__ import annotations

import inspect
import logging
import os
import signal
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, get_args

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.errors import ConfigError

if TYPE_CHECKING:
    from mcp_storyboard.db.connection import Database
    from mcp_storyboard.services.container import Services
    from mcp_storyboard.services.facefusion.ports import OperationRunner
    from mcp_storyboard.services.facefusion.worker import FaceFusionWorker, OnChange
    from mcp_storyboard.services.generation.ports import PromptRunner
    from mcp_storyboard.services.generation.worker import GenerationWorker
    from mcp_storyboard.services.generation.worker import OnChange as OnBatchChange
    from mcp_storyboard.services.render.worker import OnChange as OnRenderChange
    from mcp_storyboard.services.render.worker import RenderWorker

    AnyWorker = FaceFusionWorker | GenerationWorker | RenderWorker

logger = logging.getLogger("mcp_storyboard.worker")
DEFAULT_LEASE_SECONDS = 300.0
DEFAULT_CHECK_SECONDS = 60.0
Queue = Literal["facefusion", "generation", "render"]
QUEUES: tuple[Queue, ...] = get_args(Queue)
RunnerFactory = Callable[[Settings, "Services"], Any]
"""``(settings, services) -> runner`` (or an awaitable of one); tests pass stubs."""


@dataclass(frozen=True)
class WorkerOptions:
    """What the command line says about the worker."""

    concurrency: int = 1
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    name: str | None = None
    queues: tuple[Queue, ...] = ()
    """The queues to work on; empty: generation, FaceFusion where it is configured, render where PyAV is installed."""
    check_seconds: float = DEFAULT_CHECK_SECONDS
    """How often the generation worker re-checks the active ComfyUI servers."""

    @property
    def worker_name(self) -> str:
        """The given name, else host:pid (one worker per process)."""
        return self.name or f"{socket.gethostname()}:{os.getpid()}"


def check_options(options: WorkerOptions) -> None:
    """Refuse option values the worker cannot run with, naming the flag.

    Raises:
        ConfigError: --concurrency outside 1–64, --lease-seconds or --check-seconds under 1, or an unknown --queue.
    """
    if not 1 <= options.concurrency <= 64:
        raise ConfigError(f"--concurrency {options.concurrency} is not between 1 and 64", hint="one slot per GPU job, e.g. 1-4")
    if not options.lease_seconds >= 1:
        raise ConfigError(f"--lease-seconds {options.lease_seconds:g} is under 1",
                          hint="a lease must outlast heartbeat round trips by far; the default is 300")
    if not options.check_seconds >= 1:
        raise ConfigError(f"--check-seconds {options.check_seconds:g} is under 1",
                          hint="how often ComfyUI servers are re-checked; the default is 60")
    unknown = [queue for queue in options.queues if queue not in QUEUES]
    if unknown:
        raise ConfigError(f"--queue {unknown[0]} is not a queue", hint=f"choose from {', '.join(QUEUES)}")


async def build_runner(settings: Settings, services: Services) -> OperationRunner:
    """The FaceFusion runner for ``settings``, imported only now: the CLI must not pay for it when no worker runs.

    Raises:
        ConfigError: FaceFusion is not configured (the message names FACEFUSION_PATH).
    """
    from mcp_storyboard.integrations.facefusion.build import build_runner as build_cli_runner

    return build_cli_runner(settings, services)


async def build_generation_runner(settings: Settings, services: Services) -> PromptRunner:
    """The ComfyUI runner (HTTP to the registered servers), imported only now."""
    from mcp_storyboard.integrations.comfyui.runner import ComfyUIPromptRunner

    return ComfyUIPromptRunner()


def new_worker(services: Services, runner: OperationRunner, options: WorkerOptions, on_change: OnChange | None = None) -> FaceFusionWorker:
    from mcp_storyboard.services.facefusion.worker import FaceFusionWorker

    return FaceFusionWorker(
        services.repositories, runner, concurrency=options.concurrency, lease_seconds=options.lease_seconds,
        worker_name=options.worker_name, on_change=on_change,
    )  # fmt: skip


def new_generation_worker(services: Services, runner: PromptRunner, options: WorkerOptions,
                          on_change: OnBatchChange | None = None) -> GenerationWorker:
    from mcp_storyboard.services.generation.worker import GenerationWorker

    return GenerationWorker(
        services.repositories, runner, concurrency=options.concurrency, lease_seconds=options.lease_seconds,
        worker_name=options.worker_name, on_change=on_change, check_seconds=options.check_seconds,
        servers=services.comfyui,
    )  # fmt: skip


async def _made(factory: RunnerFactory, settings: Settings, services: Services) -> Any:
    made = factory(settings, services)
    return await made if inspect.isawaitable(made) else made


async def build_workers(
    settings: Settings,
    services: Services,
    options: WorkerOptions,
    *,
    runner_factory: RunnerFactory | None = None,
    generation_runner_factory: RunnerFactory | None = None,
    on_change: OnChange | None = None,
    on_batch_change: OnBatchChange | None = None,
    on_render_change: OnRenderChange | None = None,
) -> list[AnyWorker]:
    """The workers ``options`` ask for (see the module notes); ``runner_factory`` builds the FaceFusion runner,
    ``generation_runner_factory`` the ComfyUI one (defaults: :func:`build_runner`, :func:`build_generation_runner`).

    Raises:
        ConfigError: FaceFusion was asked for (``--queue facefusion``) and is not configured.
    """
    chosen = options.queues or QUEUES
    workers: list[AnyWorker] = []
    if "facefusion" in chosen:
        try:
            runner = await _made(runner_factory or build_runner, settings, services)
        except ConfigError as exc:
            if options.queues:
                raise
            logger.warning("FaceFusion jobs are not run by this worker: %s", exc.message)
        else:
            workers.append(new_worker(services, runner, options, on_change))
    if "generation" in chosen:
        prompts = await _made(generation_runner_factory or build_generation_runner, settings, services)
        workers.append(new_generation_worker(services, prompts, options, on_batch_change))
    if "render" in chosen:
        render = new_render_worker(services, options, on_render_change)
        if render is None and options.queues:
            raise ConfigError("--queue render needs PyAV", hint="pip install 'mcp-storyboard[render]'")
        if render is None:
            logger.warning("render jobs are not run by this worker: PyAV is not installed (the [render] extra)")
        else:
            workers.append(render)
    return workers


def new_render_worker(services: Services, options: WorkerOptions,
                      on_change: OnRenderChange | None = None) -> RenderWorker | None:
    """The animatic worker, or None when PyAV (the optional ``render`` extra) is not installed."""
    try:
        import av  # noqa: F401  # only to learn whether the extra is installed
    except ImportError:
        return None
    from mcp_storyboard.services.render.worker import RenderWorker

    return RenderWorker(services.repositories, concurrency=options.concurrency, lease_seconds=options.lease_seconds,
                        worker_name=options.worker_name, on_change=on_change)


async def run_until_signalled(workers: list[AnyWorker], database: Database) -> None:
    """Run ``workers`` until SIGTERM or SIGINT, then stop them gracefully."""
    async with anyio.create_task_group() as tg:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for _ in signals:
                    for worker in workers:
                        worker.stop()
                    return

        tg.start_soon(stop_on_signal)
        await run_all(workers, database)
        tg.cancel_scope.cancel()


async def run_all(workers: list[AnyWorker], database: Database) -> None:
    """Run ``workers`` until they all stop, each woken by its queue's change stream where there is one."""
    async with anyio.create_task_group() as tg:
        for worker in workers:
            tg.start_soon(run_with_wakeups, worker, database)


async def run_with_wakeups(worker: AnyWorker, database: Database) -> None:
    """Run ``worker`` until it stops, waking its idle slots whenever a job or batch is queued anywhere (a new one
    or a retry, by this or any other process) where the database has a change stream. Without one, the slots find
    new work by polling with backoff (at most 2 s late)."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(wake_on_new_jobs, worker, database)
        await worker.run()
        tg.cancel_scope.cancel()


async def wake_on_new_jobs(worker: AnyWorker, database: Database) -> None:
    """Follow the change stream of ``worker``'s queue (``facefusion_jobs`` or ``generation_batches``) and wake it on
    each change that queued a job or batch."""
    if not database.capabilities.change_streams:
        return
    from mcp_storyboard.repositories.job_changes import JobChangeFeed

    feed = JobChangeFeed(database, collection=worker.queue.name)
    while True:
        try:
            async for change in feed.follow():
                if change.status_changed and change.status == "queued":
                    worker.wake()
        except Exception as exc:  # polling still finds the jobs; follow again after a pause
            # The type only: a driver's message can carry the database address.
            logger.warning("the worker's job change stream failed (%s); following it again", type(exc).__name__)
        await anyio.sleep(1.0)


async def run_worker(
    settings: Settings,
    options: WorkerOptions,
    *,
    runner_factory: RunnerFactory | None = None,
    generation_runner_factory: RunnerFactory | None = None,
    ready: Callable[[list[AnyWorker]], None] | None = None,
) -> int:
    """The ``worker`` command: open the services, build the workers, work until signalled. The factories replace
    the runners' builders (tests); ``ready`` is told the workers once they are about to start."""
    from mcp_storyboard.services.container import open_services

    check_options(options)
    async with open_services(settings) as services:
        workers = await build_workers(settings, services, options, runner_factory=runner_factory,
                                      generation_runner_factory=generation_runner_factory)
        if ready is not None:
            ready(workers)
        await run_until_signalled(workers, services.database)
    return 0


def with_worker(
    factory: Callable[[], AbstractAsyncContextManager[Services]],
    settings: Settings,
    options: WorkerOptions,
    *,
    on_change: OnChange | None = None,
    on_batch_change: OnBatchChange | None = None,
    on_render_change: OnRenderChange | None = None,
    generation_runner_factory: RunnerFactory | None = None,
) -> Callable[[], AbstractAsyncContextManager[Services]]:
    """``serve --worker``: the server's services factory, with the workers running while the services are open."""
    check_options(options)

    @asynccontextmanager
    async def open_with_worker() -> AsyncIterator[Services]:
        async with factory() as services:
            workers = await build_workers(settings, services, options, on_change=on_change,
                                          on_batch_change=on_batch_change, on_render_change=on_render_change,
                                          generation_runner_factory=generation_runner_factory)
            async with anyio.create_task_group() as tg:
                tg.start_soon(run_all, workers, services.database)
                try:
                    yield services
                finally:
                    for worker in workers:
                        worker.stop()

    return open_with_worker
