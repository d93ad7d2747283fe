"""The worker command runs render jobs by default where PyAV is installed, leaves them (with a warning) where it is
not, and refuses ``--queue render`` without it, naming the extra."""

from __future__ import annotations

import sys

import pytest

from mcp_storyboard.cli_worker import WorkerOptions, build_workers
from mcp_storyboard.config import Settings
from mcp_storyboard.errors import ConfigError
from mcp_storyboard.services.container import Services
from tests.workers.generation_stubs import StubPromptRunner


def stub_runner(*_: object) -> StubPromptRunner:
    return StubPromptRunner()


async def test_the_render_queue_runs_by_default_and_alone_on_request(services: Services) -> None:
    settings = Settings(mongodb_uri="memory://")
    default = await build_workers(settings, services, WorkerOptions(name="w"), generation_runner_factory=stub_runner,
                                  runner_factory=stub_runner)
    assert "RenderWorker" in [type(w).__name__ for w in default]
    alone = await build_workers(settings, services, WorkerOptions(name="w", queues=("render",)))
    assert [type(w).__name__ for w in alone] == ["RenderWorker"]
    assert alone[0].queue.name == "render_jobs"


async def test_without_pyav_render_jobs_are_left_with_a_warning_and_asking_for_them_fails(
    services: Services, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "av", None)  # import av now raises ImportError
    settings = Settings(mongodb_uri="memory://")
    default = await build_workers(settings, services, WorkerOptions(name="w"), generation_runner_factory=stub_runner)
    assert "RenderWorker" not in [type(w).__name__ for w in default]
    assert "PyAV is not installed" in caplog.text
    with pytest.raises(ConfigError) as refused:
        await build_workers(settings, services, WorkerOptions(name="w", queues=("render",)))
    assert "render" in refused.value.message and "[render]" in (refused.value.hint or "")


async def test_the_render_worker_takes_the_servers_notification_hook(services: Services) -> None:
    async def hook(job: object) -> None: ...

    settings = Settings(mongodb_uri="memory://")
    workers = await build_workers(settings, services, WorkerOptions(name="w", queues=("render",)),
                                  on_render_change=hook)  # type: ignore[arg-type]
    assert workers[0].on_change is hook
