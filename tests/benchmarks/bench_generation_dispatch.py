"""Dispatch overhead per generation item against the fake ComfyUI (real HTTP on 127.0.0.1): the runner
(``ComfyUIPromptRunner.run``: build the graph, submit, poll ``/history``, download through ``/view``) against the
floor, a direct ``httpx2`` submit + poll + view of the same graph on one open client. Each round runs every path
once, in turn, on items with fresh seeds, so the paths share the machine's state. Prints medians and ratios to
the floor; asserts nothing.

The fake ends a prompt at its first ``/history`` poll (``--polls`` makes it answer ``{}`` that many times first),
so the figures are the cost of the calls, not of rendering. Two runner rows: its default poll schedule (a first
wait before the first poll) and a schedule that polls at once (pure HTTP and parsing overhead).

The worker row (``--worker``) runs one item the whole way on the embedded server: insert a one-item batch, wake
the idle generation worker (as the batches' change stream does), let it claim the batch, dispatch it to the fake
with the runner (polling at once), store the PNG in GridFS, add it to the clip's gallery, record the result and
finish the batch; timed until the finished batch is announced. More paths: append a ``PathFactory`` to
``EXTRA_PATHS`` or pass ``--path module:function``.

    .venv/bin/python -m tests.benchmarks.bench_generation_dispatch [--rounds 50] [--polls 0] [--worker] [--path mod:fn]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2

from mcp_storyboard.integrations.comfyui import ComfyUIPromptRunner, PollSchedule
from mcp_storyboard.integrations.comfyui.graph import build_graph
from mcp_storyboard.models.generation import ComfyUIServer, GenerationItem
from tests.fakes.comfyui import FakeComfyUI, serve_fake_comfyui
from tests.integrations.comfyui.items import image_item

Work = Callable[[GenerationItem], Awaitable[object]]
"""One item, end to end."""


@dataclass(frozen=True)
class Setup:
    """What a path may use: the fake's URL and the server document pointing at it."""

    url: str
    server: ComfyUIServer


PathFactory = Callable[[Setup], Awaitable[tuple[str, Work]]]
"""Builds a named path once (open clients, databases...) before the rounds start."""
EXTRA_PATHS: list[PathFactory] = []
"""More paths to time, e.g. the generation worker's (see the module docstring)."""


async def direct_path(setup: Setup, http: httpx2.AsyncClient) -> Work:
    async def direct(item: GenerationItem) -> None:
        graph = build_graph(item, filename_prefix=f"storyboard/{item.clip_id}")
        answer = await http.post("/api/prompt", json={"prompt": graph, "client_id": "bench"})
        prompt_id = answer.json()["prompt_id"]
        while not (entry := (await http.get(f"/api/history/{prompt_id}")).json()):
            pass
        for output in entry[prompt_id]["outputs"].values():
            for file in output["images"]:
                assert (await http.get("/api/view", params=file)).content
    return direct


def runner_path(setup: Setup, poll: PollSchedule) -> Work:
    runner = ComfyUIPromptRunner(poll=poll)

    async def submitted(prompt_id: str) -> None:
        pass

    async def through_runner(item: GenerationItem) -> None:
        assert await runner.run(setup.server, item, client_id="bench", on_submitted=submitted)
    return through_runner


