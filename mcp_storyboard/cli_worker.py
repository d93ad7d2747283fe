"""The ``worker`` command and ``serve --worker``: FaceFusion workers against the configured database.

``mcp-storyboard worker`` runs one worker (``--concurrency`` slots) until SIGTERM or SIGINT, then stops
gracefully: running operations are cancelled and their jobs handed back to the queue, the attempt not counted.
One worker per GPU host against a shared MongoDB scales out. ``serve --worker`` runs one beside the server, in
its process, for single-machine use.

The runner comes from ``integrations.facefusion.build.build_runner(settings, services)``, imported when a worker
starts (it raises a ``ConfigError`` naming FACEFUSION_PATH when FaceFusion is not configured).
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
from typing import TYPE_CHECKING, Any

import anyio

from mcp_storyboard.config import Settings
from mcp_storyboard.errors import ConfigError

if TYPE_CHECKING:
    from mcp_storyboard.db.connection import Database
    from mcp_storyboard.services.container import Services
    from mcp_storyboard.services.facefusion.ports import OperationRunner
    from mcp_storyboard.services.facefusion.worker import FaceFusionWorker, OnChange

logger = logging.getLogger("mcp_storyboard.worker")
DEFAULT_LEASE_SECONDS = 300.0


@dataclass(frozen=True)
class WorkerOptions:
    """What the command line says about the worker."""

    concurrency: int = 1
    lease_seconds: float = DEFAULT_LEASE_SECONDS
    name: str | None = None

    @property
    def worker_name(self) -> str:
        """The given name, else host:pid (one worker per process)."""
        return self.name or f"{socket.gethostname()}:{os.getpid()}"


def check_options(options: WorkerOptions) -> None:
    """Refuse option values the worker cannot run with, naming the flag.

    Raises:
        ConfigError: --concurrency outside 1–64, or --lease-seconds under 1.
    """
    if not 1 <= options.concurrency <= 64:
        raise ConfigError(f"--concurrency {options.concurrency} is not between 1 and 64", hint="one slot per GPU job, e.g. 1-4")
    if not options.lease_seconds >= 1:
        raise ConfigError(f"--lease-seconds {options.lease_seconds:g} is under 1",
                          hint="a lease must outlast heartbeat round trips by far; the default is 300")


async def build_runner(settings: Settings, services: Services) -> OperationRunner:
    """The FaceFusion runner for ``settings``, imported only now: the CLI must not pay for it when no worker runs.

    Raises:
        ConfigError: FaceFusion is not configured (the message names FACEFUSION_PATH).
    """
    from mcp_storyboard.integrations.facefusion.build import build_runner as build_cli_runner

    return build_cli_runner(settings, services)


def new_worker(services: Services, runner: OperationRunner, options: WorkerOptions, on_change: OnChange | None = None) -> FaceFusionWorker:
    from mcp_storyboard.services.facefusion.worker import FaceFusionWorker

    return FaceFusionWorker(
        services.repositories, runner, concurrency=options.concurrency, lease_seconds=options.lease_seconds,
        worker_name=options.worker_name, on_change=on_change,
    )  # fmt: skip


async def run_until_signalled(worker: FaceFusionWorker, database: Database) -> None:
    """Run ``worker`` until SIGTERM or SIGINT, then stop it gracefully."""
    async with anyio.create_task_group() as tg:

        async def stop_on_signal() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                async for _ in signals:
                    worker.stop()
                    return

        tg.start_soon(stop_on_signal)
        await run_with_wakeups(worker, database)
        tg.cancel_scope.cancel()


async def run_with_wakeups(worker: FaceFusionWorker, database: Database) -> None:
    """Run ``worker`` until it stops, waking its idle slots whenever a job is queued anywhere (a new job or a
    retry, by this or any other process) where the database has a change stream. Without one, the slots find new
    jobs by polling with backoff (at most 2 s late)."""
    async with anyio.create_task_group() as tg:
        tg.start_soon(wake_on_new_jobs, worker, database)
        await worker.run()
        tg.cancel_scope.cancel()


async def wake_on_new_jobs(worker: FaceFusionWorker, database: Database) -> None:
    """Follow ``facefusion_jobs``' change stream and wake ``worker`` on each change that queued a job."""
    if not database.capabilities.change_streams:
        return
    from mcp_storyboard.repositories.job_changes import JobChangeFeed

    feed = JobChangeFeed(database)
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
    runner_factory: Callable[[Settings, Services], Any] | None = None,
    ready: Callable[[FaceFusionWorker], None] | None = None,
) -> int:
    """The ``worker`` command: open the services, build the runner, work until signalled. ``runner_factory``
    replaces :func:`build_runner` (tests); ``ready`` is told the worker once it is about to start."""
    from mcp_storyboard.services.container import open_services

    check_options(options)
    async with open_services(settings) as services:
        made = (runner_factory or build_runner)(settings, services)
        runner: OperationRunner = await made if inspect.isawaitable(made) else made
        worker = new_worker(services, runner, options)
        if ready is not None:
            ready(worker)
        await run_until_signalled(worker, services.database)
    return 0


def with_worker(
    factory: Callable[[], AbstractAsyncContextManager[Services]],
    settings: Settings,
    options: WorkerOptions,
    *,
    on_change: OnChange | None = None,
) -> Callable[[], AbstractAsyncContextManager[Services]]:
    """``serve --worker``: the server's services factory, with one worker running while the services are open."""
    check_options(options)

    @asynccontextmanager
    async def open_with_worker() -> AsyncIterator[Services]:
        async with factory() as services:
            worker = new_worker(services, await build_runner(settings, services), options, on_change)
            async with anyio.create_task_group() as tg:
                tg.start_soon(run_with_wakeups, worker, services.database)
                try:
                    yield services
                finally:
                    worker.stop()

    return open_with_worker
