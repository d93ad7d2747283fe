"""``mcp-storyboard worker`` and ``serve --worker``: options, the runners built lazily (a clear exit 2 when
FaceFusion is asked for and not configured; generation only when it is not asked for), and a graceful stop on
SIGTERM that hands the running job (or batch) back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import types
from typing import Any

import anyio
import pytest

from mcp_storyboard.cli import main
from mcp_storyboard.cli_worker import WorkerOptions, run_worker, with_worker
from mcp_storyboard.config import Settings
from mcp_storyboard.models.facefusion import FaceFusionJob
from mcp_storyboard.models.generation import GenerationBatch
from mcp_storyboard.repositories.facefusion_jobs import FaceFusionJobRepository
from mcp_storyboard.repositories.generation_batches import GenerationBatchRepository
from mcp_storyboard.services.container import Services, open_services
from tests.fakes.comfyui import serve_fake_comfyui
from tests.seed import seed_clip, seed_project
from tests.workers.generation_stubs import StubPromptRunner, item, new_batch
from tests.workers.stubs import StubRunner, new_job, operation, wait_until

RUNNER_MODULE = "mcp_storyboard.integrations.facefusion.build"
NOT_CONFIGURED = "FACEFUSION_PATH is not set. Set FACEFUSION_PATH to a FaceFusion 3.8 checkout"


def fake_runner_module(monkeypatch: pytest.MonkeyPatch, build: Any) -> None:
    """Stand in for the runner package (``integrations/facefusion/build.py``, another part of the work)."""
    module = types.ModuleType(RUNNER_MODULE)
    module.build_runner = build  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, RUNNER_MODULE, module)


def test_the_worker_exits_2_naming_facefusion_path_when_facefusion_is_not_configured(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("FACEFUSION_PATH", raising=False)
    assert main(["worker", "--mongodb-uri", "memory://", "--queue", "facefusion"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"mcp-storyboard: {NOT_CONFIGURED}")


@pytest.mark.parametrize(("flags", "expected"), [
    (["--concurrency", "0"], "--concurrency 0 is not between 1 and 64"),
    (["--lease-seconds", "0.5"], "--lease-seconds 0.5 is under 1"),
    (["--check-seconds", "0.5"], "--check-seconds 0.5 is under 1"),
])
def test_bad_worker_options_exit_2_naming_the_flag(
    flags: list[str], expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_runner_module(monkeypatch, lambda *_: pytest.fail("no runner is built for bad options"))
    assert main(["worker", "--mongodb-uri", "memory://", *flags]) == 2
    assert expected in capsys.readouterr().err
    assert main(["serve", "--worker", "--mongodb-uri", "memory://", *flags]) == 2
    assert expected in capsys.readouterr().err


def test_serve_refuses_a_worker_in_read_only_mode(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    fake_runner_module(monkeypatch, lambda *_: pytest.fail("a read-only server builds no runner"))
    assert main(["serve", "--worker", "--read-only", "--mongodb-uri", "memory://"]) == 2
    assert "--worker cannot run with --read-only" in capsys.readouterr().err


def test_sigterm_stops_the_worker_gracefully_and_hands_the_running_job_back() -> None:
    seen: dict[str, Any] = {}

    async def scenario() -> int:
        async def build(_settings: Settings, services: Services) -> StubRunner:
            jobs = FaceFusionJobRepository(services.database)
            seen["jobs"], seen["job"] = jobs, await jobs.insert(new_job(operation("https://in.test/a.png")))
            runner = StubRunner(services.database.media, gate=anyio.Event())
            original = runner.run_operation

            async def run_then_get_terminated(*args: Any, **kwargs: Any) -> Any:
                os.kill(os.getpid(), signal.SIGTERM)  # the worker's signal receiver is installed by now
                return await original(*args, **kwargs)

            runner.run_operation = run_then_get_terminated  # type: ignore[method-assign]
            seen["runner"] = runner
            return runner

        options = WorkerOptions(name="cli", queues=("facefusion",))
        code = await run_worker(Settings(mongodb_uri="memory://"), options, runner_factory=build)
        seen["after"] = await seen["jobs"].get(seen["job"].id)
        return code

    assert anyio.run(scenario) == 0
    after: FaceFusionJob = seen["after"]
    assert (after.status, after.attempts, after.lease_owner) == ("queued", 0, None)
    assert seen["runner"].cancelled == ["https://in.test/a.png"]


def test_serve_with_a_worker_exits_2_naming_facefusion_path_when_facefusion_is_not_configured() -> None:
    env = {k: v for k, v in os.environ.items() if k != "FACEFUSION_PATH"}
    proc = subprocess.run([sys.executable, "-m", "mcp_storyboard", "serve", "--worker", "--queue", "facefusion",
                           "--mongodb-uri", "memory://"],
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, env=env)
    assert proc.returncode == 2
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"mcp-storyboard: {NOT_CONFIGURED}")


async def test_serve_with_a_worker_runs_jobs_while_the_services_are_open(monkeypatch: pytest.MonkeyPatch) -> None:
    runners: list[StubRunner] = []

    def build(_settings: Settings, services: Services) -> StubRunner:
        runners.append(StubRunner(services.database.media))
        return runners[-1]

    fake_runner_module(monkeypatch, build)
    settings = Settings(mongodb_uri="memory://")
    factory = with_worker(lambda: open_services(settings), settings, WorkerOptions(name="inproc"),
                          generation_runner_factory=lambda *_: StubPromptRunner())
    async with factory() as services:
        jobs = FaceFusionJobRepository(services.database)
        job = await jobs.insert(new_job(operation("https://in.test/a.png")))

        async def completed() -> bool:
            return (await jobs.get(job.id)).status == "completed"

        await wait_until(completed, seconds=60)
    assert runners[0].started == ["https://in.test/a.png"]


def test_without_facefusion_the_worker_runs_generation_only_and_sigterm_hands_the_running_batch_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("FACEFUSION_PATH", raising=False)
    seen: dict[str, Any] = {}

    async def scenario() -> int:
        with serve_fake_comfyui() as comfy:

            async def build(_settings: Settings, services: Services) -> StubPromptRunner:
                project = await seed_project(services)
                clip = await seed_clip(services, project)
                await services.comfyui.register("Local", comfy.url)  # the worker's own check brings it online
                batches = GenerationBatchRepository(services.database)
                seen["batches"], seen["clip"] = batches, clip.id
                seen["batch"] = await batches.insert(new_batch(project, [item(clip.id)]))

                def terminated_once_running(*_: Any) -> None:
                    os.kill(os.getpid(), signal.SIGTERM)  # the worker's signal receiver is installed by now
                    return None

                seen["runner"] = StubPromptRunner(gate=anyio.Event(), outcome=terminated_once_running)
                return seen["runner"]

            def ready(workers: list[Any]) -> None:
                seen["workers"] = [type(worker).__name__ for worker in workers]

            code = await run_worker(Settings(mongodb_uri="memory://"), WorkerOptions(name="gen"),
                                    generation_runner_factory=build, ready=ready)
            seen["after"] = await seen["batches"].get(seen["batch"].id)
            return code

    assert anyio.run(scenario) == 0
    assert seen["workers"] == ["GenerationWorker", "RenderWorker"]  # PyAV (the render extra) is installed for tests
    assert "FaceFusion jobs are not run by this worker: FACEFUSION_PATH is not set" in caplog.text
    after: GenerationBatch = seen["after"]
    assert (after.status, after.attempts, after.lease_owner, after.running) == ("queued", 0, None, [])
    assert seen["runner"].cancelled == [seen["clip"]]