@asynccontextmanager
async def embedded_worker(setup: Setup) -> AsyncIterator[tuple[str, Work]]:
    """The generation worker's path (see the module notes) on a throwaway embedded server."""
    from mcp_storyboard.config import Settings
    from mcp_storyboard.db.connection import open_database
    from mcp_storyboard.db.embedded import EmbeddedServer
    from mcp_storyboard.db.indexes import ensure_indexes
    from mcp_storyboard.models import Clip, Project, Scene
    from mcp_storyboard.models.generation import GenerationBatch
    from mcp_storyboard.services.container import Services
    from mcp_storyboard.services.generation.worker import GenerationWorker

    with tempfile.TemporaryDirectory() as data:
        embedded = EmbeddedServer(Path(data))
        uri = embedded.start()
        db = await open_database(Settings(mongodb_uri=uri, db_name="bench_dispatch"), uri=uri, backend="embedded")
        try:
            await ensure_indexes(db)
            services = Services.over(db)
            repos = services.repositories
            server = await services.comfyui.register("bench", setup.url, is_active=True)
            await services.comfyui.check(server.id)
            project = await repos.projects.insert(Project(name="Bench"))
            scene = await repos.scenes.insert(Scene(project_id=project.id, name="Scene"))
            finished: dict[str, anyio.Event] = {}

            async def on_change(batch: GenerationBatch) -> None:
                if batch.status in ("completed", "failed", "partial") and batch.id in finished:
                    finished[batch.id].set()

            runner = ComfyUIPromptRunner(poll=PollSchedule(first=0.0, factor=1.0, most=0.0))
            worker = GenerationWorker(repos, runner, worker_name="bench", check_seconds=None, on_change=on_change)

            async def through_worker(item: GenerationItem) -> None:
                clip = await repos.clips.insert(Clip(project_id=project.id, scene_id=scene.id, name="Shot"))
                one = item.model_copy(update={"clip_id": clip.id})
                batch = GenerationBatch(project_id=project.id, items=[one], total_jobs=1)
                finished[batch.id] = anyio.Event()
                await services.generation.batches.insert(batch)
                worker.wake()
                await finished[batch.id].wait()
                assert (await services.generation.get(batch.id)).status == "completed"

            async with anyio.create_task_group() as tg:
                tg.start_soon(worker.run)
                try:
                    yield "generation worker (embedded)", through_worker
                finally:
                    worker.stop()
        finally:
            await db.close()
            embedded.stop()


def fresh_item() -> GenerationItem:
    """A new seed each time: a real ComfyUI serves an identical graph from its cache."""
    return image_item(seed=uuid.uuid4().int % 2**62)


async def main(rounds: int, polls: int, extra: list[PathFactory], with_worker: bool) -> None:
    with serve_fake_comfyui(FakeComfyUI(runs_after_polls=polls)) as fake:
        setup = Setup(fake.url, ComfyUIServer(name="bench", url=fake.url))
        async with AsyncExitStack() as stack:
            http = await stack.enter_async_context(httpx2.AsyncClient(base_url=fake.url, trust_env=False, timeout=30))
            paths: list[tuple[str, Work]] = [
                ("direct httpx (floor)", await direct_path(setup, http)),
                ("runner, polls at once", runner_path(setup, PollSchedule(first=0.0, factor=1.0, most=0.0))),
                (f"runner, default (first poll +{PollSchedule().first * 1000:g} ms)",
                 runner_path(setup, PollSchedule())),
            ]
            paths += [await factory(setup) for factory in extra]
            if with_worker:
                paths.append(await stack.enter_async_context(embedded_worker(setup)))
            for _, work in paths:  # warm up connections, imports and caches
                await work(fresh_item())
            times: dict[str, list[float]] = {name: [] for name, _ in paths}
            for _ in range(rounds):
                for name, work in paths:
                    item = fresh_item()
                    start = time.perf_counter()
                    await work(item)
                    times[name].append((time.perf_counter() - start) * 1000)
    floor = statistics.median(times[paths[0][0]])
    print(f"{rounds} rounds; the fake ends a prompt after {polls} empty /history polls")
    print(f"{'path':<40} {'median ms':>10} {'p90 ms':>8} {'ratio':>6} {'overhead ms':>12}")
    for name, samples in times.items():
        median = statistics.median(samples)
        p90 = statistics.quantiles(samples, n=10)[-1] if len(samples) > 1 else median
        print(f"{name:<40} {median:>10.2f} {p90:>8.2f} {median / floor:>6.2f} {median - floor:>12.2f}")


def load_path(spec: str) -> PathFactory:
    module, _, function = spec.partition(":")
    factory: PathFactory = getattr(importlib.import_module(module), function)
    return factory


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--polls", type=int, default=0, help="empty /history answers before a prompt ends")
    parser.add_argument("--path", action="append", default=[], help="module:function returning a PathFactory result")
    parser.add_argument("--worker", action="store_true", help="also time the generation worker on the embedded server")
    arguments = parser.parse_args()
    anyio.run(main, arguments.rounds, arguments.polls, EXTRA_PATHS + [load_path(p) for p in arguments.path],
              arguments.worker)
